"""Applying one page of CRM members: insert new ones, update changed ones (row hash), skip the rest.

Unchanged members cost no write and no audit entry. Changed members are written with SQLAlchemy Core
in one statement per page, checking the optimistic `version`, with one audit entry each. Fields with
an undelivered portal edit keep the portal's value (see `protection`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from audit.services import Target, record_changes
from crm_sync import mapping
from crm_sync.ports import CrmMember, InvalidRecord, Page
from crm_sync.pull import bulk
from crm_sync.pull.counts import PullCounts, log
from crm_sync.pull.protection import keep_portal_values, protected_fields
from portal.core.actors import Actor
from portal.members import names
from portal.members.models import Member

PULL_ACTOR = Actor.system("crm-pull")
MEMBERS: Table = Member.__table__  # type: ignore[assignment]
AuditEntries = list[tuple[str, Target, Mapping[str, Any]]]
_WRITTEN = [
    *mapping.MEMBER_FIELDS,
    "branch_id",
    "removed_at",
    "sort_name",
    "row_hash",
    "crm_modified_at",
    "synced_at",
]
_DIFFED = [*mapping.MEMBER_FIELDS, "branch_id", "removed_at"]


def _incoming(record: CrmMember, unit_ids: dict[str, int], now: datetime) -> dict[str, Any]:
    values = mapping.member_values(record)
    values["branch_id"] = unit_ids.get(record.branch_crm_id or "")
    values["row_hash"] = mapping.row_hash(values, record.branch_crm_id, record.is_trashed)
    values["crm_modified_at"] = record.modified_at
    values["synced_at"] = now
    values["removed_at"] = now if record.is_trashed else None
    return values


def apply_member_page(
    session: Session,
    page: Page[CrmMember],
    unit_ids: dict[str, int],
    counts: PullCounts,
    now: datetime,
    *,
    bulk_load: tuple[str, int] | None = None,
) -> list[str]:
    """Write one page in the caller's transaction; returns CRM ids of members the CRM just trashed.

    `bulk_load` (the run's audit target) marks the first load of an empty replica: its creations are
    logged as one audit entry per page (member id → member number) instead of one per member.
    """
    counts.note_invalid(page.invalid)
    incoming: dict[str, tuple[CrmMember, dict[str, Any]]] = {}
    for record in page.records:
        incoming[record.crm_id] = (record, _incoming(record, unit_ids, now))
        counts.saw_member_change(record.modified_at)
    counts.fetched += len(incoming)
    dialect = session.get_bind().dialect.name
    existing = {
        row.crm_id: row
        for row in session.execute(
            select(Member.id, Member.crm_id, Member.row_hash, Member.removed_at).where(
                bulk.among(dialect, Member.crm_id, list(incoming))
            )
        )
    }
    owners = dict(
        session.execute(
            select(Member.member_number, Member.crm_id).where(
                bulk.among(
                    dialect,
                    Member.member_number,
                    [values["member_number"] for _, values in incoming.values()],
                )
            )
        ).all()
    )
    inserts: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    for crm_id, (record, values) in incoming.items():
        owner = owners.setdefault(values["member_number"], crm_id)  # also two of this page alike
        if owner != crm_id:
            counts.note_invalid(
                [InvalidRecord("member", crm_id, {"external_identifier": ["already in use"]})]
            )
            continue
        row = existing.get(crm_id)
        if row is None:
            if not record.is_trashed:  # never seen and already in the trash: nothing to keep
                inserts.append({"crm_id": crm_id, **values})
        elif row.row_hash == values["row_hash"]:
            counts.unchanged += 1
        else:
            changed[row.id] = values
    entries: AuditEntries = []
    if inserts:
        _insert(session, inserts, entries, counts, bulk_load=bulk_load)
    trashed = _update_changed(session, changed, entries, counts, now) if changed else []
    record_changes(session, actor=PULL_ACTOR, entries=entries)
    return trashed


def _insert(
    session: Session,
    inserts: list[dict[str, Any]],
    entries: AuditEntries,
    counts: PullCounts,
    *,
    bulk_load: tuple[str, int] | None,
) -> None:
    """One driver call (no RETURNING: SQLite would insert row by row), then one id lookup."""
    bulk.insert_rows(session.connection(), MEMBERS, inserts)
    numbers = {values["crm_id"]: values["member_number"] for values in inserts}
    dialect = session.get_bind().dialect.name
    ids = dict(
        session.execute(
            select(Member.crm_id, Member.id).where(bulk.among(dialect, Member.crm_id, list(numbers)))
        ).all()
    )
    if bulk_load is not None:
        created = {str(ids[crm_id]): number for crm_id, number in numbers.items()}
        entries.append(("member.created_from_crm", bulk_load, {"members": [None, created]}))
    else:
        for values in inserts:
            entries.append(
                (
                    "member.created_from_crm",
                    ("members", ids[values["crm_id"]]),
                    {"member_number": [None, values["member_number"]], "status": [None, values["status"]]},
                )
            )
    counts.created += len(inserts)
    counts.changed_member_ids.update(ids.values())


def _update_changed(
    session: Session,
    changed: dict[int, dict[str, Any]],
    entries: AuditEntries,
    counts: PullCounts,
    now: datetime,
) -> list[str]:
    """Write changed members (version-checked), keeping held fields; returns newly trashed CRM ids."""
    lock = select(Member).where(Member.id.in_(list(changed)))
    if session.get_bind().dialect.name != "sqlite":
        lock = lock.with_for_update()  # a portal edit racing this page waits for it (I12)
    members = {member.id: member for member in session.scalars(lock)}
    before = {
        member_id: {name: getattr(member, name) for name in _DIFFED} for member_id, member in members.items()
    }
    meta = {member_id: (member.crm_id, member.version) for member_id, member in members.items()}
    held = protected_fields(session, changed)
    parameters: list[dict[str, Any]] = []
    trashed: list[str] = []
    for member_id, values in changed.items():
        old = before[member_id]
        if member_id in held:
            counts.conflicts += keep_portal_values(
                session, member_id=member_id, incoming=values, current=old, held=held[member_id], now=now
            )
            values["sort_name"] = names.sort_key(values["given_name"], values["infix"], values["family_name"])
        diff = {
            name: [old[name], values[name]]
            for name in _DIFFED
            if old[name] != values[name] and not (name == "removed_at" and old[name] and values[name])
        }
        if values["removed_at"] and old["removed_at"]:
            values["removed_at"] = old["removed_at"]  # keep the first moment it went
        crm_id, version = meta[member_id]
        parameters.append(
            {name: values[name] for name in _WRITTEN}
            | {"b_id": member_id, "b_version": version, "b_new_version": version + 1 if diff else version}
        )
        if not diff:
            counts.unchanged += 1  # only the stored hash was stale
            continue
        removed_now = values["removed_at"] is not None and old["removed_at"] is None
        entries.append(
            (
                "member.removed_in_crm" if removed_now else "member.updated_from_crm",
                ("members", member_id),
                diff,
            )
        )
        counts.changed_member_ids.add(member_id)
        if removed_now:
            counts.removed += 1
            trashed.append(crm_id)
        else:
            counts.updated += 1
    session.expire_all()
    table: Table = Member.__table__  # type: ignore[assignment]
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values({name: bindparam(name) for name in _WRITTEN} | {"version": bindparam("b_new_version")})
    )
    written = session.connection().execute(statement, parameters).rowcount or 0
    if written < len(parameters):
        log.warning(
            "%d member(s) changed in the portal during the pull; the next pull takes them",
            len(parameters) - written,
        )
        counts.conflicts += len(parameters) - written
    return trashed
