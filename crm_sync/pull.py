"""The pull: CRM → replica, page by page, writing only what changed (row hash) and never half a page."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from audit.services import record_changes
from crm_sync import mapping
from crm_sync.models import SyncKind, SyncOutcome, SyncRun
from crm_sync.ports import CrmError, CrmMember, CrmPort, CrmPosition, InvalidRecord, Page
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.members.models import Member, OrgUnit, Position

log = logging.getLogger(__name__)
PULL_ACTOR = Actor.system("crm-pull")
Progress = Callable[[str, int], None]


class MassRemovalAborted(Exception):
    """More members would vanish than the configured share allows; nothing was changed."""


@dataclass
class PullCounts:
    """What a run saw and did."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped_invalid: int = 0
    conflicts: int = 0
    org_units: int = 0
    positions: int = 0
    invalid: list[InvalidRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """The counts stored on the `SyncRun`."""
        return {
            "fetched": self.fetched, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "removed": self.removed, "skipped_invalid": self.skipped_invalid,
            "conflicts": self.conflicts, "org_units": self.org_units, "positions": self.positions,
        }  # fmt: skip

    def note_invalid(self, invalid: list[InvalidRecord]) -> None:
        """Count and log records that failed validation; they are skipped."""
        for record in invalid:
            log.warning("skipped invalid CRM %s %s: %s", record.entity, record.crm_id, record.errors)
        self.skipped_invalid += len(invalid)
        self.invalid.extend(invalid[: max(0, 100 - len(self.invalid))])


def _sync_org_units(session: Session, port: CrmPort, counts: PullCounts, now: datetime) -> dict[str, int]:
    """Upsert every org unit and return crm_id → id."""
    records = []
    for page in port.fetch_org_units():
        records.extend(page.records)
        counts.note_invalid(page.invalid)
    existing = {unit.crm_id: unit for unit in session.scalars(select(OrgUnit))}
    for record in records:
        unit = existing.get(record.crm_id)
        if unit is None:
            unit = OrgUnit(crm_id=record.crm_id, name=record.name, kind=record.kind, level=record.level)
            session.add(unit)
            existing[record.crm_id] = unit
        unit.name, unit.kind, unit.level, unit.code = record.name, record.kind, record.level, record.code
        unit.municipality, unit.province = record.municipality, record.province
        unit.synced_at, unit.removed_at = now, None
    session.flush()
    for record in records:
        parent = existing.get(record.parent_crm_id) if record.parent_crm_id else None
        existing[record.crm_id].parent_id = parent.id if parent else None
    seen = {record.crm_id for record in records}
    for crm_id, unit in existing.items():
        if crm_id not in seen and unit.removed_at is None:
            unit.removed_at = now
    counts.org_units = len(records)
    session.flush()
    return {crm_id: unit.id for crm_id, unit in existing.items()}


def _apply_member_page(
    session: Session, page: Page[CrmMember], unit_ids: dict[str, int], counts: PullCounts, now: datetime
) -> None:
    """Insert new members, update changed ones, skip unchanged ones; one audit entry per change."""
    counts.note_invalid(page.invalid)
    by_crm_id: dict[str, tuple[CrmMember, dict[str, Any]]] = {}
    for record in page.records:
        values = mapping.member_values(record)
        values["branch_id"] = unit_ids.get(record.branch_crm_id or "")
        values["row_hash"] = mapping.row_hash(values, record.branch_crm_id, record.is_trashed)
        values["crm_modified_at"] = record.modified_at
        values["synced_at"] = now
        values["removed_at"] = now if record.is_trashed else None
        by_crm_id[record.crm_id] = (record, values)
    counts.fetched += len(by_crm_id)
    existing = {
        row.crm_id: row
        for row in session.execute(
            select(Member.id, Member.crm_id, Member.row_hash, Member.version).where(
                Member.crm_id.in_(list(by_crm_id))
            )
        )
    }
    taken_numbers = {
        row.member_number: row.crm_id
        for row in session.execute(
            select(Member.member_number, Member.crm_id).where(
                Member.member_number.in_([values["member_number"] for _, values in by_crm_id.values()])
            )
        )
    }
    inserts: list[dict[str, Any]] = []
    changed: dict[int, dict[str, Any]] = {}
    for crm_id, (_record, values) in by_crm_id.items():
        owner = taken_numbers.get(values["member_number"])
        if owner is not None and owner != crm_id:
            counts.note_invalid(
                [InvalidRecord("member", crm_id, {"external_identifier": ["already in use"]})]
            )
            continue
        row = existing.get(crm_id)
        if row is None:
            inserts.append({"crm_id": crm_id, **values})
        elif row.row_hash == values["row_hash"]:
            counts.unchanged += 1
        else:
            changed[row.id] = {**values, "id": row.id, "old_version": row.version}
    audit_entries: list[tuple[str, Any, dict[str, Any]]] = []
    if inserts:
        ids = session.scalars(
            insert(Member).returning(Member.id, sort_by_parameter_order=True), inserts
        ).all()
        for member_id, values in zip(ids, inserts, strict=True):
            audit_entries.append(
                (
                    "member.created_from_crm",
                    ("members", member_id),
                    {"member_number": [None, values["member_number"]], "status": [None, values["status"]]},
                )
            )
        counts.created += len(ids)
    if changed:
        _update_changed_members(session, changed, audit_entries, counts)
    record_changes(session, actor=PULL_ACTOR, entries=audit_entries)


def _update_changed_members(
    session: Session,
    changed: dict[int, dict[str, Any]],
    audit_entries: list[tuple[str, Any, dict[str, Any]]],
    counts: PullCounts,
) -> None:
    """Write changed members with an optimistic-lock check and record their field diffs."""
    columns = [*mapping.MEMBER_FIELDS, "branch_id", "removed_at"]
    before = {
        member.id: {name: getattr(member, name) for name in columns}
        for member in session.scalars(select(Member).where(Member.id.in_(list(changed))))
    }
    table = Member.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(
            {
                name: bindparam(name)
                for name in [*columns, "sort_name", "row_hash", "crm_modified_at", "synced_at"]
            }
            | {"version": bindparam("b_new_version")}
        )
    )
    parameters = []
    for member_id, values in changed.items():
        parameters.append(
            {
                name: values[name]
                for name in [*columns, "sort_name", "row_hash", "crm_modified_at", "synced_at"]
            }
            | {
                "b_id": member_id,
                "b_version": values["old_version"],
                "b_new_version": values["old_version"] + 1,
            }
        )
        old = before[member_id]
        diff = {
            name: [old[name], values[name]]
            for name in columns
            if old[name] != values[name] and not (name == "removed_at" and old[name] and values[name])
        }
        action = (
            "member.removed_in_crm"
            if values["removed_at"] and not old["removed_at"]
            else "member.updated_from_crm"
        )
        audit_entries.append((action, ("members", member_id), diff))
        counts.removed += action == "member.removed_in_crm"
    session.expire_all()
    result = session.connection().execute(statement, parameters)
    raced = len(parameters) - (result.rowcount or 0)
    counts.conflicts += max(0, raced)
    counts.updated += len(parameters) - max(0, raced)


