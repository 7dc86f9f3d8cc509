"""Validation and normalisation of what a member types on my page (pure; messages are msgids)."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from portal.members.messages import N_

_POSTCODE_NL = re.compile(r"^\s*([1-9][0-9]{3})\s?([A-Za-z]{2})\s*$")
_SUFFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-/]{0,9}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_TAGS = 20
MAX_TAG_LENGTH = 60


class InvalidValue(ValueError):
    """A value was refused; `str(error)` is an English msgid to translate and show at the field."""


def phone_e164(raw: str, *, region: str = "NL") -> str:
    """'06-12345678' -> '+31612345678'; an empty value stays empty; anything unparseable is refused."""
    text = raw.strip()
    if not text:
        return ""
    if len(text) > 32 or _CONTROL.search(text):
        raise InvalidValue(N_("Enter a phone number such as 06 12345678 or +31 20 1234567."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidValue(N_("Enter a phone number such as 06 12345678 or +31 20 1234567.")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValue(N_("This phone number does not exist. Check the digits."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mobile_e164(raw: str, *, region: str = "NL") -> str:
    """A mobile number in E.164; a Dutch landline is refused here."""
    value = phone_e164(raw, region=region)
    if value:
        kind = phonenumbers.number_type(phonenumbers.parse(value))
        if kind not in {
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        }:
            raise InvalidValue(N_("This is not a mobile number. Put it under phone instead."))
    return value


def phone_display(value: str) -> str:
    """'+31612345678' -> '+31 6 12345678' (international format), or the value as stored."""
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def email_address(raw: str) -> str:
    """A normalised e-mail address (syntax only: no DNS lookups in a request); empty stays empty."""
    text = raw.strip()
    if not text:
        return ""
    if len(text) > 254:
        raise InvalidValue(N_("Enter an e-mail address such as name@example.nl."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidValue(N_("Enter an e-mail address such as name@example.nl.")) from None
    return result.normalized.lower()


def postcode(raw: str, *, country: str = "NL") -> str:
    """A Dutch postcode as '1234 AB'; other countries' postcodes trimmed and bounded."""
    text = raw.strip()
    if country != "NL":
        if len(text) > 16 or _CONTROL.search(text):
            raise InvalidValue(N_("Enter a postcode of at most 16 characters."))
        return text.upper()
    match = _POSTCODE_NL.match(text)
    if not match:
        raise InvalidValue(N_("Enter a postcode such as 1234 AB."))
    return f"{match.group(1)} {match.group(2).upper()}"


def house_number(raw: str) -> int:
    """A house number 1–99999."""
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= 99999:
        raise InvalidValue(N_("Enter the house number as digits, such as 12. Put letters under addition."))
    return int(text)


def house_number_suffix(raw: str) -> str:
    """An addition such as 'A', 'bis', '2-hoog'; empty is fine."""
    text = raw.strip()
    if text and not _SUFFIX.match(text):
        raise InvalidValue(N_("An addition is at most 10 letters or digits, such as A or 2-hoog."))
    return text


def plain_text(raw: str, *, max_length: int, required: bool = False) -> str:
    """One line of text without control characters, trimmed."""
    text = " ".join(raw.split())
    if required and not text:
        raise InvalidValue(N_("This field is required."))
    if len(text) > max_length or _CONTROL.search(
        raw.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    ):
        raise InvalidValue(N_("This text is too long."))
    return text


def tags(raw: str) -> list[str]:
    """Interests or competences typed one per line or separated by commas; duplicates dropped."""
    found: list[str] = []
    for part in re.split(r"[,\n;]", raw):
        text = " ".join(part.split())
        if not text:
            continue
        if len(text) > MAX_TAG_LENGTH or _CONTROL.search(text):
            raise InvalidValue(N_("Each interest or competence is at most 60 characters."))
        if text.casefold() not in {item.casefold() for item in found}:
            found.append(text)
    if len(found) > MAX_TAGS:
        raise InvalidValue(N_("Name at most 20 interests or competences."))
    return found
