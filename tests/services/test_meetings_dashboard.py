"""The chair's dashboard, presence snapshots, exports and the pseudonymisation job."""

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from portal.core.clock import utcnow
from portal.meetings import services
from portal.meetings.models import (
    Attendance,
    CheckInAttempt,
    Meeting,
    PresenceSnapshotEntry,
    StewardAssignment,
    VoterRollEntry,
)
from portal.meetings.quorum import QuorumKind
from portal.meetings.services import Signal
from portal.meetings.testing import CHAIR, make_frozen_meeting, nonce, steward
from portal.members.models import Member
from portal.members.testing import make_member, make_org_unit


@pytest.fixture
def meeting_with_people(db_session: Session) -> tuple[Meeting, list[Member]]:
    branch = make_org_unit(db_session)
    people = [make_member(db_session, branch_id=branch.id) for _ in range(10)]
    meeting = make_frozen_meeting(
        db_session,
        org_unit_id=branch.id,
        quorum_kind=QuorumKind.SHARE_OF_ELIGIBLE,
        quorum_numerator=1,
        quorum_denominator=2,
    )
    return meeting, people


def _in(session: Session, meeting: Meeting, member: Member):
    return services.check_in_member(
        session, meeting=meeting, member_number=member.member_number, actor=steward(), nonce=nonce()
    )


def test_quorum_is_reached_when_half_the_voters_are_in(db_session: Session, meeting_with_people) -> None:
    meeting, people = meeting_with_people
    for person in people[:4]:
        _in(db_session, meeting, person)
    counts = services.live_counts(db_session, meeting)
    assert (counts.eligible, counts.present_voters, counts.quorum.required, counts.quorum.is_reached) == (
        10,
        4,
        5,
        False,
    )
    _in(db_session, meeting, people[4])
    assert services.live_counts(db_session, meeting).quorum.is_reached is True
    services.check_out_member(
        db_session, meeting=meeting, member_number=people[0].member_number, actor=steward(), nonce=nonce()
    )
    assert services.live_counts(db_session, meeting).quorum.is_reached is False


def test_a_snapshot_freezes_who_was_present_for_a_vote(db_session: Session, meeting_with_people) -> None:
    meeting, people = meeting_with_people
    for person in people[:3]:
        _in(db_session, meeting, person)
    services.register_guest(db_session, meeting=meeting, name="Pers", note="", actor=steward(), nonce=nonce())
    snapshot = services.take_snapshot(db_session, meeting=meeting, label="Stemming motie 3", actor=CHAIR)
    _in(db_session, meeting, people[5])
    services.check_out_member(
        db_session, meeting=meeting, member_number=people[0].member_number, actor=steward(), nonce=nonce()
    )
    assert (snapshot.present_count, snapshot.voting_count, snapshot.guest_count) == (4, 3, 1)
    frozen = services.snapshot_rows(db_session, snapshot)
    names = {row.name for row, _may_vote in frozen}
    assert sum(may_vote for _row, may_vote in frozen) == 3
    assert names == {people[0].display_name, people[1].display_name, people[2].display_name, "Pers"}
    assert db_session.scalar(select(func.count()).select_from(PresenceSnapshotEntry)) == 4
    with pytest.raises(Exception, match="Name the moment"):
        services.take_snapshot(db_session, meeting=meeting, label="  ", actor=CHAIR)


def test_exports_are_audited_and_member_data_lists_own_rows(db_session: Session, meeting_with_people) -> None:
    meeting, people = meeting_with_people
    _in(db_session, meeting, people[0])
    assert len(services.roll_entries(db_session, meeting)) == 10
    services.record_export(db_session, meeting=meeting, what="roll", file_format="pdf", rows=10, actor=CHAIR)
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "meetings.export"))
    assert entry is not None
    assert entry.changes["rows"] == [None, 10]
    mine = services.member_attendance_data(db_session, people[0].id)
    assert [row["record"] for row in mine] == ["voter_roll", "attendance"]
    assert all(row["meeting"] == meeting.title for row in mine)
    other = services.member_attendance_data(db_session, people[1].id)
    assert [row["record"] for row in other] == ["voter_roll"]


