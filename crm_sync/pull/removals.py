"""Members leaving the replica: the mass-removal guard, tombstones for vanished members, and merges.

Nothing is ever hard-deleted: a member the CRM trashed, merged away or no longer has gets `removed_at`.
A run that would remove more than the configured share of members stops before its first write.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.services import record_changes
from crm_sync.models import MemberMerge
from crm_sync.ports import CrmPort
from crm_sync.pull.counts import MassRemovalAborted, PullCounts
from crm_sync.pull.members import PULL_ACTOR, AuditEntries
from portal.core.database import Database
from portal.members.models import Member


def check_removal_guard(database: Database, leaving: Iterable[str], max_share: float) -> None:
    """Raise `MassRemovalAborted` when more than `max_share` of the active members would leave."""
    leaving_ids = set(leaving)
    if not leaving_ids:
        return
    with closing(database.session()) as session:
        active = set(session.scalars(select(Member.crm_id).where(Member.removed_at.is_(None))))
    going = len(leaving_ids & active)
    if active and going > max_share * len(active):
        raise MassRemovalAborted(
            f"{going} of {len(active)} members would be removed, more than {max_share:.1%}; "
            "nothing was changed"
        )


def vanished_members(database: Database, crm_ids: set[str]) -> list[str]:
    """Active replica members whose CRM id is not in `crm_ids` (the CRM's live ids)."""
    with closing(database.session()) as session:
        active = session.scalars(select(Member.crm_id).where(Member.removed_at.is_(None))).all()
    return [crm_id for crm_id in active if crm_id not in crm_ids]


def tombstone_vanished(session: Session, crm_ids: list[str], counts: PullCounts, now: datetime) -> list[str]:
    """Mark members the CRM no longer has as removed (one audit entry each); returns those marked."""
    rows = session.execute(
        select(Member.id, Member.crm_id).where(Member.crm_id.in_(crm_ids), Member.removed_at.is_(None))
    ).all()
    if not rows:
        return []
    session.execute(update(Member).where(Member.id.in_([row.id for row in rows])).values(removed_at=now))
    record_changes(
        session,
        actor=PULL_ACTOR,
        entries=[
            ("member.vanished_from_crm", ("members", row.id), {"removed_at": [None, now]}) for row in rows
        ],
    )
    counts.removed += len(rows)
    counts.changed_member_ids.update(row.id for row in rows)
    return [row.crm_id for row in rows]


def follow_merges(
    database: Database, port: CrmPort, crm_ids: list[str], counts: PullCounts, now: datetime
) -> list[tuple[int, int]]:
    """For contacts that just left, ask the CRM whether they were merged, and point them at the survivor;
    returns the new merges as (merged-away member id, survivor member id)."""
    survivors = {crm_id: survivor for crm_id in crm_ids if (survivor := port.find_survivor(crm_id))}
    if not survivors:
        return []
    merges: list[tuple[int, int]] = []
    with database.transaction() as session:
        ids = dict(
            session.execute(
                select(Member.crm_id, Member.id).where(Member.crm_id.in_([*survivors, *survivors.values()]))
            ).all()
        )
        already = set(session.scalars(select(MemberMerge.merged_member_id)))
        entries: AuditEntries = []
        for merged_crm_id, survivor_crm_id in survivors.items():
            merged_id, survivor_id = ids.get(merged_crm_id), ids.get(survivor_crm_id)
            if merged_id is None or survivor_id is None or merged_id in already:
                continue
            session.add(
                MemberMerge(merged_member_id=merged_id, survivor_member_id=survivor_id, detected_at=now)
            )
            entries.append(
                ("member.merged_in_crm", ("members", merged_id), {"merged_into": [None, survivor_id]})
            )
            counts.changed_member_ids.update((merged_id, survivor_id))
            merges.append((merged_id, survivor_id))
        record_changes(session, actor=PULL_ACTOR, entries=entries)
        counts.merged += len(entries)
    return merges
