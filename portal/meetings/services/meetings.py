"""Meetings and their stewards: create, change, assign, revoke, and the org-unit subtree."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import local_date, utcnow
from portal.core.database import DriverStatement
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.meetings import eligibility, quorum
from portal.meetings.access import StewardAccess, steward_access
from portal.meetings.eligibility import UnitScope
from portal.meetings.models import Meeting, StewardAssignment, VotingSuspension
from portal.meetings.quorum import QuorumKind
from portal.members import names
from portal.members.models import Member, OrgUnit

TITLE_MAX = 200
RULE_FIELDS = (
    "cutoff_date",
    "rule_unit_scope",
    "rule_current_at_cutoff",
    "rule_dues_paid",
    "rule_min_membership_days",
    "rule_exclude_suspended",
)


@dataclass(frozen=True)
class MeetingDraft:
    """What an officer fills in for a meeting."""

    org_unit_id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    cutoff_date: date
    rule_unit_scope: UnitScope = UnitScope.SUBTREE
    rule_current_at_cutoff: bool = True
    rule_dues_paid: bool = False
    rule_min_membership_days: int = 0
    rule_exclude_suspended: bool = True
    quorum_kind: QuorumKind = QuorumKind.NONE
    quorum_numerator: int = 0
    quorum_denominator: int = 1
    retention_days: int = 90

    def as_values(self) -> dict[str, Any]:
        """The draft as column values."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def validate_draft(draft: MeetingDraft) -> dict[str, str]:
    """Problems with a draft as field → English message (the form shows its own Dutch text first)."""
    problems: dict[str, str] = {}
    if not draft.title.strip() or len(draft.title) > TITLE_MAX:
        problems["title"] = "Give the meeting a title of at most 200 characters."
    if len(draft.place) > TITLE_MAX:
        problems["place"] = "The place may have at most 200 characters."
    if draft.ends_at <= draft.starts_at:
        problems["ends_at"] = "The meeting must end after it starts."
    if draft.cutoff_date > local_date(draft.starts_at):
        problems["cutoff_date"] = "The cut-off date cannot lie after the meeting."
    if not 0 <= draft.rule_min_membership_days <= 36500:
        problems["rule_min_membership_days"] = "The minimum membership age is a number of days from 0."
    if not 1 <= draft.retention_days <= 3650:
        problems["retention_days"] = "Keep attendance between 1 and 3650 days."
    rule = quorum.QuorumRule(draft.quorum_kind, draft.quorum_numerator, draft.quorum_denominator)
    problems.update(quorum.validate(rule))
    return problems


def create_meeting(session: Session, *, draft: MeetingDraft, actor: Actor) -> Meeting:
    """A new meeting for an org unit (the caller checked the unit is in the actor's scope)."""
    problems = validate_draft(draft)
    if problems:
        raise ValidationFailed("The meeting could not be saved.", fields=problems)
    if session.get(OrgUnit, draft.org_unit_id) is None:
        raise NotFound("This org unit does not exist.")
    meeting = Meeting(**draft.as_values(), created_at=utcnow(), created_by=actor.label)
    session.add(meeting)
    session.flush()
    record_change(session, actor=actor, action="meetings.create", target=meeting, changes=_diff({}, draft))
    return meeting


def update_meeting(session: Session, *, meeting: Meeting, draft: MeetingDraft, actor: Actor) -> Meeting:
    """Change a meeting; once the roll is frozen its rule and cut-off can no longer change."""
    problems = validate_draft(draft)
    if problems:
        raise ValidationFailed("The meeting could not be saved.", fields=problems)
    before = {name: getattr(meeting, name) for name in draft.as_values()}
    if meeting.roll_frozen_at is not None and any(
        before[name] != getattr(draft, name) for name in RULE_FIELDS
    ):
        raise Conflict(
            "The voter roll is frozen: the voting-rights rule and cut-off date can no longer change."
        )
    if draft.org_unit_id != meeting.org_unit_id:
        raise Conflict("A meeting cannot move to another org unit.")
    for name, value in draft.as_values().items():
        setattr(meeting, name, value)
    session.execute(
        update(StewardAssignment)
        .where(StewardAssignment.meeting_id == meeting.id)
        .values(ends_at=draft.ends_at)
    )
    changes = _diff(before, draft)
    if changes:
        record_change(session, actor=actor, action="meetings.update", target=meeting, changes=changes)
    session.flush()
    return meeting