def test_the_pseudonymisation_job_keeps_the_counts(db_session: Session, meeting_with_people) -> None:
    meeting, people = meeting_with_people
    services.assign_steward(db_session, meeting=meeting, member_number=people[9].member_number, actor=CHAIR)
    for person in people[:6]:
        _in(db_session, meeting, person)
    services.check_out_member(
        db_session, meeting=meeting, member_number=people[0].member_number, actor=steward(), nonce=nonce()
    )
    _in(db_session, meeting, people[0])  # re-entry: a second interval for the same person
    services.register_guest(
        db_session, meeting=meeting, name="Jan Pers", note="NRC", actor=steward(), nonce=nonce()
    )
    services.override_voting_right(
        db_session,
        meeting=meeting,
        member_number=people[7].member_number,
        reason="Betaald bij de deur",
        actor=steward(),
        nonce=nonce(),
    )
    services.check_in_member(
        db_session, meeting=meeting, member_number="404404", actor=steward(), nonce=nonce()
    )
    services.take_snapshot(db_session, meeting=meeting, label="Stemming 1", actor=CHAIR)
    before = services.live_counts(db_session, meeting)
    db_session.commit()

    with time_machine.travel(meeting.ends_at + timedelta(days=89), tick=False):
        assert services.pseudonymise_expired_attendance(db_session) == []
    with time_machine.travel(meeting.ends_at + timedelta(days=90, minutes=1), tick=False):
        assert services.pseudonymise_expired_attendance(db_session) == [meeting.id]
        assert services.pseudonymise_expired_attendance(db_session) == []  # once

    rows = db_session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()
    assert len(rows) == 9
    assert all(row.member_id is None and row.name == "" and row.member_number == "" for row in rows)
    assert all(row.override_reason == "" and row.voting_card_number is None for row in rows)
    assert all(row.checked_out_at is not None for row in rows)
    pseudonyms = [row.pseudonym for row in rows]
    assert len(set(pseudonyms)) == 8  # the re-entering member keeps one pseudonym for both intervals
    assert sum(row.may_vote for row in rows) == before.present_voters + 1  # + the closed first interval
    assert sum(row.is_override for row in rows) == 1
    assert all("Steward" not in row.checked_in_by and row.checked_in_by_id is None for row in rows)
    assert (
        db_session.scalar(
            select(func.count()).select_from(VoterRollEntry).where(VoterRollEntry.member_id.is_not(None))
        )
        == 0
    )
    assert (
        db_session.scalar(select(func.count()).select_from(VoterRollEntry).where(VoterRollEntry.may_vote))
        == 10
    )
    assert db_session.scalar(select(CheckInAttempt.query)) == ""
    assert db_session.scalar(select(func.count()).select_from(StewardAssignment)) == 0
    assert services.snapshots(db_session, meeting)[0].voting_count == before.present_voters
    assert services.member_attendance_data(db_session, people[0].id) == []
    db_session.refresh(meeting)
    assert meeting.pseudonymised_at is not None
    assert meeting.eligible_count == 10
    assert (
        db_session.scalar(select(AuditEntry).where(AuditEntry.action == "meetings.pseudonymise")) is not None
    )


def test_retention_is_per_meeting(db_session: Session, meeting_with_people) -> None:
    meeting, _people = meeting_with_people
    meeting.retention_days = 7
    db_session.flush()
    assert services.pseudonymise_expired_attendance(db_session, now=meeting.ends_at + timedelta(days=6)) == []
    assert services.pseudonymise_expired_attendance(db_session, now=utcnow() + timedelta(days=8)) == [
        meeting.id
    ]


@pytest.mark.both_backends
def test_live_counts_count_open_presences_by_kind_and_every_override(
    db_session: Session, meeting_with_people, backend: str
) -> None:
    """One pass over the meeting's presences: open ones by kind and verdict, overrides among all of
    them (an overridden member who left still counts as an override for the chair)."""
    meeting, people = meeting_with_people
    for person in people[:4]:
        _in(db_session, meeting, person)
    services.check_out_member(
        db_session, meeting=meeting, member_number=people[3].member_number, actor=steward(), nonce=nonce()
    )
    services.check_in_member(
        db_session,
        meeting=meeting,
        member_number=people[5].member_number,
        actor=steward(),
        nonce=nonce(),
        override_reason="Betaald aan de deur",
    )
    services.check_out_member(
        db_session, meeting=meeting, member_number=people[5].member_number, actor=steward(), nonce=nonce()
    )
    first = services.register_guest(
        db_session, meeting=meeting, name="Gast Een", note="", actor=steward(), nonce=nonce()
    )
    services.register_guest(
        db_session, meeting=meeting, name="Gast Twee", note="", actor=steward(), nonce=nonce()
    )
    assert first.attendance_id is not None
    services.check_out_attendance(
        db_session, meeting=meeting, attendance_id=first.attendance_id, actor=steward(), nonce=nonce()
    )
    late = make_member(db_session, branch_id=people[0].branch_id)  # joined after the freeze: no vote
    assert _in(db_session, meeting, late).signal is Signal.NO_VOTE
    services.check_in_member(
        db_session, meeting=meeting, member_number="999999", actor=steward(), nonce=nonce()
    )
    db_session.flush()
    counts = services.live_counts(db_session, meeting)
    assert (counts.present_members, counts.present_voters, counts.guests, counts.present) == (4, 3, 1, 5)
    assert (counts.overrides, counts.failed_lookups, counts.pending_differences) == (1, 1, 0)
