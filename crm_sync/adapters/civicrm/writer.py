"""The CiviCRM write path: compare each change with the CRM's current values, then write what is due.

A change whose fields the CRM changed since the edit is a conflict and is not written. The remaining
changes of a batch are written with one `save` per entity (Contact, Email, Phone, Address); a `save`
that fails is retried record by record, so one refused record does not hold back the others. Writes
carry absolute values and `match` keys, so delivering a change twice writes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_sync import mapping
from crm_sync.adapters.civicrm.client import CiviCrmClient
from crm_sync.adapters.civicrm.vocabulary import ADDRESS_FIELDS, CONTACT_FIELDS, PHONE_TYPES
from crm_sync.ports import (
    CrmCredentialsRefused,
    CrmError,
    CrmUnavailable,
    MemberChange,
    PushOutcome,
    PushResult,
)

CURRENT_SELECT = [
    "id",
    "is_deleted",
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "do_not_phone",
    "do_not_email",
    "is_opt_out",
    "email_primary.email",
    "address_primary.id",
    "address_primary.street_name",
    "address_primary.street_number",
    "address_primary.street_number_suffix",
    "address_primary.postal_code",
    "address_primary.city",
    "address_primary.country_id:abbr",
    "Party_Member.directory_consent",
    "Party_Member.interests",
    "Party_Member.competences",
]
# CiviCRM's own check (the simulator applies it too): refuse before sending, as a permanent error.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass
class _Contact:
    """A contact's current values in replica form, plus the row ids the writes need."""

    values: dict[str, Any]
    phone_ids: dict[str, int] = field(default_factory=dict)
    has_primary_phone: bool = False


@dataclass
class _Writes:
    """The batch's writes grouped per API call, each record tagged with its change's key."""

    calls: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, entity: str, action: str, key: str, record: dict[str, Any]) -> None:
        self.calls.setdefault((entity, action), []).append((key, record))


def _current(row: dict[str, Any], phones: list[dict[str, Any]]) -> _Contact:
    country = row.get("address_primary.country_id:abbr") or "NL"
    raw = {
        "given_name": row.get("first_name"),
        "infix": row.get("middle_name"),
        "family_name": row.get("last_name"),
        "birth_date": row.get("birth_date") or None,
        "do_not_call": row.get("do_not_phone"),
        "do_not_email": bool(row.get("do_not_email")) or bool(row.get("is_opt_out")),
        "email": row.get("email_primary.email"),
        "directory_consent": row.get("Party_Member.directory_consent"),
        "interests": row.get("Party_Member.interests") or [],
        "competences": row.get("Party_Member.competences") or [],
        "street": row.get("address_primary.street_name"),
        "house_number": row.get("address_primary.street_number"),
        "house_number_suffix": row.get("address_primary.street_number_suffix"),
        "postcode": row.get("address_primary.postal_code"),
        "city": row.get("address_primary.city"),
        "country": country,
        "mobile": "",
        "phone": "",
    }
    contact = _Contact({})
    for phone in sorted(phones, key=lambda p: (not p.get("is_primary"), p["id"])):
        kind = "mobile" if phone.get("phone_type_id:name") == "Mobile" else "phone"
        contact.has_primary_phone = contact.has_primary_phone or bool(phone.get("is_primary"))
        if kind not in contact.phone_ids:
            contact.phone_ids[kind] = int(phone["id"])
            raw[kind] = phone.get("phone") or ""
    contact.values = {
        name: mapping.plain(mapping.canonical_edit(name, value, country=country))
        for name, value in raw.items()
    }
    if raw["birth_date"] is not None:
        contact.values["birth_date"] = str(raw["birth_date"])[:10]
    return contact