def _diff(before: dict[str, Any], draft: MeetingDraft) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), value]
        for name, value in draft.as_values().items()
        if before.get(name) != value
    }


def voting_rule(meeting: Meeting) -> eligibility.VotingRule:
    """The meeting's rule as the pure module takes it."""
    return eligibility.VotingRule(
        unit_scope=meeting.rule_unit_scope,
        current_at_cutoff=meeting.rule_current_at_cutoff,
        dues_paid=meeting.rule_dues_paid,
        min_membership_days=meeting.rule_min_membership_days,
        exclude_suspended=meeting.rule_exclude_suspended,
    )


def quorum_rule(meeting: Meeting) -> quorum.QuorumRule:
    """The meeting's quorum rule as the pure module takes it."""
    return quorum.QuorumRule(meeting.quorum_kind, meeting.quorum_numerator, meeting.quorum_denominator)


def unit_subtree(session: Session, unit_id: int) -> frozenset[int]:
    """The org unit and every unit below it."""
    parent_of = dict(session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    return eligibility.subtree(unit_id, parent_of)


def _lineage_query() -> Any:
    chain = (
        select(OrgUnit.id, OrgUnit.parent_id)
        .where(OrgUnit.id == bindparam("unit_id"))
        .cte("lineage", recursive=True)
    )
    chain = chain.union(select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.id == chain.c.parent_id))
    return select(chain.c.id)


_LINEAGE = _lineage_query()  # built once: every manager's page and dashboard poll asks it


def unit_lineage(session: Session, unit_id: int) -> frozenset[int]:
    """The org unit and every unit above it (one recursive query)."""
    return frozenset(session.scalars(_LINEAGE, {"unit_id": unit_id}))


def meetings_in_scope(session: Session, scope_unit_ids: frozenset[int] | None) -> list[Meeting]:
    """Meetings of the units in scope (None: all), newest first."""
    query = select(Meeting).order_by(Meeting.starts_at.desc())
    if scope_unit_ids is not None:
        query = query.where(Meeting.org_unit_id.in_(sorted(scope_unit_ids)))
    return list(session.scalars(query.limit(500)))


def assign_steward(
    session: Session, *, meeting: Meeting, member_number: str, actor: Actor
) -> StewardAssignment:
    """Let a member work the door of this meeting until it ends (again, if revoked before)."""
    member = session.scalar(
        select(Member).where(Member.member_number == member_number.strip(), Member.removed_at.is_(None))
    )
    if member is None:
        raise NotFound("No member has this member number.", fields={"member_number": "unknown"})
    now = utcnow()
    assignment = session.scalar(
        select(StewardAssignment).where(
            StewardAssignment.meeting_id == meeting.id, StewardAssignment.member_id == member.id
        )
    )
    if assignment is None:
        assignment = StewardAssignment(
            meeting_id=meeting.id, member_id=member.id, ends_at=meeting.ends_at, assigned_at=now
        )
        session.add(assignment)
    assignment.revoked_at = None
    assignment.assigned_at, assignment.assigned_by, assignment.ends_at = now, actor.label, meeting.ends_at
    session.flush()
    record_change(
        session,
        actor=actor,
        action="meetings.assign_steward",
        target=assignment,
        changes={
            "meeting_id": [None, meeting.id],
            "member_id": [None, member.id],
            "ends_at": [None, meeting.ends_at],
        },
    )
    return assignment


def revoke_steward(session: Session, *, meeting: Meeting, assignment_id: int, actor: Actor) -> None:
    """End a steward's access to this meeting now."""
    assignment = session.get(StewardAssignment, assignment_id)
    if assignment is None or assignment.meeting_id != meeting.id:
        raise NotFound("This steward is not assigned to this meeting.")
    if assignment.revoked_at is None:
        assignment.revoked_at = utcnow()
        record_change(
            session,
            actor=actor,
            action="meetings.revoke_steward",
            target=assignment,
            changes={"revoked_at": [None, assignment.revoked_at]},
        )
    session.flush()


