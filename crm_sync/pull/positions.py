"""Positions: upserted page by page, written only where something changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from crm_sync import mapping
from crm_sync.ports import CrmPosition, Page
from crm_sync.pull.counts import PullCounts
from portal.members.models import Member, Position

_COMPARED = ("member_id", "org_unit_id", "function", "start_date", "end_date", "public")


def apply_position_page(
    session: Session, page: Page[CrmPosition], unit_ids: dict[str, int], counts: PullCounts, now: datetime
) -> set[str]:
    """Upsert the page's positions whose member and org unit are known (Core, changed rows only)."""
    counts.note_invalid(page.invalid)
    member_ids = dict(
        session.execute(
            select(Member.crm_id, Member.id).where(Member.crm_id.in_({p.member_crm_id for p in page.records}))
        ).all()
    )
    existing = {
        row.crm_id: row
        for row in session.execute(
            select(
                Position.id, Position.crm_id, Position.removed_at, *(getattr(Position, n) for n in _COMPARED)
            ).where(Position.crm_id.in_([p.crm_id for p in page.records]))
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in page.records:
        counts.saw_position_change(record.modified_at)
        member_id = member_ids.get(record.member_crm_id)
        unit_id = unit_ids.get(record.org_unit_crm_id)
        if member_id is None or unit_id is None:
            continue  # a position of a non-member or of a body outside the party tree
        values = mapping.position_values(record) | {"member_id": member_id, "org_unit_id": unit_id}
        row = existing.get(record.crm_id)
        seen.add(record.crm_id)
        if row is None:
            inserts.append({"crm_id": record.crm_id, "synced_at": now, "removed_at": None, **values})
            counts.changed_member_ids.add(member_id)
        elif row.removed_at is not None or any(getattr(row, name) != values[name] for name in _COMPARED):
            updates.append({"b_id": row.id, "synced_at": now, "removed_at": None, **values})
            counts.changed_member_ids.update((member_id, row.member_id))  # a merge may have moved it
    table: Table = Position.__table__  # type: ignore[assignment]
    if inserts:
        session.connection().execute(insert(table), inserts)
    if updates:
        columns = [*_COMPARED, "synced_at", "removed_at"]
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({name: bindparam(name) for name in columns}),
            updates,
        )
    counts.positions += len(seen)
    return seen


def remove_positions_except(session: Session, keep: Iterable[str], counts: PullCounts, now: datetime) -> None:
    """Tombstone every live position the CRM no longer has (after a full pass or an id-set pass)."""
    kept = set(keep)
    gone = [
        (position_id, member_id)
        for position_id, crm_id, member_id in session.execute(
            select(Position.id, Position.crm_id, Position.member_id).where(Position.removed_at.is_(None))
        ).all()
        if crm_id not in kept
    ]
    if gone:
        session.execute(
            update(Position).where(Position.id.in_([gid for gid, _ in gone])).values(removed_at=now)
        )
        counts.changed_member_ids.update(member_id for _, member_id in gone)
    counts.positions_removed += len(gone)
