"""Meetings and the voter roll: freezing at the cut-off, and later replica changes flagged for the chair."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from portal.core import clock
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.meetings import services
from portal.meetings.eligibility import UnitScope
from portal.meetings.models import DifferenceState, Meeting, RollDifference, VoterRollEntry
from portal.meetings.quorum import QuorumKind
from portal.meetings.testing import CHAIR, make_frozen_meeting, make_meeting, nonce, steward
from portal.members.models import MembershipStatus, OrgUnitKind
from portal.members.testing import make_member, make_org_unit


@pytest.fixture
def party(db_session: Session) -> dict:
    national = make_org_unit(db_session, kind=OrgUnitKind.NATIONAL, name="D66")
    region = make_org_unit(db_session, kind=OrgUnitKind.REGION, parent_id=national.id)
    branch = make_org_unit(db_session, parent_id=region.id, name="Afdeling Utrecht")
    other = make_org_unit(db_session, parent_id=region.id, name="Afdeling Zeist")
    today = utcnow().date()
    people = {
        "voter": make_member(db_session, branch_id=branch.id),
        "lapsed": make_member(
            db_session,
            branch_id=branch.id,
            status=MembershipStatus.LAPSED,
            member_until=today - timedelta(days=60),
        ),
        "unpaid": make_member(  # a week back: the meeting began an hour ago, just after midnight yesterday
            db_session, branch_id=branch.id, dues_paid_through=today - timedelta(days=7)
        ),
        "newcomer": make_member(db_session, branch_id=branch.id, member_since=today - timedelta(days=20)),
        "elsewhere": make_member(db_session, branch_id=make_org_unit(db_session).id),
        "gone": make_member(
            db_session, branch_id=branch.id, status=MembershipStatus.CANCELLED, member_until=date(2015, 1, 1)
        ),
        "dead": make_member(db_session, branch_id=branch.id, status=MembershipStatus.DECEASED),
        "infix": make_member(
            db_session, branch_id=branch.id, given_name="Jan", infix="van der", family_name="Berg"
        ),
        "no_given": make_member(
            db_session, branch_id=branch.id, given_name="", infix="de", family_name="Wit"
        ),
    }
    return {"national": national, "region": region, "branch": branch, "other": other, "people": people}


def _entries(session: Session, meeting: Meeting) -> dict[int, VoterRollEntry]:
    rows = session.scalars(select(VoterRollEntry).where(VoterRollEntry.meeting_id == meeting.id))
    return {row.member_id: row for row in rows}


def test_create_meeting_validates_and_is_audited(db_session: Session, party: dict) -> None:
    now = utcnow()
    draft = services.MeetingDraft(
        org_unit_id=party["branch"].id,
        title="ALV voorjaar",
        place="Utrecht",
        starts_at=now + timedelta(days=20),
        ends_at=now + timedelta(days=20, hours=3),
        cutoff_date=(now + timedelta(days=6)).date(),
        quorum_kind=QuorumKind.SHARE_OF_ELIGIBLE,
        quorum_numerator=1,
        quorum_denominator=2,
    )
    meeting = services.create_meeting(db_session, draft=draft, actor=CHAIR)
    assert meeting.id
    assert meeting.created_by == CHAIR.label
    entry = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "meetings.create"))
    assert entry is not None
    assert entry.changes["title"] == [None, "ALV voorjaar"]
    bad = services.MeetingDraft(
        org_unit_id=party["branch"].id,
        title=" ",
        place="x" * 201,
        starts_at=now,
        ends_at=now - timedelta(hours=1),
        cutoff_date=(now + timedelta(days=2)).date(),  # after the meeting on any wall clock
        retention_days=0,
        quorum_kind=QuorumKind.SHARE_OF_ELIGIBLE,
        quorum_numerator=3,
        quorum_denominator=2,
    )
    with pytest.raises(ValidationFailed) as error:
        services.create_meeting(db_session, draft=bad, actor=CHAIR)
    assert set(error.value.fields) == {
        "title",
        "place",
        "ends_at",
        "cutoff_date",
        "retention_days",
        "quorum_numerator",
    }
    with pytest.raises(NotFound):
        services.create_meeting(
            db_session,
            draft=services.MeetingDraft(**{**draft.as_values(), "org_unit_id": 999999}),
            actor=CHAIR,
        )


def test_freeze_lists_who_may_vote_and_why_not(db_session: Session, party: dict) -> None:
    meeting = make_meeting(
        db_session, org_unit_id=party["region"].id, rule_dues_paid=True, rule_min_membership_days=30
    )
    voters = services.freeze_roll(db_session, meeting=meeting, actor=CHAIR)
    people = party["people"]
    entries = _entries(db_session, meeting)
    assert voters == 3 == meeting.eligible_count
    assert entries[people["voter"].id].may_vote
    assert entries[people["lapsed"].id].reasons == "lapsed,not_current_at_cutoff"
    assert entries[people["unpaid"].id].reasons == "dues_unpaid"
    assert entries[people["newcomer"].id].reasons == "membership_too_short"
    for absent in ("elsewhere", "gone", "dead"):
        assert people[absent].id not in entries
    for key in ("voter", "infix", "no_given"):
        assert entries[people[key].id].name == people[key].formal_name
    with pytest.raises(Conflict):
        services.freeze_roll(db_session, meeting=meeting, actor=CHAIR)
    audit = db_session.scalar(select(AuditEntry).where(AuditEntry.action == "meetings.freeze_roll"))
    assert audit is not None
    assert audit.changes["eligible"] == [None, 3]


def test_a_meeting_just_after_midnight_is_on_its_local_day(
    db_session: Session, party: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ALV that starts at 00:30 in Amsterdam on 15 March is still 14 March in UTC: the cut-off may be
    the 15th, and dues paid through the 14th no longer cover it."""
    monkeypatch.setattr(clock, "_local_zone", clock._local_zone)  # restored after the test
    clock.use_local_zone("Europe/Amsterdam")
    starts_at = datetime(2027, 3, 14, 23, 30, tzinfo=UTC)  # 00:30 CET on the 15th
    assert clock.local_date(starts_at) == date(2027, 3, 15)
    draft = services.MeetingDraft(
        org_unit_id=party["branch"].id,
        title="Nachtelijke ALV",
        place="Utrecht",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        cutoff_date=date(2027, 3, 15),
    )
    meeting = services.create_meeting(db_session, draft=draft, actor=CHAIR)  # the 15th is not after it
    late = make_member(db_session, branch_id=party["branch"].id, dues_paid_through=date(2027, 3, 14))
    paid = make_member(db_session, branch_id=party["branch"].id, dues_paid_through=date(2027, 3, 15))
    meeting.rule_dues_paid = True
    services.freeze_roll(db_session, meeting=meeting, actor=CHAIR)
    entries = _entries(db_session, meeting)
    assert entries[late.id].reasons == "dues_unpaid"
    assert entries[paid.id].may_vote
    with pytest.raises(ValidationFailed) as error:
        services.create_meeting(
            db_session,
            draft=services.MeetingDraft(**{**draft.as_values(), "cutoff_date": date(2027, 3, 16)}),
            actor=CHAIR,
        )
    assert set(error.value.fields) == {"cutoff_date"}


