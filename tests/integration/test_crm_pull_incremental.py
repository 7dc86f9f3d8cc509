"""The nightly pull: incremental by change markers, memberships by a compact scan, trash, merges, hard
deletes found by the id-set reconciliation, the removal guard, invalid records, and the event."""

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from audit.models import AuditEntry
from config import Settings
from crm_sync.composition import make_crm_port
from crm_sync.models import MemberMerge, SyncKind, SyncOutcome, SyncRun, SyncWatermark
from crm_sync.pull import MassRemovalAborted, pull_full, pull_incremental
from crm_sync.simulator.testing import SimulatorHandle
from portal.core.database import Database
from portal.core.events import EventBus, MembersPulled
from portal.members.models import Member, MembershipStatus, Position


def _nightly(database: Database, settings: Settings, **options: object) -> SyncRun:
    port = make_crm_port(settings)
    try:
        return pull_incremental(database, port, max_removed_share=options.pop("share", 0.02), **options)  # type: ignore[arg-type]
    finally:
        port.close()


def _sim(crm: SimulatorHandle, sql: str, *args: object) -> None:
    with sqlite3.connect(crm.db_path) as connection:
        connection.execute(sql, args)


@pytest.fixture
def writes(synced: Database) -> Iterator[list[str]]:
    """Every INSERT/UPDATE/DELETE the portal database receives while the test runs."""
    seen: list[str] = []

    def record(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement.split("\n")[0][:80])

    event.listen(synced.engine, "before_cursor_execute", record)
    yield seen
    event.remove(synced.engine, "before_cursor_execute", record)


def test_an_unchanged_nightly_pull_writes_nothing(
    synced: Database, crm_settings: Settings, writes: list[str]
) -> None:
    run = _nightly(synced, crm_settings)
    assert run.kind is SyncKind.PULL_INCREMENTAL
    assert (run.counts["created"], run.counts["updated"], run.counts["removed"]) == (0, 0, 0)
    replica = [statement for statement in writes if "sync_runs" not in statement]
    assert replica == []  # no member, position, org unit, audit or watermark write: only the run's own row


