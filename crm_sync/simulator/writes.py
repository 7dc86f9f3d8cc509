"""create/update/delete of simulator rows, with the side effects CiviCRM has.

Writing a contact or one of its e-mails, phones or addresses stamps the contact's
modified_date; a relationship stamps its own. Callers hold the write transaction.
"""

import re
import sqlite3
from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson

from crm_sync.simulator.contact_details import display_and_sort_name
from crm_sync.simulator.entities import Entity
from crm_sync.simulator.errors import ApiError
from crm_sync.simulator.query import coerce, option_id
from crm_sync.simulator.store import utc_now_text

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_NAME_COLUMNS = ("first_name", "middle_name", "last_name", "organization_name")
_CONTACT_TYPES = ("Individual", "Organization", "Household")


def column_values(entity: Entity, values: Any) -> dict[str, Any]:
    """Validate API `values` against the entity's writable fields; return {column: value}."""
    if not isinstance(values, dict):
        raise ApiError("values must be an object")
    columns: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise ApiError(f"field name must be a string, got {name!r}")
        base, _, suffix = name.partition(":")
        found = entity.fields.get(base)
        stored: Any
        if found is None or not found.writable:
            raise ApiError(f"field {name!r} is unknown or read-only on {entity.name}")
        if suffix:
            if suffix not in found.options:
                raise ApiError(f"field {name!r} has no option suffix {suffix!r}")
            stored = None if value is None else option_id(found.options[suffix], value, strict=True)
        elif value is None:
            stored = None
        elif found.kind == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ApiError(f"{name} expects a list of strings")
            stored = orjson.dumps(value).decode()
        elif isinstance(value, (dict, list)):
            raise ApiError(f"{name} expects a scalar")
        else:
            stored = coerce(found, value)
            if found.kind == "date":
                _check_date(name, stored)
        columns[found.column] = stored
    return columns


def _check_date(name: str, value: str) -> None:
    try:
        date.fromisoformat(value[:10])
    except ValueError as error:
        raise ApiError(f"{name}: {value!r} is not a date") from error


def live_contact(conn: sqlite3.Connection, contact_id: Any) -> None:
    """Fail unless `contact_id` is an existing contact that is not in the trash."""
    row = conn.execute("SELECT is_deleted FROM civicrm_contact WHERE id = ?", (contact_id,)).fetchone()
    if row is None:
        raise ApiError(f"contact {contact_id!r} does not exist")
    if row[0]:
        raise ApiError(f"contact {contact_id!r} is in the trash")


def touch_contacts(conn: sqlite3.Connection, contact_ids: Iterable[int]) -> None:
    """Stamp modified_date = now on the given contacts."""
    now = utc_now_text()
    conn.executemany(
        "UPDATE civicrm_contact SET modified_date = ? WHERE id = ?", [(now, cid) for cid in set(contact_ids)]
    )


def _validate(conn: sqlite3.Connection, entity: Entity, columns: dict[str, Any]) -> None:
    if "email" in columns and not _EMAIL.match(str(columns["email"] or "")):
        raise ApiError(f"malformed e-mail address {columns['email']!r}")
    if entity.name == "Contact":
        if "contact_type" in columns and columns["contact_type"] not in _CONTACT_TYPES:
            raise ApiError(f"unknown contact_type {columns['contact_type']!r}")
        branch = columns.get("party_member_branch_id")
        if (
            branch is not None
            and conn.execute(
                "SELECT 1 FROM civicrm_contact WHERE id = ? AND contact_type = 'Organization'", (branch,)
            ).fetchone()
            is None
        ):
            raise ApiError(f"Party_Member.branch_id {branch!r} is not an organisation")
    for key in ("contact_id", "contact_id_a", "contact_id_b"):
        if key in columns:
            live_contact(conn, columns[key])
    if "phone" in columns:
        columns["phone_numeric"] = "".join(ch for ch in str(columns["phone"] or "") if ch.isdigit())


def create_record(conn: sqlite3.Connection, entity: Entity, values: Any) -> int:
    """Insert one record and return its id."""
    columns = column_values(entity, values)
    now = utc_now_text()
    if entity.name == "Contact":
        if not columns.get("contact_type"):
            raise ApiError("contact_type is required")
        columns.update(created_date=now, modified_date=now)
    elif entity.own_modified_date:
        columns.setdefault("party_position_is_public", 1)
        columns.update(created_date=now, modified_date=now)
    elif entity.name == "GroupContact":
        columns.setdefault("status", "Added")
    if entity.contact_child:
        columns.setdefault("location_type_id", 1)
        if columns.get("contact_id") is None:
            raise ApiError(f"contact_id is required for {entity.name}")
    _validate(conn, entity, columns)
    if entity.contact_child:
        _prepare_primary(conn, entity, columns, row_id=None)
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    cursor = conn.execute(f"INSERT INTO {entity.table} ({names}) VALUES ({marks})", list(columns.values()))
    row_id = int(cursor.lastrowid or 0)
    _after_write(conn, entity, [row_id], columns)
    return row_id


def update_records(conn: sqlite3.Connection, entity: Entity, ids: list[int], values: Any) -> None:
    """Apply `values` to the records with `ids`."""
    columns = column_values(entity, values)
    if not ids:
        return
    _validate(conn, entity, columns)
    if entity.contact_child:
        _guard_children(conn, entity, ids)
        if columns.get("is_primary"):
            for row_id in ids:
                _prepare_primary(conn, entity, dict(columns), row_id=row_id)
    if entity.name == "Contact" and columns.get("is_deleted", 1) != 0:
        # Only restoring from the trash may touch a trashed contact.
        _guard_live(conn, ids)
    if entity.own_modified_date:
        columns["modified_date"] = utc_now_text()
    if columns:
        assignments = ", ".join(f"{name} = ?" for name in columns)
        conn.executemany(
            f"UPDATE {entity.table} SET {assignments} WHERE id = ?",
            [[*columns.values(), row_id] for row_id in ids],
        )
    _after_write(conn, entity, ids, columns)