def _apply_position_page(
    session: Session, page: Page[CrmPosition], unit_ids: dict[str, int], counts: PullCounts, now: datetime
) -> set[str]:
    """Upsert the page's positions whose member and org unit are known; return their CRM ids."""
    counts.note_invalid(page.invalid)
    member_ids = dict(
        session.execute(
            select(Member.crm_id, Member.id).where(Member.crm_id.in_({p.member_crm_id for p in page.records}))
        ).all()
    )
    existing = {
        position.crm_id: position
        for position in session.scalars(
            select(Position).where(Position.crm_id.in_([p.crm_id for p in page.records]))
        )
    }
    seen: set[str] = set()
    for record in page.records:
        member_id = member_ids.get(record.member_crm_id)
        unit_id = unit_ids.get(record.org_unit_crm_id)
        if member_id is None or unit_id is None:
            continue  # a position of a non-member or of a body outside the party tree
        values = mapping.position_values(record) | {"member_id": member_id, "org_unit_id": unit_id}
        position = existing.get(record.crm_id)
        if position is None:
            session.add(Position(crm_id=record.crm_id, synced_at=now, **values))
        else:
            for name, value in values.items():
                setattr(position, name, value)
            position.synced_at, position.removed_at = now, None
        seen.add(record.crm_id)
    counts.positions += len(seen)
    return seen


