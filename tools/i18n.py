"""Developer aid for the Dutch catalog.

    python tools/i18n.py build

extracts the English messages, merges them with the Dutch texts from
portal/translations/nl/fragments/*.json into messages.po, and lists what is missing.

Each feature keeps its Dutch texts in its own fragment ({"English msgid": "Nederlandse tekst"}), so features
can be written side by side without fighting over one .po file; messages.po is rebuilt from them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "instance" / "messages.pot"
PO = ROOT / "portal" / "translations" / "nl" / "LC_MESSAGES" / "messages.po"
FRAGMENTS = ROOT / "portal" / "translations" / "nl" / "fragments"
SOURCES = ["portal", "forms_engine", "cms_content", "audit", "crm_sync"]


def extract() -> None:
    POT.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(POT),
            *SOURCES,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def merge(translations: dict[str, str]) -> list[str]:
    with POT.open("rb") as handle:
        template = read_po(handle)
    with PO.open("rb") as handle:
        catalog = read_po(handle, locale="nl")
    catalog.update(template, no_fuzzy_matching=True)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in translations:
            message.string = translations[key]
        elif not message.string:
            missing.append(key)
    catalog.fuzzy = False
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True)
    return missing


def main(arguments: list[str]) -> int:
    if arguments != ["build"]:
        print(__doc__)
        return 2
    extract()
    translations: dict[str, str] = {}
    for fragment in sorted(FRAGMENTS.glob("*.json")):
        translations.update(json.loads(fragment.read_text(encoding="utf-8")))
    missing = merge(translations)
    for key in missing:
        print(f"missing: {key!r}")
    print(f"{len(missing)} messages without a Dutch translation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