class CiviCrmWriter:
    """Pushes portal edits to CiviCRM APIv4."""

    client: CiviCrmClient

    def _read_current(self, ids: list[int], timeout: float | None) -> dict[int, tuple[bool, _Contact]]:
        where = [["id", "IN", ids], ["is_deleted", "IN", [False, True]]]
        rows = self.client.call("Contact", "get", {"select": CURRENT_SELECT, "where": where}, timeout=timeout)
        phones = self.client.call(
            "Phone",
            "get",
            {
                "select": ["id", "contact_id", "phone", "phone_type_id:name", "is_primary"],
                "where": [["contact_id", "IN", ids]],
            },
            timeout=timeout,
        )
        by_contact: dict[int, list[dict[str, Any]]] = {}
        for phone in phones.get("values", []):
            by_contact.setdefault(int(phone["contact_id"]), []).append(phone)
        return {
            int(row["id"]): (bool(row.get("is_deleted")), _current(row, by_contact.get(int(row["id"]), [])))
            for row in rows.get("values", [])
        }

    def push_member_changes(
        self, changes: Sequence[MemberChange], *, timeout: float | None = None
    ) -> list[PushOutcome]:
        """Deliver the changes; raises `CrmUnavailable` when the CRM cannot be reached at all."""
        outcomes: dict[str, PushOutcome] = {}
        wanted = {int(change.member_crm_id) for change in changes if change.member_crm_id.isdigit()}
        current = self._read_current(sorted(wanted), timeout) if wanted else {}
        writes = _Writes()
        for change in changes:
            outcome = self._plan(change, current, writes)
            if outcome is not None:
                outcomes[change.key] = outcome
        failed = self._execute(writes, timeout)
        for change in changes:
            if change.key in outcomes:
                continue
            if change.key in failed:
                outcomes[change.key] = PushOutcome(change.key, PushResult.UNCERTAIN, failed[change.key])
            else:
                outcomes[change.key] = PushOutcome(change.key, PushResult.DELIVERED)
        return [outcomes[change.key] for change in changes]

    def _plan(
        self, change: MemberChange, current: dict[int, tuple[bool, _Contact]], writes: _Writes
    ) -> PushOutcome | None:
        """Decide one change: an outcome now (conflict, refused, nothing to do) or queued writes (None)."""
        key = change.key
        found = current.get(int(change.member_crm_id)) if change.member_crm_id.isdigit() else None
        if found is None:
            return PushOutcome(
                key, PushResult.REJECTED, f"contact {change.member_crm_id} does not exist in CiviCRM"
            )
        trashed, contact = found
        if trashed:
            return PushOutcome(
                key, PushResult.REJECTED, f"contact {change.member_crm_id} is in CiviCRM's trash"
            )
        conflicts, due = mapping.compare_for_push(change, contact.values)
        if conflicts:
            names = ", ".join(conflict.field for conflict in conflicts)
            return PushOutcome(
                key, PushResult.CONFLICT, f"changed in CiviCRM since the edit: {names}", tuple(conflicts)
            )
        if not due:
            return PushOutcome(key, PushResult.ALREADY_APPLIED)
        if due.get("email") and not _EMAIL.match(str(due["email"])):
            return PushOutcome(key, PushResult.REJECTED, "CiviCRM does not accept this e-mail address")
        self._queue(key, int(change.member_crm_id), due, contact, writes)
        return None

    @staticmethod
    def _queue(key: str, contact_id: int, due: dict[str, Any], contact: _Contact, writes: _Writes) -> None:
        values = {CONTACT_FIELDS[name]: value for name, value in due.items() if name in CONTACT_FIELDS}
        if due.get("do_not_email") is False:
            values["is_opt_out"] = False  # the portal's flag covers both of CiviCRM's
        if values:
            writes.add("Contact", "save", key, {"id": contact_id, **values})
        if "email" in due:
            if due["email"]:
                writes.add(
                    "Email",
                    "save",
                    key,
                    {"contact_id": contact_id, "is_primary": True, "email": due["email"]},
                )
            else:
                writes.add("Email", "delete", key, {"contact_id": contact_id})
        for name, phone_type in PHONE_TYPES.items():
            if name not in due:
                continue
            row_id = contact.phone_ids.get(name)
            if not due[name]:
                if row_id is not None:
                    writes.add("Phone", "delete", key, {"id": row_id})
            elif row_id is not None:
                writes.add("Phone", "save", key, {"id": row_id, "phone": due[name]})
            else:
                record = {
                    "contact_id": contact_id,
                    "phone_type_id:name": phone_type,
                    "phone": due[name],
                    "is_primary": not contact.has_primary_phone,
                }
                contact.has_primary_phone = True
                writes.add("Phone", "save", key, record)
        address = {ADDRESS_FIELDS[name]: value for name, value in due.items() if name in ADDRESS_FIELDS}
        if address:
            writes.add("Address", "save", key, {"contact_id": contact_id, "is_primary": True, **address})

    def _execute(self, writes: _Writes, timeout: float | None) -> dict[str, str]:
        """Run the grouped calls; a failing call is repeated per record. Returns key → error of failures."""
        failed: dict[str, str] = {}
        for (entity, action), records in writes.calls.items():
            try:
                self._call(entity, action, [record for _, record in records], timeout)
            except (CrmUnavailable, CrmCredentialsRefused):
                raise
            except CrmError:
                for key, record in records:
                    try:
                        self._call(entity, action, [record], timeout)
                    except (CrmUnavailable, CrmCredentialsRefused):
                        raise
                    except CrmError as error:
                        failed[key] = f"{entity}.{action}: {error}"
        return failed

    def _call(self, entity: str, action: str, records: list[dict[str, Any]], timeout: float | None) -> None:
        if action == "delete":
            for record in records:
                where = [[name, "=", value] for name, value in record.items()]
                if entity == "Email":
                    where.append(["is_primary", "=", True])
                self.client.call(entity, "delete", {"where": where}, timeout=timeout)
            return
        match = {
            "Email": ["contact_id", "is_primary"],
            "Address": ["contact_id", "is_primary"],
            "Phone": ["contact_id", "phone_type_id:name"],
        }.get(entity, [])
        params: dict[str, Any] = {"records": records}
        if match:
            params["match"] = match
        self.client.call(entity, "save", params, timeout=timeout)