def _check_removal_guard(session: Session, crm_ids: set[str], max_share: float) -> list[int]:
    """Members the replica has that the CRM no longer has (or trashed); abort if too many would go."""
    active = session.execute(select(Member.id, Member.crm_id).where(Member.removed_at.is_(None))).all()
    vanished = [row.id for row in active if row.crm_id not in crm_ids]
    if active and len(vanished) > max_share * len(active):
        raise MassRemovalAborted(
            f"{len(vanished)} of {len(active)} members would be removed, more than {max_share:.1%}; "
            "nothing was changed"
        )
    return vanished


def _start_run(database: Database, adapter: str, kind: SyncKind) -> int:
    with database.transaction() as session:
        run = SyncRun(kind=kind, outcome=SyncOutcome.RUNNING, adapter=adapter, started_at=utcnow(), counts={})
        session.add(run)
        session.flush()
        return run.id


def _finish_run(
    database: Database, run_id: int, outcome: SyncOutcome, counts: PullCounts, error: str = ""
) -> None:
    with database.transaction() as session:
        run = session.get_one(SyncRun, run_id)
        run.outcome, run.finished_at, run.counts, run.error = (
            outcome,
            utcnow(),
            counts.as_dict(),
            error[:2000],
        )


def pull_everything(
    database: Database,
    port: CrmPort,
    *,
    max_removed_share: float,
    progress: Progress | None = None,
) -> SyncRun:
    """Full pull: org units, all members, all positions; tombstones for members the CRM no longer has."""
    run_id = _start_run(database, port.name, SyncKind.PULL_FULL)
    counts = PullCounts()
    started = time.monotonic()
    report = progress or (lambda _stage, _n: None)
    try:
        now = utcnow()
        # The guard looks before any write: a run that would remove too much changes nothing.
        crm_ids: set[str] = set()
        for id_page in port.fetch_member_ids():
            crm_ids.update(id_page)
        with database.transaction() as session:
            vanished = _check_removal_guard(session, crm_ids, max_removed_share)
        with database.transaction() as session:
            unit_ids = _sync_org_units(session, port, counts, now)
        for page in port.fetch_members():
            with database.transaction() as session:
                _apply_member_page(session, page, unit_ids, counts, now)
            report("members", counts.fetched)
        with database.transaction() as session:
            still_active = set(
                session.scalars(select(Member.id).where(Member.id.in_(vanished), Member.removed_at.is_(None)))
            )
            session.execute(update(Member).where(Member.id.in_(still_active)).values(removed_at=now))
            record_changes(
                session,
                actor=PULL_ACTOR,
                entries=[
                    ("member.vanished_from_crm", ("members", member_id), {"removed_at": [None, now]})
                    for member_id in sorted(still_active)
                ],
            )
            counts.removed += len(still_active)
        position_ids: set[str] = set()
        for position_page in port.fetch_positions():
            with database.transaction() as session:
                position_ids |= _apply_position_page(session, position_page, unit_ids, counts, now)
            report("positions", counts.positions)
        with database.transaction() as session:
            for position in session.scalars(select(Position).where(Position.removed_at.is_(None))):
                if position.crm_id not in position_ids:
                    position.removed_at = now
    except MassRemovalAborted as error:
        log.error("pull aborted: %s", error)
        _finish_run(database, run_id, SyncOutcome.ABORTED, counts, str(error))
        raise
    except (CrmError, Exception) as error:
        log.exception("pull failed")
        _finish_run(database, run_id, SyncOutcome.FAILED, counts, f"{type(error).__name__}: {error}")
        raise
    log.info("full pull done in %.1f s: %s", time.monotonic() - started, counts.as_dict())
    _finish_run(database, run_id, SyncOutcome.SUCCEEDED, counts)
    with database.transaction() as session:
        return session.get_one(SyncRun, run_id)
