"""A member's record as plain values, and only the fields a viewer may see (pure).

Every page, JSON answer and export of member data builds its values here and passes them through
`portal.members.visibility.redact`, so a field the policy hides is absent, not blanked.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from portal.members.models import Member, Position

#: Fields in the order pages and exports show them (the policy's field names).
FIELD_ORDER: tuple[str, ...] = (
    "member_number", "given_name", "infix", "family_name", "email", "mobile", "phone", "street",
    "house_number", "house_number_suffix", "postcode", "city", "country", "birth_date", "branch_id",
    "status", "member_since", "member_until", "dues_paid_through", "positions", "interests", "competences",
    "directory_consent", "do_not_call", "do_not_email",
)  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def position_values(positions: Iterable[Position], on: date) -> list[dict[str, Any]]:
    """The member's current positions as plain values."""
    return [
        {"role": position.function.value, "body_id": position.org_unit_id, "body": position.org_unit.name}
        for position in positions
        if position.is_current(on)
    ]


def member_values(member: Member, *, on: date) -> dict[str, Any]:
    """Every policy field of a member as JSON-safe values (`positions` = current positions)."""
    values = {name: _plain(getattr(member, name)) for name in FIELD_ORDER if name != "positions"}
    values["positions"] = position_values(member.positions, on)
    return values


def visible_record(values: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """The record with only the allowed fields, in display order, plus the id (never a personal field)."""
    record: dict[str, Any] = {"id": values["id"]} if "id" in values else {}
    record.update({name: values[name] for name in FIELD_ORDER if name in allowed and name in values})
    return record


def export_columns(allowed: frozenset[str]) -> list[str]:
    """The columns of an officer's export: the visible fields, in display order."""
    return [name for name in FIELD_ORDER if name in allowed]


def export_row(values: Mapping[str, Any], columns: list[str]) -> list[Any]:
    """One export row; positions become 'role body' text."""
    row: list[Any] = []
    for name in columns:
        value = values.get(name)
        if name == "positions":
            value = [f"{item['role']} {item['body']}" for item in value or []]
        row.append(value)
    return row
