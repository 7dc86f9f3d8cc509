"""The mutation log is a hash chain: edits, deletions and reordering are found and named."""

import threading
from datetime import date

import pytest
from sqlalchemy import delete, event, select, text, update
from sqlalchemy.orm import Session

from audit.models import AuditChainHead, AuditEntry
from audit.services import diff, record_change, record_changes, verify_chain
from portal.core import context
from portal.core.actors import Actor
from portal.members.models import MembershipStatus

pytestmark = pytest.mark.both_backends
ALICE = Actor.account(7, "Alice Officer")


def _write_entries(session: Session, count: int) -> list[AuditEntry]:
    entries = [
        record_change(
            session,
            actor=ALICE,
            action="member.updated",
            target=("members", index),
            changes={
                "phone": ["+31600000000", f"+3161234567{index}"],
                "status": [None, MembershipStatus.CURRENT],
            },
        )
        for index in range(1, count + 1)
    ]
    session.commit()
    return entries


def test_entries_carry_actor_target_diff_time_and_request_id(db_session: Session) -> None:
    token = context.request_id.set("req-123")
    try:
        entry = record_change(
            db_session,
            actor=ALICE,
            action="member.updated",
            target=("members", 42),
            changes={
                "birth_date": [date(1980, 1, 2), date(1980, 2, 1)],
                "status": [None, MembershipStatus.GRACE],
            },
        )
        db_session.commit()
    finally:
        context.request_id.reset(token)
    stored = db_session.scalars(select(AuditEntry)).one()
    assert stored.id == entry.id
    assert (stored.actor_kind, stored.actor_id, stored.actor_label) == ("account", 7, "Alice Officer")
    assert (stored.target_type, stored.target_id) == ("members", "42")
    assert stored.changes == {"birth_date": ["1980-01-02", "1980-02-01"], "status": [None, "grace"]}
    assert stored.request_id == "req-123"
    assert stored.occurred_at.tzinfo is not None
    assert stored.seq == 1


def test_an_intact_chain_verifies(db_session: Session) -> None:
    _write_entries(db_session, 5)
    record_changes(
        db_session,
        actor=Actor.system("crm-pull"),
        entries=[("member.created_from_crm", ("members", 9), {"member_number": [None, "123"]})] * 3,
    )
    db_session.commit()
    report = verify_chain(db_session)
    assert report.is_intact
    assert report.checked == 8


def test_an_edited_entry_is_named(db_session: Session) -> None:
    entries = _write_entries(db_session, 5)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == entries[2].id).values(actor_label="Mallory"))
    db_session.commit()
    report = verify_chain(db_session)
    assert not report.is_intact
    assert (report.broken_seq, report.broken_id) == (3, entries[2].id)
    assert "changed" in report.reason


def test_an_edited_diff_is_named(db_session: Session) -> None:
    entries = _write_entries(db_session, 4)
    db_session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[1].id).values(changes={"phone": ["a", "b"]})
    )
    db_session.commit()
    assert verify_chain(db_session).broken_seq == 2


def test_a_deleted_entry_is_named(db_session: Session) -> None:
    entries = _write_entries(db_session, 5)
    db_session.execute(delete(AuditEntry).where(AuditEntry.id == entries[1].id))
    db_session.commit()
    report = verify_chain(db_session)
    assert report.broken_seq == 2
    assert "missing" in report.reason


def test_removing_the_newest_entries_is_noticed(db_session: Session) -> None:
    entries = _write_entries(db_session, 3)
    db_session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    db_session.commit()
    report = verify_chain(db_session)
    assert not report.is_intact
    assert report.broken_seq == 3


def test_reordered_entries_are_named(db_session: Session) -> None:
    entries = _write_entries(db_session, 4)
    first, second = entries[1], entries[2]
    # swap the sequence numbers of entries 2 and 3 (via a free number, seq is unique)
    db_session.execute(update(AuditEntry).where(AuditEntry.id == first.id).values(seq=-1))
    db_session.execute(update(AuditEntry).where(AuditEntry.id == second.id).values(seq=2))
    db_session.execute(update(AuditEntry).where(AuditEntry.id == first.id).values(seq=3))
    db_session.commit()
    report = verify_chain(db_session)
    assert report.broken_seq == 2
    assert report.broken_id == second.id


def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(db_session: Session) -> None:
    _write_entries(db_session, 2)
    record_change(
        db_session, actor=ALICE, action="member.updated", target=("members", 1), changes={"x": [1, 2]}
    )
    db_session.rollback()
    _write_entries(db_session, 1)
    assert verify_chain(db_session).is_intact
    assert db_session.get(AuditChainHead, 1).seq == 3  # type: ignore[union-attr]


def test_diff_lists_only_changed_fields() -> None:
    assert diff({"a": 1, "b": "x", "c": None}, {"a": 1, "b": "y", "c": date(2020, 1, 1)}) == {
        "b": ["x", "y"],
        "c": [None, "2020-01-01"],
    }


def test_flask_audit_verify_reports_the_broken_entry(runner, db_session: Session) -> None:
    entries = _write_entries(db_session, 3)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0
    assert "intact: 3 entries" in ok.output
    db_session.execute(
        text("UPDATE audit_entries SET action = 'member.viewed' WHERE id = :id"), {"id": entries[0].id}
    )
    db_session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"entry #1 (id {entries[0].id})" in broken.output


def test_concurrent_writers_each_chain_onto_the_previous_entry(database) -> None:
    """Writers read the head without a lock and move it only if it is still there: under a race
    every entry still follows the one before it, with no gap and no duplicate sequence number."""
    writers, each = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for index in range(each):
                with database.transaction() as session:
                    record_change(
                        session,
                        actor=ALICE,
                        action="member.updated",
                        target=("members", worker * 100 + index),
                        changes={"note": [None, f"{worker}-{index}"]},
                    )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with database.session() as session:
        report = verify_chain(session)
        seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert report.is_intact, report
    assert report.checked == writers * each
    assert list(seqs) == list(range(1, writers * each + 1))


def test_the_head_row_is_locked_only_by_the_last_statement(database) -> None:
    """PostgreSQL appends in one statement that moves the head (hashing in SQL) and inserts the entry,
    so the head's row lock is taken only by the last statement before the commit. SQLite serialises
    writers at BEGIN IMMEDIATE; there the head moves by compare-and-swap, then the entry."""
    statements: list[str] = []
    with database.transaction() as session:
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        recorded = record_change(
            session, actor=ALICE, action="member.updated", target=("members", 1), changes={"x": [1, 2]}
        )
    head = [index for index, sql in enumerate(statements) if "audit_chain_head" in sql]
    writes = [
        index
        for index, sql in enumerate(statements)
        if sql.lstrip().upper().startswith(("UPDATE", "INSERT", "WITH"))
    ]
    if database.is_sqlite:
        # read the head, move it only if it is still where it was read (compare-and-swap), append
        assert len(statements) == 3, statements
        assert writes == [1, 2]
        assert head == [0, 1]
        assert "seq = ?" in statements[1]
    else:
        assert len(statements) == 1, statements  # move the head and append, in one statement
        assert writes == head == [0]
        assert "sha256" in statements[0]
    assert "FOR UPDATE" not in statements[0].upper()
    with database.session() as session:
        stored = session.get(AuditEntry, recorded.id)
        assert stored is not None
        assert (stored.seq, stored.entry_hash) == (recorded.seq, recorded.entry_hash)
        assert session.get(AuditChainHead, 1).last_hash == recorded.entry_hash  # type: ignore[union-attr]
