"""CRM records to replica rows (pure): normalisation, the row hash, and the fields the hash covers."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

import orjson
import phonenumbers

from crm_sync.ports import CrmMember, CrmPosition, FieldConflict, MemberChange
from portal.members import names

# The replica columns a pull writes; everything else on `members` belongs to the portal.
MEMBER_FIELDS = (
    "member_number", "given_name", "infix", "family_name", "email", "mobile", "phone", "street",
    "house_number", "house_number_suffix", "postcode", "city", "country", "birth_date", "status",
    "member_since", "member_until", "dues_paid_through", "do_not_call", "do_not_email",
    "directory_consent", "interests", "competences",
)  # fmt: skip

# The replica fields a portal edit may change and the push delivers; the rest belongs to the CRM
# (member number, membership status and dates, home branch) or to the portal itself.
EDITABLE_FIELDS = frozenset({
    "given_name", "infix", "family_name", "email", "mobile", "phone", "street", "house_number",
    "house_number_suffix", "postcode", "city", "country", "birth_date", "do_not_call", "do_not_email",
    "directory_consent", "interests", "competences",
})  # fmt: skip
_TEXT_FIELDS = frozenset({"given_name", "infix", "family_name", "street", "house_number_suffix", "city"})
_FLAG_FIELDS = frozenset({"do_not_call", "do_not_email", "directory_consent"})

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
    # orjson writes dates as ISO text and enums by value: the same canonical form as `plain`, but fast.
    canonical = {name: values[name] for name in MEMBER_FIELDS}
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


def canonical_edit(name: str, value: Any, *, country: str = "NL") -> Any:
    """An edited value in the form the pull would store it, so a pushed edit reads back unchanged."""
    if name in _TEXT_FIELDS:
        return str(value or "").strip()
    if name == "email":
        return str(value or "").strip().lower()
    if name in {"mobile", "phone"}:
        return normalise_phone(str(value or ""), country or "NL")
    if name == "postcode":
        return normalise_postcode(str(value or ""), country or "NL")
    if name == "country":
        return (str(value or "") or "NL").strip().upper()
    if name in _FLAG_FIELDS:
        return bool(value)
    if name in {"interests", "competences"}:
        return sorted({str(item).strip() for item in value or () if str(item).strip()})
    return value


def plain(value: Any) -> Any:
    """A JSON form of a replica value (dates as ISO text, enums by value) for payloads and comparisons."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return _canonical(value)


def replica_values(member: Any) -> dict[str, Any]:
    """The mapped fields of a replica row (ORM object or row), as `member_values` produces them."""
    return {name: getattr(member, name) for name in MEMBER_FIELDS}


def compare_for_push(
    change: MemberChange, current: dict[str, Any]
) -> tuple[list[FieldConflict], dict[str, Any]]:
    """Per field: skip what the CRM already holds, write what it still holds as the portal saw it, and
    call anything else a conflict (unless an admin forces the change). All values in `plain` form."""
    conflicts: list[FieldConflict] = []
    due: dict[str, Any] = {}
    for name, value in change.values.items():
        crm_value, base = current.get(name), change.previous.get(name)
        if crm_value == value:
            continue
        if crm_value != base and not change.force:
            conflicts.append(FieldConflict(name, crm_value, value, base))
        else:
            due[name] = value
    return conflicts, due
