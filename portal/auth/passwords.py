"""Password rules (pure): length, a bundled common-password list and party/place words; no composition.

ASVS 6.2.1/6.2.4/6.2.5/6.2.9/6.2.11, NIST 800-63B §5.1.1.2. The common list is zxcvbn's bundled
frequency list of 30,000 passwords; zxcvbn's guess estimate, fed with the org unit names of the
replica, catches "Utrecht2026D66"-style passwords.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 1024  # far above the 64 ASVS asks for; bounds the work of one hash
MIN_GUESSES = 10**10  # zxcvbn's estimate below which a password counts as easy to guess
_ANALYSED = 72  # zxcvbn refuses longer input; the start of a long password is what a guesser tries first
PARTY_WORDS = ("d66", "democraten", "democraten66", "ledenportaal", "partij", "afdeling", "wachtwoord")
_WORD = re.compile(r"[0-9a-zà-ÿ]+")


@functools.cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def context_words(names: Iterable[str]) -> tuple[str, ...]:
    """Words a guesser would try for this party: its own name and the names of its regions and places."""
    words = set(PARTY_WORDS)
    for name in names:
        lowered = name.casefold()
        words.update(word for word in _WORD.findall(lowered) if len(word) >= 3)
        compact = "".join(_WORD.findall(lowered))
        if len(compact) >= 3:
            words.add(compact)
    return tuple(sorted(words))


def password_problem(password: str, words: Iterable[str] = ()) -> str | None:
    """None if acceptable, else why not: 'too_short', 'too_long', 'common' or 'guessable'."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    if password.casefold() in _common_passwords():
        return "common"
    estimate = zxcvbn(password[:_ANALYSED], user_inputs=list(words))
    if float(estimate["guesses"]) < MIN_GUESSES:
        return "guessable"
    return None