def stewards_of(session: Session, meeting: Meeting) -> list[tuple[StewardAssignment, str, str]]:
    """The meeting's steward assignments with member number and name."""
    rows = session.execute(
        select(StewardAssignment, Member.member_number, Member.sort_name, Member)
        .join(Member, Member.id == StewardAssignment.member_id)
        .where(StewardAssignment.meeting_id == meeting.id)
        .order_by(Member.sort_name)
    ).all()
    return [(row[0], row[1], row[3].display_name) for row in rows]


@dataclass(frozen=True)
class DoorMeeting:
    """What the door needs of a meeting, read as plain columns (the door's guard runs on every request;
    loading a whole `Meeting` object there cost more than the check-in itself)."""

    id: int
    org_unit_id: int
    title: str
    ends_at: datetime
    roll_frozen_at: datetime | None
    pseudonymised_at: datetime | None


AnyMeeting = Meeting | DoorMeeting  # the door's services read only the fields both have


@dataclass(frozen=True)
class DoorContext:
    """Everything the door's guard needs in one query: the meeting, the assignment, the steward's name."""

    meeting: DoorMeeting
    access: StewardAccess
    steward_name: str
    steward_number: str


_DOOR_CONTEXT = DriverStatement(
    select(
        Meeting.id,
        Meeting.org_unit_id,
        Meeting.title,
        Meeting.ends_at,
        Meeting.roll_frozen_at,
        Meeting.pseudonymised_at,
        StewardAssignment.id,
        StewardAssignment.ends_at,
        StewardAssignment.revoked_at,
        Member.given_name,
        Member.infix,
        Member.family_name,
        Member.member_number,
    )
    .select_from(Meeting)
    .join(Member, Member.id == bindparam("member_id"))
    .outerjoin(
        StewardAssignment,
        (StewardAssignment.meeting_id == Meeting.id)
        & (StewardAssignment.member_id == bindparam("member_id")),
    )
    .where(Meeting.id == bindparam("meeting_id"))
)  # built once: the door's guard runs it on every request


def door_context(session: Session, *, meeting_id: int, member_id: int, now: datetime) -> DoorContext | None:
    """The meeting with the member's steward access and name (None: no such meeting)."""
    row = _DOOR_CONTEXT.first(session, {"meeting_id": meeting_id, "member_id": member_id}, alone=True)
    if row is None:
        return None
    state = steward_access(assigned=row[6] is not None, ends_at=row[7], revoked_at=row[8], now=now)
    return DoorContext(DoorMeeting(*row[:6]), state, names.display_name(row[9], row[10], row[11]), row[12])


def steward_meetings(session: Session, *, member_id: int, now: datetime) -> list[Meeting]:
    """Meetings whose door this member may work now."""
    return list(
        session.scalars(
            select(Meeting)
            .join(StewardAssignment, StewardAssignment.meeting_id == Meeting.id)
            .where(
                StewardAssignment.member_id == member_id,
                StewardAssignment.revoked_at.is_(None),
                StewardAssignment.ends_at > now,
            )
            .order_by(Meeting.starts_at)
        )
    )


def record_suspension(
    session: Session, *, member_id: int, starts_on: date, ends_on: date | None, reason: str, actor: Actor
) -> VotingSuspension:
    """Note that a party body suspended a member's voting right (rolls frozen later honour it)."""
    if not reason.strip():
        raise ValidationFailed("A suspension needs a reason.", fields={"reason": "required"})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationFailed(
            "A suspension cannot end before it starts.", fields={"ends_on": "before start"}
        )
    if session.get(Member, member_id) is None:
        raise NotFound("This member does not exist.")
    suspension = VotingSuspension(
        member_id=member_id,
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason.strip()[:500],
        recorded_at=utcnow(),
        recorded_by=actor.label,
    )
    session.add(suspension)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="meetings.suspend_voting_right",
        target=suspension,
        changes={"member_id": [None, member_id], "starts_on": [None, starts_on], "ends_on": [None, ends_on]},
    )
    return suspension
