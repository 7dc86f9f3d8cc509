"""`update_member` writes the member, the audit diff and the outbox message in one transaction, and the
relay claims messages one worker at a time, oldest first per member (SQLite and PostgreSQL)."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from crm_sync.models import OutboxMessage, OutboxStatus
from crm_sync.push import DeliveryState, delivery_state, replay_message
from crm_sync.push.relay import claim
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.core.errors import Conflict, ValidationFailed
from portal.members.models import Member
from portal.members.services import update_member
from portal.members.testing import make_member, make_org_unit

pytestmark = pytest.mark.both_backends
EDITOR = Actor.account(7, "Jan Editor")


@pytest.fixture
def member_id(database: Database) -> int:
    with database.transaction() as session:
        branch = make_org_unit(session)
        return make_member(session, branch_id=branch.id, email="oud@example.nl", city="Utrecht").id


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_an_edit_writes_member_audit_and_outbox_together(database: Database, member_id: int) -> None:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        result = update_member(
            session, actor=EDITOR, member=member, changes={"email": " Nieuw@Example.NL ", "city": "Utrecht"}
        )
    assert result.changes == {"email": ["oud@example.nl", "nieuw@example.nl"]}
    with database.transaction() as session:
        message = session.scalars(select(OutboxMessage)).one()
        assert message.status is OutboxStatus.PENDING
        assert message.member_id == member_id
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.updated")).one()
        assert entry.changes == {"email": ["oud@example.nl", "nieuw@example.nl"]}
        assert session.get_one(Member, member_id).version == 2
        assert delivery_state(session, member_id).state is DeliveryState.WAITING


def test_I13_the_payload_holds_the_changed_fields_only(database: Database, member_id: int) -> None:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        update_member(
            session, actor=EDITOR, member=member, changes={"email": "nieuw@example.nl", "city": "Utrecht"}
        )
    with database.transaction() as session:
        payload = session.scalars(select(OutboxMessage.payload)).one()
    assert payload == {"set": {"email": "nieuw@example.nl"}, "previous": {"email": "oud@example.nl"}}


def test_I2_an_edit_rolled_back_leaves_no_outbox_message(database: Database, member_id: int) -> None:
    def failing_request() -> None:
        with database.transaction() as session:
            member = session.get_one(Member, member_id)
            update_member(session, actor=EDITOR, member=member, changes={"city": "Zeist"})
            raise RuntimeError("the view failed after the service")

    with pytest.raises(RuntimeError):
        failing_request()
    with database.transaction() as session:
        assert _count(session, OutboxMessage) == 0
        assert session.get_one(Member, member_id).city == "Utrecht"


def test_forbidden_and_unknown_fields_are_refused(database: Database, member_id: int) -> None:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        with pytest.raises(ValidationFailed) as refused:
            update_member(
                session, actor=EDITOR, member=member, changes={"status": "current", "shoe_size": 44}
            )
        assert set(refused.value.fields) == {"status", "shoe_size"}
        with pytest.raises(ValidationFailed):
            update_member(session, actor=EDITOR, member=member, changes={"house_number": "12"})
        with pytest.raises(Conflict):
            update_member(session, actor=EDITOR, member=member, changes={"city": "Ede"}, expected_version=99)


def test_an_edit_without_a_change_writes_nothing(database: Database, member_id: int) -> None:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        assert (
            update_member(session, actor=EDITOR, member=member, changes={"city": " Utrecht "}).message_ids
            == []
        )
    with database.transaction() as session:
        assert _count(session, OutboxMessage) == 0
        assert _count(session, AuditEntry) == 0


def test_I10_later_edits_of_a_member_wait_for_the_earlier_one(database: Database, member_id: int) -> None:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        first = update_member(session, actor=EDITOR, member=member, changes={"city": "Ede"}).message_ids
        second = update_member(session, actor=EDITOR, member=member, changes={"city": "Epe"}).message_ids
    now = utcnow()
    assert [c.id for c in claim(database, limit=10, now=now, worker="a")] == first
    assert claim(database, limit=10, now=now, worker="b") == []  # the first is in flight; the second waits
    with database.transaction() as session:
        message = session.get_one(OutboxMessage, first[0])
        message.status, message.last_error = OutboxStatus.DEAD, "refused"
    assert (
        claim(database, limit=10, now=now, worker="b") == []
    )  # strictly in order: a dead letter holds it back
    with database.transaction() as session:
        replay_message(session, actor=EDITOR, message_id=first[0])
    assert [c.id for c in claim(database, limit=10, now=now + timedelta(minutes=3), worker="c")] == first
    with database.transaction() as session:
        session.get_one(OutboxMessage, first[0]).status = OutboxStatus.DELIVERED
    assert [c.id for c in claim(database, limit=10, now=now + timedelta(minutes=3), worker="c")] == second


def test_I9_concurrent_claims_never_hand_out_a_message_twice(database: Database) -> None:
    with database.transaction() as session:
        branch = make_org_unit(session)
        members = [make_member(session, branch_id=branch.id) for _ in range(60)]
        for member in members:
            update_member(session, actor=EDITOR, member=member, changes={"city": f"Stad {member.id}"})
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            batch = claim(database, limit=7, now=utcnow(), worker=name)
            if not batch:
                return
            with lock:
                claimed.extend(message.id for message in batch)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 60
    assert len(set(claimed)) == 60
