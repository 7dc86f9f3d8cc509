"""The pull, CRM → replica: a full pull (also the weekly reconciliation) and the nightly incremental one.

Every write batch (about ten CRM pages) commits on its own, so a failed run leaves the replica as it
was before the failing batch, and the watermarks move only after the last batch committed. Each run is
a `SyncRun` with its counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from datetime import datetime, timedelta

from sqlalchemy import select

from crm_sync.models import SyncKind, SyncOutcome, SyncRun
from crm_sync.ports import CrmMember, CrmPort, InvalidRecord, Page
from crm_sync.pull import bulk, memberships, removals
from crm_sync.pull.counts import MassRemovalAborted, PullCounts, log
from crm_sync.pull.members import MEMBERS, apply_member_page
from crm_sync.pull.org_units import sync_org_units
from crm_sync.pull.positions import apply_position_page, remove_positions_except
from crm_sync.pull.runs import advance_watermarks, finish_run, read_watermarks, start_run
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.core.events import EventBus, MembersMerged, MembersPulled, PullAborted
from portal.members.models import Member

Progress = Callable[[str, int], None]
WRITE_BATCH = 10_000  # members per transaction; a failed run keeps every batch before the failing one


def _quiet(_stage: str, _count: int) -> None:
    """No progress output."""


def _batches(pages: Iterable[Page[CrmMember]], size: int) -> Iterator[Page[CrmMember]]:
    """CRM pages joined into write batches of about `size` members (one transaction each: a few big
    transactions write SQLite's indexes far faster than hundreds of small ones)."""
    records: list[CrmMember] = []
    invalid: list[InvalidRecord] = []
    for page in pages:
        records.extend(page.records)
        invalid.extend(page.invalid)
        if len(records) >= size:
            yield Page(records, invalid)
            records, invalid = [], []
    if records or invalid:
        yield Page(records, invalid)


class _Run:
    """The parts every kind of pull shares: the run record, counts, pages and the closing event."""

    def __init__(
        self,
        database: Database,
        port: CrmPort,
        kind: SyncKind,
        progress: Progress | None,
        events: EventBus | None,
    ) -> None:
        self.database, self.port, self.kind, self.events = database, port, kind, events
        self.counts = PullCounts()
        self.report = progress or _quiet
        self.now = utcnow()
        self.run_id = start_run(database, port.name, kind)
        self.unit_ids: dict[str, int] = {}
        self.trashed: list[str] = []
        self.merges: list[tuple[int, int]] = []

    def org_units(self) -> None:
        with self.database.transaction() as session:
            self.unit_ids = sync_org_units(session, self.port, self.counts, self.now)

    def member_pages(self, pages: Iterator[Page[CrmMember]] | list[Page[CrmMember]]) -> None:
        with closing(self.database.session()) as session:
            empty = session.scalar(select(Member.id).limit(1)) is None
        if not empty:
            # A first load killed before it rebuilt the indexes left them out; put them back.
            if restored := bulk.restore_indexes(self.database, MEMBERS):
                log.warning("rebuilt member indexes a failed first load left out: %s", restored)
            self._write_member_batches(pages, bulk_load=None)
            return
        # A first load: building the secondary indexes once afterwards is far cheaper than keeping
        # them up to date row by row; they are back before this returns, also when the load fails.
        with bulk.indexes_deferred(self.database, MEMBERS):
            self._write_member_batches(pages, bulk_load=("sync_runs", self.run_id))

    def _write_member_batches(
        self, pages: Iterator[Page[CrmMember]] | list[Page[CrmMember]], *, bulk_load: tuple[str, int] | None
    ) -> None:
        for batch in _batches(pages, WRITE_BATCH):
            with self.database.transaction() as session, bulk.sqlite_cache(session.connection()):
                self.trashed += apply_member_page(
                    session, batch, self.unit_ids, self.counts, self.now, bulk_load=bulk_load
                )
            self.report("members", self.counts.fetched)

    def positions(self, changed_since: datetime | None) -> set[str]:
        seen: set[str] = set()
        for page in self.port.fetch_positions(changed_since=changed_since):
            with self.database.transaction() as session:
                seen |= apply_position_page(session, page, self.unit_ids, self.counts, self.now)
            self.report("positions", self.counts.positions)
        return seen

    def follow_merges(self, crm_ids: list[str]) -> None:
        self.merges += removals.follow_merges(self.database, self.port, crm_ids, self.counts, self.now)

    def finish(self, started: float) -> SyncRun:
        advance_watermarks(self.database, self.port.name, self.counts)
        run = finish_run(self.database, self.run_id, SyncOutcome.SUCCEEDED, self.counts)
        log.info(
            "%s pull done in %.1f s: %s", self.kind.value, time.monotonic() - started, self.counts.as_dict()
        )
        if self.events is not None:
            if self.merges:  # before MembersPulled: accounts follow their survivor, then roles are computed
                self.events.publish(MembersMerged(sync_run_id=run.id, merges=tuple(self.merges)))
            self.events.publish(
                MembersPulled(
                    sync_run_id=run.id,
                    finished_at=run.finished_at or utcnow(),
                    changed_member_ids=tuple(sorted(self.counts.changed_member_ids)),
                )
            )
        return run

    def fail(self, error: BaseException) -> None:
        if isinstance(error, MassRemovalAborted):
            log.error("pull aborted by the mass-removal guard: %s", error)
            finish_run(self.database, self.run_id, SyncOutcome.ABORTED, self.counts, str(error))
            if self.events is not None:  # after the commit: the admins are told (by mail)
                self.events.publish(
                    PullAborted(sync_run_id=self.run_id, adapter=self.port.name, reason=str(error))
                )
        else:
            log.exception("pull failed")
            finish_run(
                self.database,
                self.run_id,
                SyncOutcome.FAILED,
                self.counts,
                f"{type(error).__name__}: {error}",
            )


def pull_full(
    database: Database,
    port: CrmPort,
    *,
    max_removed_share: float,
    progress: Progress | None = None,
    events: EventBus | None = None,
    kind: SyncKind = SyncKind.PULL_FULL,
) -> SyncRun:
    """Everything, with an id-set comparison that finds hard deletes; also the weekly reconciliation."""
    run = _Run(database, port, kind, progress, events)
    started = time.monotonic()
    try:
        live: set[str] = set()
        for ids in port.fetch_member_ids():
            live.update(ids)
        vanished = removals.vanished_members(database, live)
        removals.check_removal_guard(database, vanished, max_removed_share)  # before the first write
        run.org_units()
        run.member_pages(port.fetch_members())
        with database.transaction() as session:
            gone = removals.tombstone_vanished(session, vanished, run.counts, run.now)
        run.follow_merges([*run.trashed, *gone])
        seen = run.positions(None)
        with database.transaction() as session:
            remove_positions_except(session, seen, run.counts, run.now)
        return run.finish(started)
    except BaseException as error:
        run.fail(error)
        raise


def pull_incremental(
    database: Database,
    port: CrmPort,
    *,
    max_removed_share: float,
    overlap: timedelta = timedelta(minutes=10),
    progress: Progress | None = None,
    events: EventBus | None = None,
) -> SyncRun:
    """The nightly pull: members and positions changed since the watermarks (minus an overlap), every
    membership compactly, and members marked stale; a first pull (no watermark) is a full one."""
    members_mark, positions_mark = read_watermarks(database, port.name)
    if members_mark is None:
        return pull_full(
            database, port, max_removed_share=max_removed_share, progress=progress, events=events
        )
    run = _Run(database, port, SyncKind.PULL_INCREMENTAL, progress, events)
    started = time.monotonic()
    try:
        # Changes are few: read them all first, so the guard can look before the first write.
        pages = list(port.fetch_members(changed_since=members_mark - overlap))
        removals.check_removal_guard(
            database,
            [member.crm_id for page in pages for member in page.records if member.is_trashed],
            max_removed_share,
        )
        run.org_units()
        run.member_pages(pages)
        again = set(memberships.members_with_changed_membership(database, port, run.counts))
        again |= set(memberships.members_marked_stale(database))
        run.counts.refetched = len(again)
        if again:
            run.member_pages(port.fetch_members_by_id(sorted(again)))
        run.follow_merges(run.trashed)
        run.positions((positions_mark or members_mark) - overlap)
        return run.finish(started)
    except BaseException as error:
        run.fail(error)
        raise
