"""Dutch personal names: display, sorting and search folding (pure)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^0-9a-z ]+")


def display_name(given_name: str, infix: str, family_name: str) -> str:
    """'Jan', 'de', 'Vries' -> 'Jan de Vries'."""
    return _SPACES.sub(" ", f"{given_name} {infix} {family_name}").strip()


def formal_name(given_name: str, infix: str, family_name: str) -> str:
    """The name as a list shows it, family name first: 'Vries, Jan de'."""
    tail = " ".join(part for part in (given_name, infix) if part)
    return f"{family_name}, {tail}" if tail else family_name


def fold(text: str) -> str:
    """Lower case without diacritics or punctuation, for comparisons: 'Öztürk-d'Hondt' -> 'ozturk d hondt'."""
    if text.isascii():  # most names: nothing to decompose (the pull folds 400,000 of them)
        stripped = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
        stripped = stripped.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("ı", "i")
    lowered = _NOT_WORD.sub(" ", stripped.casefold())
    return _SPACES.sub(" ", lowered).strip()


def sort_key(given_name: str, infix: str, family_name: str) -> str:
    """Dutch alphabetical order: by family name without the tussenvoegsel ('Jan de Vries' under V)."""
    return fold(f"{family_name} {given_name} {infix}")


def search_text(given_name: str, infix: str, family_name: str) -> str:
    """The folded words a name search matches against, family name first."""
    return fold(f"{family_name} {infix} {given_name}")
