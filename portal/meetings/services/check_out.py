"""Leaving the meeting: check-out closes the open presence interval; never a toggle, idempotent by nonce."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import NotFound
from portal.meetings.models import Attendance, CheckInMethod
from portal.meetings.services.door import (
    DoorResult,
    Outcome,
    Signal,
    check_nonce,
    log_attempt,
    normalise_member_number,
    result_from,
)
from portal.meetings.services.meetings import AnyMeeting
from portal.members.models import Member


def check_out_member(
    session: Session, *, meeting: AnyMeeting, member_number: str, actor: Actor, nonce: str
) -> DoorResult:
    """Close the member's open presence (never toggles: not present stays not present)."""
    check_nonce(nonce)
    number = normalise_member_number(member_number)
    member_id = session.scalar(select(Member.id).where(Member.member_number == number)) if number else None
    if member_id is None:
        log_attempt(
            session,
            meeting=meeting,
            actor=actor,
            method=CheckInMethod.NUMBER,
            query=member_number,
            outcome="unknown",
        )
        return DoorResult(outcome=Outcome.UNKNOWN, signal=Signal.REFUSED, member_number=number or "")
    return _close(session, meeting=meeting, actor=actor, nonce=nonce, member_id=member_id)


def check_out_attendance(
    session: Session, *, meeting: AnyMeeting, attendance_id: int, actor: Actor, nonce: str
) -> DoorResult:
    """Close one presence interval by its id (guests, or from the dashboard list)."""
    check_nonce(nonce)
    attendance = session.get(Attendance, attendance_id)
    if attendance is None or attendance.meeting_id != meeting.id:
        raise NotFound("This presence does not exist.")
    return _close(session, meeting=meeting, actor=actor, nonce=nonce, attendance_id=attendance_id)


def _close(
    session: Session,
    *,
    meeting: AnyMeeting,
    actor: Actor,
    nonce: str,
    member_id: int | None = None,
    attendance_id: int | None = None,
) -> DoorResult:
    earlier = session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.check_out_nonce == nonce)
    )
    if earlier is not None:  # a retry: answer as the first time, never close a later interval
        return result_from(earlier, Outcome.CHECKED_OUT, replayed=True)
    now = utcnow()
    condition = [Attendance.meeting_id == meeting.id, Attendance.checked_out_at.is_(None)]
    if attendance_id is not None:
        condition.append(Attendance.id == attendance_id)
    else:
        condition.append(Attendance.member_id == member_id)
    closed = session.execute(
        update(Attendance)
        .where(*condition)
        .values(checked_out_at=now, checked_out_by=actor.label, check_out_nonce=nonce)
        .returning(Attendance.id)
    ).first()
    if closed is not None:
        record_change(
            session,
            actor=actor,
            action="meetings.check_out",
            target=("attendances", closed.id),
            changes={"checked_out_at": [None, now]},
        )
        attendance = session.get(Attendance, closed.id, populate_existing=True)
        assert attendance is not None
        return result_from(attendance, Outcome.CHECKED_OUT)
    return DoorResult(outcome=Outcome.NOT_PRESENT, signal=Signal.NO_VOTE)
