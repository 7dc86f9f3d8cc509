"""Exactly one active presence under concurrency, enforced by the database (threads, own sessions)."""

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from audit.services import record_change, verify_chain
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.meetings import services
from portal.meetings.models import Attendance, Meeting
from portal.meetings.services import Outcome
from portal.meetings.testing import make_frozen_meeting, nonce, steward
from portal.members.models import Member, MembershipStatus
from portal.members.testing import make_member, make_org_unit

STEWARDS = 50


def _setup(database: Database, members: int = 1) -> tuple[int, list[str]]:
    with database.transaction() as session:
        branch = make_org_unit(session)
        people = [make_member(session, branch_id=branch.id) for _ in range(members)]
        meeting = make_frozen_meeting(session, org_unit_id=branch.id)
        return meeting.id, [person.member_number for person in people]


def _race(database: Database, work, count: int) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[index] = work(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _check_in_in_own_session(database: Database, meeting_id: int, number: str, steward_number: int, key: str):
    with database.transaction() as session:
        meeting = session.get(Meeting, meeting_id)
        assert meeting is not None
        return services.check_in_member(
            session, meeting=meeting, member_number=number, actor=steward(steward_number), nonce=key
        )


@pytest.mark.both_backends
def test_J1_fifty_stewards_check_in_the_same_member_at_once(database: Database) -> None:
    meeting_id, (number,) = _setup(database)
    results = _race(
        database,
        lambda index: _check_in_in_own_session(database, meeting_id, number, index + 1, nonce()),
        STEWARDS,
    )
    outcomes = Counter(
        result.outcome if not isinstance(result, Exception) else repr(result) for result in results
    )
    assert outcomes == {Outcome.CHECKED_IN: 1, Outcome.ALREADY_PRESENT: STEWARDS - 1}
    winner = next(result for result in results if result.outcome is Outcome.CHECKED_IN)
    assert {result.checked_in_by for result in results} == {winner.checked_in_by}
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Attendance)) == 1


@pytest.mark.both_backends
def test_J2_the_same_nonce_sent_twice_at_once_makes_one_row(database: Database) -> None:
    meeting_id, (number,) = _setup(database)
    key = nonce()
    results = _race(database, lambda index: _check_in_in_own_session(database, meeting_id, number, 1, key), 2)
    assert [result.outcome for result in results] == [Outcome.CHECKED_IN, Outcome.CHECKED_IN]
    assert sorted(result.replayed for result in results) == [False, True]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Attendance)) == 1


@pytest.mark.both_backends
def test_the_database_refuses_a_second_active_presence_whatever_the_code_does(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    meeting_id, (number,) = _setup(database)
    _check_in_in_own_session(database, meeting_id, number, 1, nonce())
    with database.transaction() as session:
        existing = session.scalars(select(Attendance)).one()
        copy = {
            column.key: getattr(existing, column.key)
            for column in Attendance.__table__.columns
            if column.key != "id"
        }
        copy["check_in_nonce"] = nonce()
        session.add(Attendance(**copy))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


@pytest.mark.both_backends
def test_J7_a_pull_updating_members_during_check_ins_loses_nothing(database: Database) -> None:
    meeting_id, numbers = _setup(database, members=20)

    def work(index: int):
        if index == 0:  # the nightly pull: versioned updates of every member row
            with database.transaction() as session:
                for member in session.scalars(select(Member)):
                    member.city = "Amersfoort"
                    member.dues_paid_through = utcnow().date() - timedelta(days=1)
                    member.status = MembershipStatus.GRACE
            return "pulled"
        return _check_in_in_own_session(database, meeting_id, numbers[(index - 1) % 20], index, nonce())

    results = _race(database, work, 41)
    assert not [result for result in results if isinstance(result, Exception)]
    with database.session() as session:
        present = session.scalar(select(func.count(func.distinct(Attendance.member_id))))
        assert present == 20
        assert set(session.scalars(select(Member.city))) == {"Amersfoort"}
        assert set(session.scalars(select(Member.version))) == {2}
        # The frozen roll still decides: the pull's changes did not touch anyone's voting right.
        assert set(session.scalars(select(Attendance.may_vote))) == {True}


@pytest.mark.both_backends
def test_check_out_races_check_in_of_the_same_member(database: Database) -> None:
    meeting_id, (number,) = _setup(database)
    _check_in_in_own_session(database, meeting_id, number, 1, nonce())

    def work(index: int):
        with database.transaction() as session:
            meeting = session.get(Meeting, meeting_id)
            assert meeting is not None
            if index % 2:
                return services.check_out_member(
                    session, meeting=meeting, member_number=number, actor=steward(index), nonce=nonce()
                )
            return services.check_in_member(
                session, meeting=meeting, member_number=number, actor=steward(index), nonce=nonce()
            )

    results = _race(database, work, 20)
    assert not [result for result in results if isinstance(result, Exception)]
    with database.session() as session:
        active = session.scalar(
            select(func.count()).select_from(Attendance).where(Attendance.checked_out_at.is_(None))
        )
        assert active in (0, 1)
        session.execute(update(Attendance).values(checked_out_at=utcnow()))


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_check_in_waits_for_a_pull_that_holds_the_member_and_neither_deadlocks(database: Database) -> None:
    """The CRM pull locks a page of members FOR UPDATE and then appends to the audit chain. A check-in
    of one of those members must wait for the member before it takes the chain's head: the other way
    round, each would wait for the other and PostgreSQL would abort one of them as a deadlock."""
    meeting_id, (number,) = _setup(database)
    result: list = []
    with database.transaction() as pulling:
        member = pulling.scalar(select(Member).where(Member.member_number == number).with_for_update())
        assert member is not None
        door = threading.Thread(
            target=lambda: result.append(_check_in_in_own_session(database, meeting_id, number, 1, nonce()))
        )
        door.start()
        with database.engine.connect() as watching:  # until the check-in waits on a lock
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                waiting = watching.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                watching.rollback()
                if waiting:
                    break
                time.sleep(0.02)
            else:
                pytest.fail("the check-in never waited for the member the pull holds")
        record_change(  # as the pull does next; the head must be free
            pulling,
            actor=Actor.system("crm-pull"),
            action="members.pull_update",
            target=member,
            changes={"city": ["Utrecht", "Zeist"]},
        )
    door.join(timeout=30)
    assert [answer.outcome for answer in result] == [Outcome.CHECKED_IN]
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Attendance)) == 1
        assert verify_chain(session).is_intact