def delete_records(conn: sqlite3.Connection, entity: Entity, ids: list[int], *, use_trash: bool) -> None:
    """Delete records; contacts go to the trash unless use_trash is false."""
    if entity.name == "Contact":
        if use_trash:
            _guard_live(conn, ids)
            conn.executemany("UPDATE civicrm_contact SET is_deleted = 1 WHERE id = ?", [(i,) for i in ids])
            touch_contacts(conn, ids)
            return
        for table in (
            "civicrm_email",
            "civicrm_phone",
            "civicrm_address",
            "civicrm_membership",
            "civicrm_group_contact",
        ):
            conn.executemany(f"DELETE FROM {table} WHERE contact_id = ?", [(i,) for i in ids])
        conn.executemany(
            "DELETE FROM civicrm_relationship WHERE contact_id_a = ? OR contact_id_b = ?",
            [(i, i) for i in ids],
        )
    owners: list[tuple[int, int]] = []
    if entity.contact_child:
        _guard_children(conn, entity, ids)
        owners = _owners(conn, entity, ids)
    conn.executemany(f"DELETE FROM {entity.table} WHERE id = ?", [(i,) for i in ids])
    if owners:
        for contact_id, _ in owners:
            _promote_primary(conn, entity, contact_id)
        touch_contacts(conn, [contact_id for contact_id, _ in owners])


def _guard_live(conn: sqlite3.Connection, ids: list[int]) -> None:
    for contact_id in ids:
        live_contact(conn, contact_id)


def _owners(conn: sqlite3.Connection, entity: Entity, ids: list[int]) -> list[tuple[int, int]]:
    marks = ", ".join("?" for _ in ids)
    return conn.execute(f"SELECT contact_id, id FROM {entity.table} WHERE id IN ({marks})", ids).fetchall()


def _guard_children(conn: sqlite3.Connection, entity: Entity, ids: list[int]) -> None:
    for contact_id, _ in _owners(conn, entity, ids):
        live_contact(conn, contact_id)


def _prepare_primary(
    conn: sqlite3.Connection, entity: Entity, columns: dict[str, Any], row_id: int | None
) -> None:
    contact_id = columns.get("contact_id")
    if contact_id is None and row_id is not None:
        found = conn.execute(f"SELECT contact_id FROM {entity.table} WHERE id = ?", (row_id,)).fetchone()
        contact_id = found[0] if found else None
    has_primary = conn.execute(
        f"SELECT id FROM {entity.table} WHERE contact_id = ? AND is_primary = 1", (contact_id,)
    ).fetchone()
    if row_id is None and "is_primary" not in columns:
        # Like CiviCRM: a contact's first e-mail/phone/address becomes the primary one.
        columns["is_primary"] = int(has_primary is None)
    if columns.get("is_primary") and has_primary is not None and has_primary[0] != row_id:
        conn.execute(f"UPDATE {entity.table} SET is_primary = 0 WHERE id = ?", (has_primary[0],))


def _promote_primary(conn: sqlite3.Connection, entity: Entity, contact_id: int) -> None:
    if (
        conn.execute(
            f"SELECT 1 FROM {entity.table} WHERE contact_id = ? AND is_primary = 1", (contact_id,)
        ).fetchone()
        is None
    ):
        conn.execute(
            f"UPDATE {entity.table} SET is_primary = 1 WHERE id = (SELECT MIN(id) "
            f"FROM {entity.table} WHERE contact_id = ?)",
            (contact_id,),
        )


def _after_write(conn: sqlite3.Connection, entity: Entity, ids: list[int], columns: dict[str, Any]) -> None:
    if entity.name == "Contact":
        if any(name in columns for name in (*_NAME_COLUMNS, "contact_type")):
            _refresh_names(conn, ids)
        touch_contacts(conn, ids)
    elif entity.contact_child:
        if (
            entity.name == "Address"
            and "street_address" not in columns
            and any(name in columns for name in ("street_name", "street_number", "street_number_suffix"))
        ):
            _refresh_street_address(conn, ids)
        touch_contacts(conn, [contact_id for contact_id, _ in _owners(conn, entity, ids)])


def _refresh_names(conn: sqlite3.Connection, ids: list[int]) -> None:
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        "SELECT id, contact_type, first_name, middle_name, last_name, organization_name "
        f"FROM civicrm_contact WHERE id IN ({marks})",
        ids,
    ).fetchall()
    updates = []
    for contact_id, contact_type, first, middle, last, organization in rows:
        if contact_type == "Individual":
            display, sort = display_and_sort_name(first, middle, last)
        else:
            display = sort = organization or ""
        updates.append((display, sort, contact_id))
    conn.executemany("UPDATE civicrm_contact SET display_name = ?, sort_name = ? WHERE id = ?", updates)


def _refresh_street_address(conn: sqlite3.Connection, ids: list[int]) -> None:
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        "SELECT id, street_name, street_number, street_number_suffix FROM "
        f"civicrm_address WHERE id IN ({marks})",
        ids,
    ).fetchall()
    updates = []
    for row_id, name, number, suffix in rows:
        parts = [str(p) for p in (name, number, suffix) if p not in (None, "")]
        updates.append((" ".join(parts) or None, row_id))
    conn.executemany("UPDATE civicrm_address SET street_address = ? WHERE id = ?", updates)