def test_unit_scope_any_lists_the_whole_party(db_session: Session, party: dict) -> None:
    meeting = make_frozen_meeting(db_session, org_unit_id=party["national"].id, rule_unit_scope=UnitScope.ANY)
    assert party["people"]["elsewhere"].id in _entries(db_session, meeting)


def test_rule_and_cutoff_are_locked_once_frozen(db_session: Session, party: dict) -> None:
    meeting = make_frozen_meeting(db_session, org_unit_id=party["branch"].id)
    draft = services.MeetingDraft(
        **{name: getattr(meeting, name) for name in services.MeetingDraft.__dataclass_fields__}
    )
    services.update_meeting(
        db_session,
        meeting=meeting,
        draft=services.MeetingDraft(**{**draft.as_values(), "place": "Zeist"}),
        actor=CHAIR,
    )
    assert meeting.place == "Zeist"
    with pytest.raises(Conflict):
        services.update_meeting(
            db_session,
            meeting=meeting,
            draft=services.MeetingDraft(**{**draft.as_values(), "rule_dues_paid": True}),
            actor=CHAIR,
        )


def test_freeze_due_rolls_freezes_only_past_cutoffs(db_session: Session, party: dict) -> None:
    today = utcnow().date()
    due = make_meeting(db_session, org_unit_id=party["branch"].id, cutoff_date=today - timedelta(days=1))
    later = make_meeting(
        db_session,
        org_unit_id=party["branch"].id,
        cutoff_date=today + timedelta(days=3),
        starts_at=utcnow() + timedelta(days=10),
        ends_at=utcnow() + timedelta(days=10, hours=2),
    )
    assert services.freeze_due_rolls(db_session, actor=CHAIR, today=today) == [due.id]
    db_session.refresh(later)
    assert later.roll_frozen_at is None


