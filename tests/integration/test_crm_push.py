"""Portal edits reach the CRM simulator over HTTP: at once, after outages, in order, exactly as meant."""

import sqlite3
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from config import Settings
from crm_sync.composition import make_crm_port
from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict
from crm_sync.push import DeliveryState, deliver_now, delivery_state, drain, replay_all
from crm_sync.simulator.testing import SimulatorHandle
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.members.models import Member


def _contact(crm: SimulatorHandle, contact_id: str) -> dict[str, object]:
    with sqlite3.connect(crm.db_path) as connection:
        connection.row_factory = sqlite3.Row
        row = connection.execute("SELECT * FROM civicrm_contact WHERE id = ?", (int(contact_id),)).fetchone()
        email = connection.execute(
            "SELECT email FROM civicrm_email WHERE contact_id = ? AND is_primary = 1", (int(contact_id),)
        ).fetchone()
    return {**dict(row), "email": email[0] if email else None}


def _members(database: Database, count: int) -> list[tuple[int, str]]:
    with database.transaction() as session:
        rows = session.execute(
            select(Member.id, Member.crm_id)
            .where(Member.removed_at.is_(None))
            .order_by(Member.id)
            .limit(count)
        ).all()
    return [(row.id, row.crm_id) for row in rows]


def _statuses(database: Database) -> dict[OutboxStatus, int]:
    with database.transaction() as session:
        return dict(
            session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
        )


