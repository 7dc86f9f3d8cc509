"""The digital membership card: a signed token in a QR code, checked at the door (pure).

QR payload: `LP1:<token>`; token: `<member number>.<issued yyyymmdd>.<signature>` (itsdangerous HMAC-SHA256
with its own salt, so no other signed value of the portal can pass as a card). The token only says who;
whether the membership is current is checked against the replica when the card is scanned.
"""

from __future__ import annotations

import hashlib
from datetime import date

import segno
from itsdangerous import BadSignature, Signer

PAYLOAD_PREFIX = "LP1:"
_SALT = "ledenportaal.membership-card.v1"


class InvalidCard(ValueError):
    """The token was not made by this portal, was changed, or is not a card token at all."""


def _signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt=_SALT, sep=".", digest_method=hashlib.sha256)


def card_token(member_number: str, *, secret_key: str, issued_on: date) -> str:
    """A signed token naming the member: '1234567.20261122.<signature>'."""
    if not member_number or not member_number.isalnum():
        raise ValueError("a member number is letters and digits only")
    value = f"{member_number}.{issued_on:%Y%m%d}"
    return _signer(secret_key).sign(value).decode("ascii")


def verify_card_token(token: str, *, secret_key: str) -> str:
    """The member number in a token (a `LP1:` payload is accepted too); raises InvalidCard otherwise."""
    token = token.strip().removeprefix(PAYLOAD_PREFIX)
    try:
        value = _signer(secret_key).unsign(token.encode("ascii")).decode("ascii")
    except (BadSignature, UnicodeError) as error:
        raise InvalidCard("not a valid membership card") from error
    member_number, _, issued = value.partition(".")
    if not member_number or len(issued) != 8 or not issued.isdigit():
        raise InvalidCard("not a valid membership card")
    return member_number


def card_payload(token: str) -> str:
    """What the QR code holds."""
    return PAYLOAD_PREFIX + token


def qr_svg(payload: str, *, title: str) -> str:
    """The QR code as inline SVG markup (no external image, fits the CSP)."""
    qr = segno.make(payload, error="m")
    return qr.svg_inline(
        scale=6, border=2, title=title, svgclass="lp-card__qr", lineclass=None, omitsize=True
    )
