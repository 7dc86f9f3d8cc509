"""CRM records to replica rows (pure): normalisation, the row hash, and the fields the hash covers."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import orjson
import phonenumbers

from crm_sync.ports import CrmMember, CrmPosition
from portal.members import names

# The replica columns a pull writes; everything else on `members` belongs to the portal.
MEMBER_FIELDS = (
    "member_number", "given_name", "infix", "family_name", "email", "mobile", "phone", "street",
    "house_number", "house_number_suffix", "postcode", "city", "country", "birth_date", "status",
    "member_since", "member_until", "dues_paid_through", "do_not_call", "do_not_email",
    "directory_consent", "interests", "competences",
)  # fmt: skip

_DUTCH_MOBILE = re.compile(r"^(?:\+31|0031|0)[\s-]*6[\s-]*((?:\d[\s-]*){8})$")
_POSTCODE = re.compile(r"^\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*$")


def normalise_phone(raw: str, region: str = "NL") -> str:
    """E.164 where the number parses ('06-12345678' -> '+31612345678'); otherwise the text as given."""
    text = raw.strip()
    if not text:
        return ""
    quick = _DUTCH_MOBILE.match(text)
    if quick and region == "NL":
        return "+316" + re.sub(r"\D", "", quick.group(1))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_postcode(raw: str, country: str = "NL") -> str:
    """Dutch postcodes as '1234 AB'; other countries' as given."""
    if country != "NL":
        return raw.strip()
    match = _POSTCODE.match(raw)
    return f"{match.group(1)} {match.group(2).upper()}" if match else raw.strip()


def member_values(record: CrmMember) -> dict[str, Any]:
    """The replica values for a CRM member (without ids that need a lookup)."""
    return {
        "member_number": record.member_number,
        "given_name": record.given_name.strip(),
        "infix": record.infix.strip(),
        "family_name": record.family_name.strip(),
        "email": record.email.strip().lower(),
        "mobile": normalise_phone(record.mobile, record.country or "NL"),
        "phone": normalise_phone(record.phone, record.country or "NL"),
        "street": record.street.strip(),
        "house_number": record.house_number,
        "house_number_suffix": record.house_number_suffix.strip(),
        "postcode": normalise_postcode(record.postcode, record.country or "NL"),
        "city": record.city.strip(),
        "country": (record.country or "NL").upper(),
        "birth_date": record.birth_date,
        "status": record.status,
        "member_since": record.member_since,
        "member_until": record.member_until,
        "dues_paid_through": record.dues_paid_through,
        "do_not_call": record.do_not_call,
        "do_not_email": record.do_not_email,
        "directory_consent": record.directory_consent,
        "interests": sorted(record.interests),
        "competences": sorted(record.competences),
        "sort_name": names.sort_key(record.given_name, record.infix, record.family_name),
    }


def _canonical(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value"):
        return value.value
    return value


def row_hash(values: dict[str, Any], branch_crm_id: str | None, is_trashed: bool) -> str:
    """SHA-256 over the mapped fields, so an unchanged member costs no write."""
    canonical = {name: _canonical(values[name]) for name in MEMBER_FIELDS}
    canonical["branch"] = branch_crm_id
    canonical["trashed"] = is_trashed
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def position_values(record: CrmPosition) -> dict[str, Any]:
    """The replica values of a position (without the member and org unit ids)."""
    return {
        "function": record.function,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "public": record.public,
    }
