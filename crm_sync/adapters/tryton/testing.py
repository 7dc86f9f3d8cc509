"""Test support: a real trytond (SQLite, loopback) in a subprocess, and a small party seeded into it.

trytond runs from its own virtualenv (`instance/tryton-venv`, built from PyPI on first use and reused),
as it would in production: the portal's environment has `email-validator`, which would make trytond
check every e-mail domain in the DNS (impossible offline). Creating a database takes a few seconds;
tests prepare one template per session and give every test its own copy.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import requests

from crm_sync.adapters.tryton.client import TrytonClient
from crm_sync.adapters.tryton.vocabulary import (
    LEVEL_ROOT,
    MEMBER_OF,
    PART_OF,
    PREFERENCE_ROOT,
    STATUS_ROOT,
    UNIT_ROOT,
    Vocabulary,
    ensure_vocabulary,
)
from portal.members import names

ADMIN_PASSWORD = "admin-secret-1"  # noqa: S105 - a throw-away test server on loopback
GIVEN = ["Jan", "Anna", "Piet", "Fatima", "Kees", "Sanne", "Mohamed", "Eva", "Daan", "Lotte"]
FAMILY = [
    ("", "Jansen"),
    ("de", "Vries"),
    ("van der", "Berg"),
    ("", "Bakker"),
    ("van", "Dijk"),
    ("", "Yilmaz"),
]


TRYTON_PACKAGES = ("trytond==8.2.*", "trytond-party==8.2.*", "trytond-party-relationship==8.2.*")
_bin: Path | None = None


def ensure_trytond(venv: Path) -> Path:
    """Build (once) a virtualenv with trytond and the party modules; returns its `bin` folder."""
    global _bin
    marker = venv / ".installed"
    wanted = " ".join(TRYTON_PACKAGES)
    if not (marker.exists() and marker.read_text() == wanted):
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)  # noqa: S603
        installed = subprocess.run(  # noqa: S603 - pip with fixed package names
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *TRYTON_PACKAGES],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if installed.returncode != 0:
            raise RuntimeError(f"installing trytond failed:\n{installed.stderr[-2000:]}")
        marker.write_text(wanted)
    _bin = venv / "bin"
    return _bin


def executable(name: str) -> str:
    """A trytond script from the venv `ensure_trytond` built."""
    if _bin is None:
        raise RuntimeError("call ensure_trytond(venv) first")
    return str(_bin / name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int) -> Path:
    path = folder / "trytond.conf"
    path.write_text(
        f"[database]\nuri = sqlite://\npath = {folder / 'db'}\n\n[web]\nlisten = 127.0.0.1:{port}\n\n"
        "[session]\ntimeout = 300\n"
    )
    return path


def _environment(folder: Path) -> dict[str, str]:
    password_file = folder / "adminpass"
    password_file.write_text(ADMIN_PASSWORD + "\n")
    return {**os.environ, "TRYTONPASSFILE": str(password_file)}


def prepare_database(folder: Path, *, database: str = "crm") -> Path:
    """Create a Tryton database with `party` and `party_relationship` in `folder` (about 7 s)."""
    (folder / "db").mkdir(parents=True, exist_ok=True)
    (folder / "db" / f"{database}.sqlite").touch()
    config, env = _config(folder, _free_port()), _environment(folder)
    admin = executable("trytond-admin")
    subprocess.run(  # noqa: S603 - our own fixed command line
        [admin, "-c", str(config), "-d", database, "--all"],
        input="\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    subprocess.run(  # noqa: S603
        [admin, "-c", str(config), "-d", database, "-u", "party_relationship", "--activate-dependencies"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder / "db" / f"{database}.sqlite"


@dataclass(frozen=True)
class TrytondHandle:
    """A running trytond: where it listens and how to log in."""

    url: str
    database: str
    username: str
    password: str
    folder: Path

    def client(self) -> TrytonClient:
        """A fresh client logged in as the admin (on first call)."""
        return TrytonClient(self.url, database=self.database, username=self.username, password=self.password)


@contextmanager
def running_trytond(folder: Path, *, database: str = "crm") -> Iterator[TrytondHandle]:
    """Serve the database in `folder` on a free loopback port until the block ends."""
    port = _free_port()
    config = _config(folder, port)
    log = (folder / "trytond.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own test server
        [executable("trytond"), "-c", str(config), "-d", database],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_environment(folder),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/", timeout=2)  # any HTTP answer: the server listens
                break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"trytond did not start; see {folder / 'trytond.log'}")
            time.sleep(0.2)
        yield TrytondHandle(url, database, "admin", ADMIN_PASSWORD, folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _relation(type_id: int, to: int, start: date, end: date | None = None) -> dict[str, Any]:
    return {"to": to, "type": type_id, "start_date": start, "end_date": end}


def seed_party(client: TrytonClient, *, members: int = 24) -> dict[str, list[int]]:
    """A small party: national, two regions, three branches, members with contact details and boards."""
    vocabulary = ensure_vocabulary(client)
    country = client.call("model.country.country.create", [{"name": "Netherlands", "code": "NL"}], {})[0]
    unit_ids = _seed_units(client, vocabulary)
    member_of = vocabulary.relation_type(MEMBER_OF[0])
    statuses = list(vocabulary.under(STATUS_ROOT))
    consent = vocabulary.category(PREFERENCE_ROOT, "Ledengids")
    records = []
    for index in range(members):
        infix, family = FAMILY[index % len(FAMILY)]
        branch = unit_ids["branches"][index % len(unit_ids["branches"])]
        status = statuses[1] if index % 6 else statuses[3]  # mostly "Actief", some "Vervallen"
        categories = [status] + ([consent] if index % 2 and consent else [])
        records.append(
            {
                "name": names.formal_name(GIVEN[index % len(GIVEN)], infix, family),
                "code": f"{900100 + index}",
                "categories": [["add", categories]],
                "contact_mechanisms": [
                    [
                        "create",
                        [
                            {"type": "email", "value": f"lid{index}@example.nl"},
                            {"type": "mobile", "value": f"+3161234{index:04d}"},
                        ],
                    ]
                ],
                "addresses": [
                    [
                        "create",
                        [
                            {
                                "street_name": "Dorpsstraat",
                                "building_number": str(index + 1),
                                "postal_code": "3511 AB",
                                "city": "Utrecht",
                                "country": country,
                            }
                        ],
                    ]
                ],
                "relations": [["create", [_relation(member_of, branch, date(2015 + index % 8, 1, 1))]]],
            }
        )
    member_ids = client.call("model.party.party.create", records, {})
    chair = vocabulary.relation_type("Voorzitter van")
    for position, branch in enumerate(unit_ids["branches"]):
        client.call(
            "model.party.party.write",
            [member_ids[position]],
            {"relations": [["create", [_relation(chair, branch, date(2023, 1, 1))]]]},
            {},
        )
    return {**unit_ids, "members": member_ids}


def _seed_units(client: TrytonClient, vocabulary: Vocabulary) -> dict[str, list[int]]:
    def unit(name: str, code: str, kind: str, level: str, parent: int | None) -> int:
        categories = [vocabulary.category(UNIT_ROOT, kind), vocabulary.category(LEVEL_ROOT, level)]
        values: dict[str, Any] = {"name": name, "code": code, "categories": [["add", categories]]}
        if parent is not None:
            values["relations"] = [
                ["create", [_relation(vocabulary.relation_type(PART_OF[0]), parent, date(2000, 1, 1))]]
            ]
        return int(client.call("model.party.party.create", [values], {})[0])

    national = unit("D66 Nederland", "NL", "Landelijk", "landelijk", None)
    regions = [
        unit("Regio Utrecht", "UT", "Regio", "regionaal", national),
        unit("Regio Noord-Holland", "NH", "Regio", "regionaal", national),
    ]
    branches = [
        unit("Afdeling Utrecht", "GM0344", "Afdeling", "lokaal", regions[0]),
        unit("Afdeling Amersfoort", "GM0307", "Afdeling", "lokaal", regions[0]),
        unit("Afdeling Haarlem", "GM0392", "Afdeling", "lokaal", regions[1]),
    ]
    return {"national": [national], "regions": regions, "branches": branches}
