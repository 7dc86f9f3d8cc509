"""Reading the mutation log back: filters, keyset paging newest first, the actions it holds, reads."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy.orm import Session

from audit.services import record_change, record_read
from audit.viewer import LogFilter, count_matching, known_actions, log_page, reads_page
from portal.core.actors import Actor

pytestmark = pytest.mark.both_backends
ALICE = Actor.account(7, "Alice Officer")
BOB = Actor.account(8, "Bob Admin")
PULL = Actor.system("crm-pull")


def _write(session: Session, count: int, *, actor: Actor = ALICE, action: str = "members.update") -> None:
    for index in range(count):
        record_change(
            session,
            actor=actor,
            action=action,
            target=("members", index + 1),
            changes={"n": [index, index + 1]},
        )
    session.commit()


def test_pages_walk_the_whole_log_newest_first_each_entry_once(db_session: Session) -> None:
    _write(db_session, 23)
    seen: list[int] = []
    before = None
    pages = 0
    while True:
        page = log_page(db_session, LogFilter(), before=before, size=10)
        seen += [entry.seq for entry in page.rows]
        pages += 1
        if page.older is None:
            break
        before = page.older
    assert pages == 3
    assert seen == list(range(23, 0, -1))


def test_a_page_exactly_full_says_there_is_nothing_older(db_session: Session) -> None:
    _write(db_session, 10)
    page = log_page(db_session, LogFilter(), size=10)
    assert len(page.rows) == 10
    assert page.older is None


def test_filters_by_action_person_record_and_dates(db_session: Session) -> None:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        _write(db_session, 2, actor=ALICE, action="members.update")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        _write(db_session, 1, actor=BOB, action="meetings.check_in")
        _write(db_session, 1, actor=PULL, action="members.pull_update")
    everything = log_page(db_session, LogFilter()).rows
    assert len(everything) == 4

    def actions(wanted: LogFilter) -> list[str]:
        return [entry.action for entry in log_page(db_session, wanted).rows]

    assert actions(LogFilter(actions=("meetings.check_in",))) == ["meetings.check_in"]
    assert actions(LogFilter(actions=("members.update", "members.pull_update"))) == [
        "members.pull_update",
        "members.update",
        "members.update",
    ]
    assert actions(LogFilter(actor_id=8)) == ["meetings.check_in"]
    assert actions(LogFilter(target_type="members", target_id="2")) == ["members.update"]
    assert actions(LogFilter(target_type="members", target_id="%")) == []  # no wildcards
    assert actions(LogFilter(records=(("members", "2"), ("members", "1")))) == [
        "members.pull_update",
        "meetings.check_in",
        "members.update",
        "members.update",
    ]
    assert actions(LogFilter(records=(("members", "2"), ("accounts", "1")))) == ["members.update"]
    assert actions(LogFilter(until=start + timedelta(days=1))) == ["members.update", "members.update"]
    assert actions(LogFilter(since=start + timedelta(days=1))) == ["members.pull_update", "meetings.check_in"]
    assert actions(LogFilter(since=start, until=start)) == []  # the end is exclusive


def test_a_system_actor_never_matches_an_account_filter(db_session: Session) -> None:
    _write(db_session, 1, actor=Actor("system", 7, "a job that carries an id"))
    assert log_page(db_session, LogFilter(actor_id=7)).rows == []


def test_the_actions_the_log_holds_are_listed_once_in_order(db_session: Session) -> None:
    assert known_actions(db_session) == []
    _write(db_session, 3, action="members.update")
    _write(db_session, 2, action="auth.sign_in")
    _write(db_session, 1, action="meetings.freeze_roll")
    assert known_actions(db_session) == ["auth.sign_in", "meetings.freeze_roll", "members.update"]


def test_counting_stops_at_the_cap(db_session: Session) -> None:
    _write(db_session, 12)
    assert count_matching(db_session, LogFilter(), cap=20) == (12, False)
    assert count_matching(db_session, LogFilter(), cap=12) == (12, False)
    assert count_matching(db_session, LogFilter(), cap=5) == (5, True)
    assert count_matching(db_session, LogFilter(actions=("none.such",))) == (0, False)


def test_reads_of_one_person_page_newest_first(db_session: Session) -> None:
    for index in range(7):
        record_read(db_session, actor=ALICE, subject_member_id=1, purpose=f"look {index}")
    record_read(db_session, actor=ALICE, subject_member_id=2, purpose="someone else")
    db_session.commit()
    first = reads_page(db_session, subject_member_ids=[1], size=5)
    assert [read.purpose for read in first.rows] == [f"look {index}" for index in range(6, 1, -1)]
    rest = reads_page(db_session, subject_member_ids=[1], before=first.older, size=5)
    assert [read.purpose for read in rest.rows] == ["look 1", "look 0"]
    assert rest.older is None


def test_a_family_of_actions_pages_in_chain_order_across_its_actions(db_session: Session) -> None:
    kinds = ["members.update", "meetings.check_in", "members.pull_update"]
    for index in range(30):
        record_change(
            db_session,
            actor=ALICE if index % 4 else BOB,
            action=kinds[index % 3],
            target=("members", index),
            changes={},
        )
    db_session.commit()
    wanted = LogFilter(actions=("members.update", "members.pull_update"), actor_id=7)
    expected = [seq for seq in range(30, 0, -1) if (seq - 1) % 3 != 1 and (seq - 1) % 4]
    seen: list[int] = []
    page = log_page(db_session, wanted, size=4)
    seen += [entry.seq for entry in page.rows]
    while page.older is not None:
        page = log_page(db_session, wanted, before=page.older, size=4)
        seen += [entry.seq for entry in page.rows]
    assert seen == expected


def test_reads_of_one_account_list_whose_data_it_looked_at(db_session: Session) -> None:
    record_read(db_session, actor=ALICE, subject_member_id=1, purpose="call list")
    record_read(db_session, actor=ALICE, subject_member_id=2, purpose="member detail")
    record_read(db_session, actor=BOB, subject_member_id=3, purpose="export")
    record_read(db_session, actor=Actor("system", 7, "a job"), subject_member_id=4, purpose="job")
    db_session.commit()
    page = reads_page(db_session, actor_id=7)
    assert [(read.subject_member_id, read.purpose) for read in page.rows] == [
        (2, "member detail"),
        (1, "call list"),
    ]
    with pytest.raises(ValueError, match="one of the two"):
        reads_page(db_session, actor_id=7, subject_member_ids=[1])
    with pytest.raises(ValueError, match="one of the two"):
        reads_page(db_session)