def test_an_edit_is_pushed_at_once_and_reads_back_unchanged(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    ((member_id, crm_id),) = _members(synced, 1)
    ids = edit_member(member_id, given_name="Jorinde", email="Jorinde.Test@Example.NL", mobile="06-98765432")
    port = make_crm_port(crm_settings)
    report = deliver_now(synced, port, ids, timeout=2)
    port.close()
    assert report.delivered == 1
    contact = _contact(crm, crm_id)
    assert contact["first_name"] == "Jorinde"
    assert contact["email"] == "jorinde.test@example.nl"
    with synced.transaction() as session:
        assert delivery_state(session, member_id).state is DeliveryState.DELIVERED
    # The next pull finds the CRM holding exactly the replica's values: nothing to write.
    from crm_sync.pull import pull_incremental

    port = make_crm_port(crm_settings)
    run = pull_incremental(synced, port, max_removed_share=0.02)
    port.close()
    assert run.counts["updated"] == 0


def test_a_duplicate_delivery_changes_nothing(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    ((member_id, crm_id),) = _members(synced, 1)
    ids = edit_member(member_id, city="Zwolle")
    port = make_crm_port(crm_settings)
    deliver_now(synced, port, ids)
    modified = _contact(crm, crm_id)["modified_date"]
    crm.clear_requests()
    with synced.transaction() as session:  # as if the relay died before it could mark the message sent
        session.get_one(OutboxMessage, ids[0]).status = OutboxStatus.PENDING
    report = deliver_now(synced, port, ids)
    port.close()
    assert report.delivered == 1
    assert crm.requests() == []  # the CRM already held the value: nothing written
    assert _contact(crm, crm_id)["modified_date"] == modified


def test_I5_429_with_retry_after_is_honoured(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    ((member_id, _crm_id),) = _members(synced, 1)
    ids = edit_member(member_id, city="Delft")
    crm.set_faults(rate_limit_retry_after=120)
    port = make_crm_port(crm_settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        report = deliver_now(synced, port, ids)
        assert report.paused_until == utcnow() + timedelta(seconds=120)
        with synced.transaction() as session:
            message = session.get_one(OutboxMessage, ids[0])
            assert message.next_attempt_at >= utcnow() + timedelta(seconds=120)
        crm.reset_faults()
        clock.shift(timedelta(seconds=119))
        assert drain(synced, port).claimed == 0  # not a single call before Retry-After has passed
        clock.shift(timedelta(seconds=2))
        assert drain(synced, port).delivered == 1
    port.close()


def test_crm_down_during_1000_edits_then_back_delivers_every_edit_in_order(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    members = _members(synced, 100)
    crm.set_faults(down=True)
    port = make_crm_port(crm_settings)
    for round_ in range(10):
        for member_id, _crm_id in members:
            ids = edit_member(member_id, given_name=f"Naam{round_}x{member_id}")
            deliver_now(synced, port, ids, timeout=1)  # each immediate try fails: the CRM is down
    assert _statuses(synced) == {OutboxStatus.PENDING: 1000}
    crm.reset_faults()
    crm.clear_requests()
    with time_machine.travel(utcnow() + timedelta(hours=2), tick=True):
        report = drain(synced, port, batch_size=100)
        while report.claimed:  # later edits of a member wait for the earlier ones
            report = drain(synced, port, batch_size=100)
    port.close()
    assert _statuses(synced) == {OutboxStatus.DELIVERED: 1000}
    seen: dict[int, list[int]] = {}
    for request in crm.requests("Contact", "save"):
        for record in request["params"]["records"]:
            round_ = int(str(record["first_name"]).removeprefix("Naam").split("x")[0])
            seen.setdefault(int(record["id"]), []).append(round_)
    assert len(seen) == 100
    assert all(rounds == list(range(10)) for rounds in seen.values())  # every edit once, in order


def _email_rows(crm: SimulatorHandle, crm_id: str) -> list[str]:
    with sqlite3.connect(crm.db_path) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT email FROM civicrm_email WHERE contact_id = ? ORDER BY id", (int(crm_id),)
            )
        ]


def test_I4_crm_applies_then_fails_the_retry_makes_no_duplicate(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    ((member_id, crm_id),) = _members(synced, 1)
    rows_before = len(_email_rows(crm, crm_id))
    ids = edit_member(member_id, email="nieuw.adres@example.nl")
    crm.set_faults(fail_after_write=2)  # the batched save and its single retry: applied, answered 500
    port = make_crm_port(crm_settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        first = deliver_now(synced, port, ids)
        assert first.retrying == 1  # a 500 says nothing: maybe applied, maybe not
        assert "nieuw.adres@example.nl" in _email_rows(crm, crm_id)  # it was applied
        crm.clear_requests()
        clock.shift(timedelta(minutes=20))
        assert drain(synced, port).delivered == 1
    port.close()
    assert crm.requests() == []  # the retry saw the value in place and wrote nothing
    assert len(_email_rows(crm, crm_id)) == max(rows_before, 1)  # one primary e-mail, no duplicate row


def test_I8_a_poison_message_goes_to_the_dead_letters_and_blocks_no_one_else(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    members = _members(synced, 11)
    poison = edit_member(members[0][0], email="not-an-address")
    for member_id, _crm_id in members[1:]:
        edit_member(member_id, city="Assen")
    port = make_crm_port(crm_settings)
    report = drain(synced, port)
    port.close()
    assert report.delivered == 10
    assert report.dead == 1
    with synced.transaction() as session:
        assert session.get_one(OutboxMessage, poison[0]).status is OutboxStatus.DEAD
        assert delivery_state(session, members[0][0]).state is DeliveryState.NEEDS_ATTENTION


def test_I7_three_days_down_dead_letters_after_48h_and_replay_delivers_in_order(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    members = _members(synced, 50)
    crm.set_faults(down=True)
    port = make_crm_port(crm_settings)
    start = utcnow()
    with time_machine.travel(start, tick=False) as clock:
        for hour in range(0, 72, 6):
            for member_id, _crm_id in members[:40]:
                edit_member(member_id, city=f"Stad{hour:02d}")
            drain(synced, port)
            clock.shift(timedelta(hours=6))
        with synced.transaction() as session:
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 480
        statuses = _statuses(synced)
        assert statuses[OutboxStatus.DEAD] > 0  # the oldest ones gave up after 48 h
        crm.reset_faults()
        with synced.transaction() as session:
            replay_all(session, actor=Actor.system("admin-test"))
        clock.shift(timedelta(minutes=1))
        while drain(synced, port).claimed:
            pass
    port.close()
    assert _statuses(synced) == {OutboxStatus.DELIVERED: 480}
    assert {_contact(crm, crm_id)["id"]: _contact(crm, crm_id) for _, crm_id in members[:1]}
    for _member_id, crm_id in members[:40]:
        with sqlite3.connect(crm.db_path) as connection:
            city = connection.execute(
                "SELECT city FROM civicrm_address WHERE contact_id = ? AND is_primary = 1", (int(crm_id),)
            ).fetchone()[0]
        assert city == "Stad66"  # the last edit won


def test_I11_the_pull_keeps_a_pending_edit_and_records_a_conflict(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    (first_id, first_crm), (second_id, second_crm) = _members(synced, 2)
    crm.set_faults(down=True)
    edit_member(first_id, city="Portaalstad")
    edit_member(second_id, city="Portaalstad")
    crm.reset_faults()
    with sqlite3.connect(crm.db_path) as connection:  # the administration changes the second one's city too
        connection.execute(
            "UPDATE civicrm_address SET city = 'Crmstad' WHERE contact_id = ?", (int(second_crm),)
        )
        connection.execute(
            "UPDATE civicrm_contact SET modified_date = datetime('now', '+1 minute') WHERE id IN (?, ?)",
            (int(first_crm), int(second_crm)),
        )
    from crm_sync.pull import pull_incremental

    port = make_crm_port(crm_settings)
    run = pull_incremental(synced, port, max_removed_share=0.02)
    assert run.counts["conflicts"] == 1
    with synced.transaction() as session:
        assert session.get_one(Member, first_id).city == "Portaalstad"
        assert session.get_one(Member, second_id).city == "Portaalstad"  # never overwritten
        conflict = session.scalars(select(SyncConflict)).one()
        assert (conflict.member_id, conflict.field, conflict.crm_value, conflict.portal_value) == (
            second_id,
            "city",
            "Crmstad",
            "Portaalstad",
        )
    report = drain(synced, port)
    port.close()
    assert report.delivered == 1  # the first one; the second waits for an admin


@pytest.mark.parametrize("field", ["mobile", "phone"])
def test_mobile_and_landline_are_kept_apart(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member, field: str
) -> None:
    ((member_id, _crm_id),) = _members(synced, 1)
    number = "+31612345678" if field == "mobile" else "+31201234567"
    ids = edit_member(member_id, **{field: number})
    port = make_crm_port(crm_settings)
    assert deliver_now(synced, port, ids).delivered == 1
    from crm_sync.pull import pull_full

    pull_full(synced, port, max_removed_share=0.02)
    port.close()
    with synced.transaction() as session:
        assert getattr(session.get_one(Member, member_id), field) == number


def test_views_push_after_their_commit_with_push_now(
    crm_app, synced: Database, crm: SimulatorHandle, edit_member
) -> None:  # type: ignore[no-untyped-def]
    from crm_sync.web import push_now

    ((member_id, _crm_id),) = _members(synced, 1)
    ids = edit_member(member_id, city="Meppel")
    with crm_app.app_context():
        assert push_now(ids).delivered == 1
        crm.set_faults(down=True)
        later = edit_member(member_id, city="Hoorn")
        assert push_now(later).retrying == 1  # never raises: the edit waits for the retry job
    with synced.transaction() as session:
        assert delivery_state(session, member_id).state is DeliveryState.WAITING


def test_I13_no_credential_reaches_the_logs(
    synced: Database,
    crm_settings: Settings,
    crm: SimulatorHandle,
    edit_member,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    ((member_id, _crm_id),) = _members(synced, 1)
    ids = edit_member(member_id, email="broken-address")
    crm.set_faults(error_rate=1.0)
    port = make_crm_port(crm_settings)
    deliver_now(synced, port, ids)
    crm.reset_faults()
    deliver_now(synced, port, ids)
    port.close()
    assert caplog.text  # something was logged …
    assert crm_settings.crm_api_key not in caplog.text  # … but never the key
