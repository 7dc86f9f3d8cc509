"""The chair's view: live counts and quorum, presence snapshots before votes, what the door reported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, func, insert, literal, select
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import ValidationFailed
from portal.meetings import quorum
from portal.meetings.models import (
    Attendance,
    AttendeeKind,
    CheckInAttempt,
    DifferenceState,
    Meeting,
    PresenceSnapshot,
    PresenceSnapshotEntry,
    RollDifference,
)
from portal.meetings.services.meetings import AnyMeeting, quorum_rule

LABEL_MAX = 200


@dataclass(frozen=True)
class Counts:
    """What the dashboard shows, refreshed by polling."""

    present: int  # members and guests inside now
    present_voters: int
    present_members: int
    guests: int
    eligible: int  # voters on the (frozen, possibly amended) roll
    overrides: int
    failed_lookups: int
    pending_differences: int
    quorum: quorum.QuorumState
    at: datetime


def _live_counts_query() -> Any:
    """One statement for all counts: the meeting's presences read once, open ones counted by kind and
    verdict and overrides among all (a second pass over them cost as much again: 9.3 ms a poll with
    18,000 present), the door's reports and pending differences as scalar subqueries."""
    meeting_id = bindparam("meeting_id", type_=Integer)
    is_open = Attendance.checked_out_at.is_(None)
    is_member = is_open & (Attendance.kind == AttendeeKind.MEMBER)
    present = (
        select(
            func.count().filter(is_member).label("members"),
            func.count().filter(is_member & Attendance.may_vote.is_(True)).label("voters"),
            func.count().filter(is_open & (Attendance.kind == AttendeeKind.GUEST)).label("guests"),
            func.count().filter(Attendance.is_override.is_(True)).label("overrides"),
        )
        .where(Attendance.meeting_id == meeting_id)
        .subquery()
    )
    counting = select(func.count())
    return select(
        present.c.members,
        present.c.voters,
        present.c.guests,
        present.c.overrides,
        counting.select_from(CheckInAttempt)
        .where(CheckInAttempt.meeting_id == meeting_id, CheckInAttempt.outcome != "already_present")
        .scalar_subquery(),
        counting.select_from(RollDifference)
        .where(RollDifference.meeting_id == meeting_id, RollDifference.state == DifferenceState.PENDING)
        .scalar_subquery(),
    )


_LIVE_COUNTS = _live_counts_query()  # built once: every chair's dashboard polls it every few seconds


def live_counts(session: Session, meeting: Meeting) -> Counts:
    """Counts for the chair; one round trip of indexed aggregates whatever the meeting's size."""
    row = session.execute(_LIVE_COUNTS, {"meeting_id": meeting.id}).one()
    present_members, present_voters, guests, overrides, failed, pending = (int(value or 0) for value in row)
    return Counts(
        present=present_members + guests,
        present_voters=present_voters,
        present_members=present_members,
        guests=guests,
        eligible=meeting.eligible_count,
        overrides=int(overrides or 0),
        failed_lookups=int(failed or 0),
        pending_differences=int(pending or 0),
        quorum=quorum.assess(
            quorum_rule(meeting), eligible=meeting.eligible_count, present_voters=present_voters
        ),
        at=utcnow(),
    )


def take_snapshot(session: Session, *, meeting: Meeting, label: str, actor: Actor) -> PresenceSnapshot:
    """Freeze who is present right now (before a vote), with the counts."""
    clean = " ".join((label or "").split())
    if not 1 <= len(clean) <= LABEL_MAX:
        raise ValidationFailed("Name the moment, for example the vote it is for.", fields={"label": "length"})
    counts = live_counts(session, meeting)
    snapshot = PresenceSnapshot(
        meeting_id=meeting.id,
        label=clean,
        taken_at=utcnow(),
        taken_by=actor.label,
        present_count=counts.present,
        voting_count=counts.present_voters,
        guest_count=counts.guests,
    )
    session.add(snapshot)
    session.flush()
    session.execute(
        insert(PresenceSnapshotEntry).from_select(
            ["snapshot_id", "attendance_id", "may_vote"],
            select(literal(snapshot.id), Attendance.id, Attendance.may_vote).where(
                Attendance.meeting_id == meeting.id, Attendance.checked_out_at.is_(None)
            ),
        )
    )
    record_change(
        session,
        actor=actor,
        action="meetings.snapshot_presence",
        target=snapshot,
        changes={
            "label": [None, clean],
            "present": [None, counts.present],
            "voters": [None, counts.present_voters],
            "guests": [None, counts.guests],
        },
    )
    return snapshot


def snapshots(session: Session, meeting: Meeting) -> list[PresenceSnapshot]:
    """The meeting's snapshots, newest first."""
    return list(
        session.scalars(
            select(PresenceSnapshot)
            .where(PresenceSnapshot.meeting_id == meeting.id)
            .order_by(PresenceSnapshot.taken_at.desc(), PresenceSnapshot.id.desc())
        )
    )


def snapshot_rows(session: Session, snapshot: PresenceSnapshot) -> list[tuple[Attendance, bool]]:
    """The presence intervals frozen in a snapshot, each with the voting right it had at that moment."""
    rows = session.execute(
        select(Attendance, PresenceSnapshotEntry.may_vote)
        .join(PresenceSnapshotEntry, PresenceSnapshotEntry.attendance_id == Attendance.id)
        .where(PresenceSnapshotEntry.snapshot_id == snapshot.id)
        .order_by(Attendance.kind, Attendance.name, Attendance.id)
    ).all()
    return [(row[0], bool(row[1])) for row in rows]


def attendance_rows(session: Session, meeting: Meeting) -> list[Attendance]:
    """Every presence interval of the meeting: members and guests, in order of arrival."""
    return list(
        session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id)
            .order_by(Attendance.checked_in_at, Attendance.id)
        )
    )


def guests_inside(session: Session, meeting: AnyMeeting) -> list[Attendance]:
    """Guests who are inside now (the door checks them out from this list)."""
    return list(
        session.scalars(
            select(Attendance)
            .where(
                Attendance.meeting_id == meeting.id,
                Attendance.kind == AttendeeKind.GUEST,
                Attendance.checked_out_at.is_(None),
            )
            .order_by(Attendance.name)
            .limit(200)
        )
    )


def recent_attempts(session: Session, meeting: Meeting, limit: int = 20) -> list[CheckInAttempt]:
    """The latest door look-ups without a check-in: failed ones, and members already inside."""
    return list(
        session.scalars(
            select(CheckInAttempt)
            .where(CheckInAttempt.meeting_id == meeting.id)
            .order_by(CheckInAttempt.occurred_at.desc(), CheckInAttempt.id.desc())
            .limit(limit)
        )
    )
