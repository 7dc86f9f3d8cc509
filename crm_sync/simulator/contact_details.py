"""Generated contact details: name formatting, e-mail addresses, phone numbers, street addresses."""

import unicodedata
from collections.abc import Callable
from functools import lru_cache

from crm_sync.simulator.data.places import (
    AREA_CODES,
    FORBIDDEN_POSTCODE_LETTERS,
    HOUSE_NUMBER_SUFFIXES,
    MAIL_DOMAINS,
    STREET_STEMS,
    STREET_SUFFIXES,
)

Random = Callable[[], float]
POSTCODE_LETTERS = "ABCDEFGHJKLMNPRSTVWXZ"


@lru_cache(maxsize=4096)
def ascii_slug(text: str) -> str:
    """Fold a name to lowercase ASCII letters and digits, for e-mail local parts."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def display_and_sort_name(first: str | None, middle: str | None, last: str | None) -> tuple[str, str]:
    """Return ("Jan de Vries", "Vries, Jan de") the way the party's CiviCRM formats names."""
    display = " ".join(part for part in (first, middle, last) if part)
    given = " ".join(part for part in (first, middle) if part)
    sort = f"{last}, {given}" if last and given else (last or given)
    return display, sort


def make_email(rand: Random, used: set[str], first: str, middle: str | None, last: str, birth: str) -> str:
    """Return a plausible personal address not yet in `used` (and add it there)."""
    given, family = ascii_slug(first), ascii_slug((middle or "") + last)
    roll = rand()
    if roll < 0.4:
        local = f"{given}.{family}"
    elif roll < 0.6:
        local = f"{given[:1]}.{family}"
    elif roll < 0.8:
        local = f"{given}{family}{birth[2:4]}"
    else:
        local = f"{given}_{family}{int(rand() * 1000)}"
    address = f"{local}@{MAIL_DOMAINS[int(rand() * len(MAIL_DOMAINS))]}"
    while address in used:
        address = f"{local}{int(rand() * 10000)}@{MAIL_DOMAINS[int(rand() * len(MAIL_DOMAINS))]}"
    used.add(address)
    return address


def make_phone(rand: Random) -> tuple[str, str, int]:
    """Return (phone as typed, digits only, phone type id): mostly mobiles in several notations."""
    digits = f"{int(rand() * 100_000_000):08d}"
    roll = rand()
    if roll < 0.07:
        area = AREA_CODES[int(rand() * len(AREA_CODES))]
        phone, kind = f"{area}-{digits[: 10 - len(area)]}", 1
    elif roll < 0.52:
        phone, kind = f"06-{digits}", 2
    elif roll < 0.87:
        phone, kind = f"+316{digits}", 2
    else:
        phone, kind = f"06{digits}", 2
    return phone, "".join(ch for ch in phone if ch.isdigit()), kind


def make_postcode(rand: Random, start: int, span: int) -> str:
    """Return "1234 AB" within [start, start + span), never with the letters SS, SA or SD."""
    letters = "SS"
    while letters in FORBIDDEN_POSTCODE_LETTERS:
        letters = POSTCODE_LETTERS[int(rand() * 21)] + POSTCODE_LETTERS[int(rand() * 21)]
    return f"{min(9999, start + int(rand() * span))} {letters}"


def make_street(rand: Random) -> tuple[str, int, str | None, str]:
    """Return (street name, house number, suffix or None, street_address)."""
    street = (
        STREET_STEMS[int(rand() * len(STREET_STEMS))] + STREET_SUFFIXES[int(rand() * len(STREET_SUFFIXES))]
    )
    number = 1 + int(rand() ** 2 * 240)
    suffix = HOUSE_NUMBER_SUFFIXES[int(rand() * len(HOUSE_NUMBER_SUFFIXES))] if rand() < 0.08 else None
    if suffix is None:
        street_address = f"{street} {number}"
    elif suffix.startswith("-"):
        street_address = f"{street} {number}{suffix}"
    else:
        street_address = f"{street} {number} {suffix}"
    return street, number, suffix, street_address