def test_J6_a_crm_change_after_the_cutoff_is_flagged_not_applied(db_session: Session, party: dict) -> None:
    people = party["people"]
    meeting = make_frozen_meeting(db_session, org_unit_id=party["branch"].id)
    voters_before = meeting.eligible_count
    # The nightly pull marks the voter lapsed and a lapsed member current again.
    people["voter"].status = MembershipStatus.LAPSED
    people["lapsed"].status, people["lapsed"].member_until = MembershipStatus.CURRENT, None
    db_session.flush()

    assert services.flag_differences(db_session, meeting=meeting) == 2
    entries = _entries(db_session, meeting)
    assert entries[people["voter"].id].may_vote  # not silently revoked
    assert not entries[people["lapsed"].id].may_vote  # not silently granted
    result = services.check_in_member(
        db_session,
        meeting=meeting,
        member_number=people["voter"].member_number,
        actor=steward(),
        nonce=nonce(),
    )
    assert result.signal is services.Signal.VOTE  # the door reads the frozen roll

    pending = {row.member_id: row for row in services.pending_differences(db_session, meeting)}
    revoke, grant = pending[people["voter"].id], pending[people["lapsed"].id]
    assert (revoke.frozen_may_vote, revoke.current_may_vote, revoke.current_reasons) == (
        True,
        False,
        "lapsed",
    )
    assert services.flag_differences(db_session, meeting=meeting) == 2  # idempotent: still one each

    services.decide_difference(db_session, meeting=meeting, difference_id=revoke.id, apply=True, actor=CHAIR)
    services.decide_difference(db_session, meeting=meeting, difference_id=grant.id, apply=False, actor=CHAIR)
    entries = _entries(db_session, meeting)
    assert not entries[people["voter"].id].may_vote
    assert entries[people["voter"].id].changed_at is not None
    assert not entries[people["lapsed"].id].may_vote  # dismissed
    present = services.active_presence(db_session, meeting, people["voter"].id)
    assert present is not None
    assert not present.may_vote
    assert meeting.eligible_count == voters_before - 1
    assert services.pending_differences(db_session, meeting) == []
    with pytest.raises(Conflict):
        services.decide_difference(
            db_session, meeting=meeting, difference_id=revoke.id, apply=True, actor=CHAIR
        )
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert {"meetings.apply_roll_difference", "meetings.dismiss_roll_difference"} <= actions


def test_a_difference_that_reverts_disappears(db_session: Session, party: dict) -> None:
    voter = party["people"]["voter"]
    meeting = make_frozen_meeting(db_session, org_unit_id=party["branch"].id)
    voter.status = MembershipStatus.LAPSED
    db_session.flush()
    assert services.flag_differences(db_session, meeting=meeting, member_ids=[voter.id]) == 1
    voter.status = MembershipStatus.CURRENT
    db_session.flush()
    assert services.flag_differences(db_session, meeting=meeting, member_ids=[voter.id]) == 0