def test_the_nightly_pull_picks_up_churned_members(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    counts = crm.churn(5.0, seed=11)
    events: list[MembersPulled] = []
    bus = EventBus()
    bus.subscribe(MembersPulled, events.append)
    run = _nightly(synced, crm_settings, share=0.5, events=bus)
    changed = counts["phone"] + counts["email"] + counts["address"] + counts["name"] + counts["membership"]
    assert run.counts["updated"] >= changed * 0.9
    assert run.counts["created"] == counts["new_members"]
    assert run.counts["removed"] == counts["trashed"] + counts["merged"]
    assert run.counts["merged"] == counts["merged"]
    assert run.counts["fetched"] < 100  # only the changed ones, not the 400
    assert [event.sync_run_id for event in events] == [run.id]
    assert len(events[0].changed_member_ids) >= changed
    full = pull_full(synced, make_crm_port(crm_settings), max_removed_share=0.5)
    assert full.counts["updated"] == 0  # the nightly pull missed nothing a full pull would find


def test_merged_contacts_follow_their_survivor(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        merged, survivor = session.scalars(select(Member).order_by(Member.id).limit(2)).all()
        merged_crm, survivor_crm = merged.crm_id, survivor.crm_id
    _sim(
        crm,
        "UPDATE civicrm_contact SET is_deleted = 1, modified_date = datetime('now') WHERE id = ?",
        int(merged_crm),
    )
    _sim(
        crm,
        "INSERT INTO sim_merged_to (contact_id, survivor_id) VALUES (?, ?)",
        int(merged_crm),
        int(survivor_crm),
    )
    _sim(
        crm,
        "UPDATE civicrm_relationship SET contact_id_a = ?, modified_date = datetime('now') "
        "WHERE contact_id_a = ?",
        int(survivor_crm),
        int(merged_crm),
    )
    run = _nightly(synced, crm_settings)
    assert run.counts["merged"] == 1
    with synced.transaction() as session:
        merge = session.scalars(select(MemberMerge)).one()
        assert (merge.merged_member_id, merge.survivor_member_id) == (merged.id, survivor.id)
        assert session.get_one(Member, merged.id).removed_at is not None
        assert (
            session.scalar(
                select(func.count())
                .select_from(Position)
                .where(Position.member_id == merged.id, Position.removed_at.is_(None))
            )
            == 0
        )


def test_a_membership_change_without_a_change_marker_is_found_by_the_nightly_scan(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        member = session.scalars(select(Member).where(Member.status == MembershipStatus.CURRENT)).first()
        assert member is not None
    # CiviCRM's Membership has no timestamp: this change leaves the contact's modified_date alone.
    _sim(
        crm,
        "UPDATE civicrm_membership SET status_id = 6, end_date = '2026-01-31' WHERE contact_id = ?",
        int(member.crm_id),
    )
    run = _nightly(synced, crm_settings)
    assert run.counts["refetched"] >= 1
    with synced.transaction() as session:
        assert session.get_one(Member, member.id).status is MembershipStatus.CANCELLED


def test_hard_deletes_are_found_by_the_weekly_reconciliation(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        gone = session.scalars(select(Member).order_by(Member.id.desc()).limit(3)).all()
    for member in gone:
        for table in (
            "civicrm_email",
            "civicrm_phone",
            "civicrm_address",
            "civicrm_membership",
            "civicrm_group_contact",
        ):
            _sim(crm, f"DELETE FROM {table} WHERE contact_id = ?", int(member.crm_id))
        _sim(crm, "DELETE FROM civicrm_relationship WHERE contact_id_a = ?", int(member.crm_id))
        _sim(crm, "DELETE FROM civicrm_contact WHERE id = ?", int(member.crm_id))
    assert _nightly(synced, crm_settings).counts["removed"] == 0  # invisible to change markers
    port = make_crm_port(crm_settings)
    run = pull_full(synced, port, max_removed_share=0.02, kind=SyncKind.RECONCILE)
    port.close()
    assert run.counts["removed"] == 3
    with synced.transaction() as session:
        assert all(session.get_one(Member, member.id).removed_at is not None for member in gone)
        assert session.scalar(select(func.count()).select_from(Member)) >= 380  # tombstones, never deleted


def test_the_mass_removal_guard_trips_at_2_percent_and_changes_nothing(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        active = session.scalar(select(func.count()).select_from(Member).where(Member.removed_at.is_(None)))
        victims = session.scalars(select(Member.crm_id).limit(int(active * 0.02) + 1)).all()
        audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
        marks_before = session.scalars(select(SyncWatermark.position)).all()
    for crm_id in victims:  # just over 2 % trashed in one night
        _sim(
            crm,
            "UPDATE civicrm_contact SET is_deleted = 1, modified_date = datetime('now') WHERE id = ?",
            int(crm_id),
        )
    with pytest.raises(MassRemovalAborted):
        _nightly(synced, crm_settings)
    with synced.transaction() as session:
        assert (
            session.scalar(select(func.count()).select_from(Member).where(Member.removed_at.is_(None)))
            == active
        )
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
        assert session.scalars(select(SyncWatermark.position)).all() == marks_before
        run = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert run is not None
        assert run.outcome is SyncOutcome.ABORTED
        assert "would be removed" in run.error
    assert _nightly(synced, crm_settings, share=0.05).counts["removed"] == len(
        victims
    )  # a wider guard lets it through


def test_invalid_records_are_reported_and_skipped(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        bad, good = session.scalars(select(Member).order_by(Member.id).limit(2)).all()
    _sim(
        crm,
        "UPDATE civicrm_contact SET last_name = '', modified_date = datetime('now') WHERE id = ?",
        int(bad.crm_id),
    )
    _sim(
        crm,
        "UPDATE civicrm_contact SET first_name = 'Gerrit', modified_date = datetime('now') WHERE id = ?",
        int(good.crm_id),
    )
    run = _nightly(synced, crm_settings)
    assert run.outcome is SyncOutcome.SUCCEEDED
    assert run.counts["skipped_invalid"] == 1
    with synced.transaction() as session:
        assert session.get_one(Member, bad.id).family_name == bad.family_name  # never half-applied
        assert session.get_one(Member, good.id).given_name == "Gerrit"


def test_a_failed_run_leaves_the_watermark_where_it_was(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        marks = {row.stream: row.position for row in session.scalars(select(SyncWatermark))}
    assert marks  # the first pull set them
    crm.churn(1.0, seed=3)
    crm.set_faults(error_rate=1.0)
    with pytest.raises(Exception, match="CiviCRM"):
        _nightly(synced, crm_settings)
    crm.reset_faults()
    with synced.transaction() as session:
        assert {row.stream: row.position for row in session.scalars(select(SyncWatermark))} == marks
    run = _nightly(synced, crm_settings, share=0.5, overlap=timedelta(minutes=10))
    assert run.counts["updated"] > 0


def test_I14_a_changed_e_mail_in_the_crm_stays_the_same_member(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    with synced.transaction() as session:
        member = session.scalars(select(Member).order_by(Member.id)).first()
        assert member is not None
        count = session.scalar(select(func.count()).select_from(Member))
    _sim(
        crm,
        "UPDATE civicrm_email SET email = 'ander.adres@example.nl' WHERE contact_id = ? AND is_primary = 1",
        int(member.crm_id),
    )
    _sim(crm, "UPDATE civicrm_contact SET modified_date = datetime('now') WHERE id = ?", int(member.crm_id))
    assert _nightly(synced, crm_settings).counts["created"] == 0  # matched on the CRM id, not the e-mail
    with synced.transaction() as session:
        assert session.get_one(Member, member.id).email == "ander.adres@example.nl"
        assert session.scalar(select(func.count()).select_from(Member)) == count


def test_a_full_pull_validates_in_a_worker_process_with_the_same_result(crm: SimulatorHandle) -> None:
    from crm_sync.adapters.civicrm import CiviCrmAdapter, CiviCrmClient

    def pages(in_worker: bool) -> list[object]:
        adapter = CiviCrmAdapter(
            CiviCrmClient(crm.url, api_key=crm.api_key), page_size=50, validate_in_worker=in_worker
        )
        try:
            return [(page.records, page.invalid) for page in adapter.fetch_members()]
        finally:
            adapter.close()

    _sim(crm, "UPDATE civicrm_contact SET last_name = '' WHERE id = (SELECT MAX(id) FROM civicrm_contact)")
    inline, beside = pages(False), pages(True)
    assert len(inline) >= 8  # many pages: the worker process did most of them
    assert beside == inline
