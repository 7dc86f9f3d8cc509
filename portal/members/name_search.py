"""Search terms for Dutch names (pure): what the index stores per member and how a query is read.

The index holds, per member, folded name words (prefix search), the tussenvoegsel joined to the family
name (`=vandenberg`, so "vandenb" finds "van den Berg"), a Dutch sound key per word (`~myer` for Meijer,
Meyer and Meier), and interests (`#klimaat`). Typo tolerance looks up every word one edit away from the
query word plus the query word's sound key: a few hundred exact B-tree lookups, the same on SQLite and
PostgreSQL, instead of a scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.members import names

KEY_MARK = "~"  # a Dutch sound key; sorts after every folded word, so prefix ranges never reach it
JOIN_MARK = "="  # tussenvoegsel + family name written as one word
INTEREST_MARK = "#"
MAX_TERM_LENGTH = 64
MIN_WORD_LENGTH = 2
FUZZY_MIN_LENGTH = 3
MAX_QUERY_WORDS = 4
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"

# Folded tussenvoegsel words: they are part of the name but not what people search by ("de Vries" -> V).
INFIX_WORDS = frozenset(
    {"aan", "bij", "d", "da", "de", "del", "della", "den", "der", "des", "di", "du", "het", "in", "l",
     "la", "le", "o", "op", "over", "s", "t", "te", "ten", "ter", "tot", "uit", "van", "voor", "von",
     "vom", "zu", "onder"}
)  # fmt: skip
# The longest first, so "vanden" wins over "van" when a query word starts with a joined tussenvoegsel.
JOINED_INFIXES = tuple(
    sorted(
        {"van", "vande", "vanden", "vander", "vant", "de", "den", "der", "ter", "ten", "te", "int",
         "opden", "opde", "uitden", "uitde", "dela", "du", "le", "la", "von"},
        key=len,
        reverse=True,
    )
)  # fmt: skip

# Dutch spellings that sound alike, rewritten in this order; doubled letters collapse afterwards.
_SOUND_RULES: tuple[tuple[str, str], ...] = (
    ("uij", "ui"), ("uy", "ui"), ("ij", "y"), ("ei", "y"), ("ey", "y"), ("sch", "s"), ("ch", "g"),
    ("ph", "f"), ("th", "t"), ("ck", "k"), ("dt", "t"), ("qu", "kw"), ("q", "k"), ("x", "ks"),
    ("ce", "se"), ("ci", "si"), ("c", "k"), ("z", "s"), ("v", "f"), ("au", "ou"), ("ae", "a"),
)  # fmt: skip
_DOUBLES = re.compile(r"(.)\1+")


def skeleton(word: str) -> str:
    """A Dutch sound key of a folded word: 'meijer', 'meyer', 'meier' -> 'myer'; 'vries' -> 'fries'."""
    key = word
    for spelling, sound in _SOUND_RULES:
        key = key.replace(spelling, sound)
    key = _DOUBLES.sub(r"\1", key)
    if key.endswith("d"):
        key = key[:-1] + "t"
    return key


def _words(text: str) -> list[str]:
    return [word[:MAX_TERM_LENGTH] for word in names.fold(text).split()]


def member_terms(
    given_name: str, infix: str, family_name: str, interests: list[str] | tuple[str, ...] = ()
) -> set[str]:
    """Every term the index keeps for one member."""
    family = _words(family_name)
    given = _words(given_name)
    terms: set[str] = set()
    for word in [*family, *given]:
        if len(word) >= MIN_WORD_LENGTH and (word not in INFIX_WORDS or len(family) == 1):
            terms.add(word)
            if len(word) >= FUZZY_MIN_LENGTH:
                terms.add(KEY_MARK + skeleton(word))
    joined = "".join(_words(infix) + family)
    if joined and (infix or len(family) > 1):
        terms.add(JOIN_MARK + joined[: MAX_TERM_LENGTH - 1])
    for interest in interests:
        folded = interest_term(interest)
        if folded:
            terms.add(folded)
    return terms


def interest_term(interest: str) -> str:
    """The index term of an interest or competence: '#klimaat en energie'."""
    folded = names.fold(interest)
    return (INTEREST_MARK + folded)[:MAX_TERM_LENGTH] if folded else ""


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """`(low, high)` such that `low <= term < high` holds exactly for terms starting with `prefix`."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def one_edit_away(word: str) -> set[str]:
    """Words one deletion, transposition, substitution or insertion away (Norvig's edits1)."""
    splits = [(word[:index], word[index:]) for index in range(len(word) + 1)]
    deletes = {left + right[1:] for left, right in splits if right}
    transposes = {left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1}
    replaces = {left + letter + right[1:] for left, right in splits if right for letter in _ALPHABET}
    inserts = {left + letter + right for left, right in splits for letter in _ALPHABET}
    candidates = deletes | transposes | replaces | inserts
    candidates.discard(word)
    return {candidate for candidate in candidates if len(candidate) >= MIN_WORD_LENGTH}


@dataclass(frozen=True)
class QueryWord:
    """One word of a name query: the prefix to match, and an alternative for a joined tussenvoegsel."""

    prefix: str
    joined_prefix: str = ""

    def fuzzy_terms(self) -> set[str]:
        """Exact terms that count as a misspelling of this word (empty for short words)."""
        if len(self.prefix) < FUZZY_MIN_LENGTH + 1:
            return set()
        return one_edit_away(self.prefix) | {KEY_MARK + skeleton(self.prefix)}


@dataclass(frozen=True)
class NameQuery:
    """A parsed name query; empty when nothing searchable is left."""

    words: tuple[QueryWord, ...]
    length: int

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to search for."""
        return not self.words


def parse_name_query(text: str) -> NameQuery:
    """Fold the query, drop tussenvoegsels when other words remain, keep at most four words."""
    words = [word for word in _words(text[:200]) if word]
    meaningful = [word for word in words if word not in INFIX_WORDS and len(word) >= MIN_WORD_LENGTH]
    chosen = meaningful or [word for word in words if len(word) >= MIN_WORD_LENGTH]
    query_words: list[QueryWord] = []
    for word in sorted(set(chosen), key=lambda item: (-len(item), item))[:MAX_QUERY_WORDS]:
        joined = ""
        for infix in JOINED_INFIXES:
            if word.startswith(infix) and len(word) >= len(infix) + MIN_WORD_LENGTH:
                joined = JOIN_MARK + word
                break
        query_words.append(QueryWord(prefix=word, joined_prefix=joined))
    return NameQuery(words=tuple(query_words), length=len("".join(words)))