def test_a_new_member_in_scope_and_a_member_who_moved_away_are_flagged(
    db_session: Session, party: dict
) -> None:
    meeting = make_frozen_meeting(db_session, org_unit_id=party["branch"].id, rule_current_at_cutoff=False)
    newcomer = make_member(db_session, branch_id=party["branch"].id, member_since=utcnow().date())
    mover = party["people"]["voter"]
    mover.branch_id = party["other"].id
    db_session.flush()
    services.flag_differences(db_session, meeting=meeting)
    pending = {row.member_id: row for row in services.pending_differences(db_session, meeting)}
    assert not pending[newcomer.id].on_roll
    assert pending[newcomer.id].current_may_vote
    assert pending[mover.id].current_reasons == "not_in_unit"
    services.decide_difference(
        db_session, meeting=meeting, difference_id=pending[newcomer.id].id, apply=True, actor=CHAIR
    )
    assert _entries(db_session, meeting)[newcomer.id].may_vote
    count = db_session.scalar(
        select(func.count())
        .select_from(RollDifference)
        .where(RollDifference.state == DifferenceState.APPLIED)
    )
    assert count == 1


def test_a_suspension_withholds_the_vote(db_session: Session, party: dict) -> None:
    voter = party["people"]["voter"]
    today = utcnow().date()
    services.record_suspension(
        db_session,
        member_id=voter.id,
        starts_on=today - timedelta(days=5),
        ends_on=None,
        reason="Besluit HB",
        actor=CHAIR,
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=party["branch"].id)
    assert _entries(db_session, meeting)[voter.id].reasons == "suspended"
    with pytest.raises(ValidationFailed):
        services.record_suspension(
            db_session, member_id=voter.id, starts_on=today, ends_on=None, reason=" ", actor=CHAIR
        )


def test_stewards_are_assigned_per_meeting_until_it_ends(db_session: Session, party: dict) -> None:
    meeting = make_meeting(db_session, org_unit_id=party["branch"].id)
    other = make_meeting(db_session, org_unit_id=party["branch"].id)
    helper = party["people"]["voter"]
    assignment = services.assign_steward(
        db_session, meeting=meeting, member_number=helper.member_number, actor=CHAIR
    )
    assert assignment.ends_at == meeting.ends_at
    now = utcnow()

    def access(meeting_id: int, at: datetime) -> str:
        found = services.door_context(db_session, meeting_id=meeting_id, member_id=helper.id, now=at)
        assert found is not None
        return found.access.value

    assert access(meeting.id, now) == "active"
    assert access(other.id, now) == "none"
    assert access(meeting.id, meeting.ends_at) == "ended"
    assert [m.id for m in services.steward_meetings(db_session, member_id=helper.id, now=now)] == [meeting.id]
    services.revoke_steward(db_session, meeting=meeting, assignment_id=assignment.id, actor=CHAIR)
    assert access(meeting.id, now) == "none"
    with pytest.raises(NotFound):
        services.assign_steward(db_session, meeting=meeting, member_number="nope", actor=CHAIR)
    with pytest.raises(NotFound):
        services.revoke_steward(db_session, meeting=other, assignment_id=assignment.id, actor=CHAIR)


@pytest.mark.both_backends
def test_names_with_backslashes_tabs_and_line_breaks_reach_the_roll_unchanged(db_session: Session) -> None:
    """PostgreSQL writes the roll as COPY text: characters COPY treats specially must be escaped."""
    branch = make_org_unit(db_session)
    odd = make_member(
        db_session, branch_id=branch.id, given_name="A\\nna", infix="", family_name="B\tC\r\nD\\"
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch.id)
    entry = db_session.scalars(
        select(VoterRollEntry).where(
            VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.member_id == odd.id
        )
    ).one()
    assert (entry.name, entry.member_number, entry.may_vote) == (
        "B\tC\r\nD\\, A\\nna",
        odd.member_number,
        True,
    )
