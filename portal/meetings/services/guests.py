"""Guests without a voting right (press, observers, non-members): registered at the door, counted apart."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import ValidationFailed
from portal.meetings.models import Attendance, AttendeeKind, CheckInMethod
from portal.meetings.services.door import (
    DoorResult,
    Outcome,
    Signal,
    check_nonce,
    ensure_door_open,
    insert_presence,
    result_from,
)
from portal.meetings.services.meetings import AnyMeeting

NAME_MAX, NOTE_MAX = 200, 200


def register_guest(
    session: Session, *, meeting: AnyMeeting, name: str, note: str, actor: Actor, nonce: str
) -> DoorResult:
    """Check a guest in without a voting right; a retried nonce returns the first registration."""
    check_nonce(nonce)
    clean_name = " ".join((name or "").split())
    clean_note = " ".join((note or "").split())
    if not 1 <= len(clean_name) <= NAME_MAX:
        raise ValidationFailed("A guest needs a name of at most 200 characters.", fields={"name": "length"})
    if len(clean_note) > NOTE_MAX:
        raise ValidationFailed("The note may have at most 200 characters.", fields={"note": "length"})
    now = utcnow()
    ensure_door_open(meeting, now)
    values = {
        "meeting_id": meeting.id,
        "kind": AttendeeKind.GUEST,
        "member_id": None,
        "name": clean_name,
        "guest_note": clean_note,
        "may_vote": False,
        "reasons": "",
        "method": CheckInMethod.GUEST,
        "check_in_nonce": nonce,
        "checked_in_at": now,
        "checked_in_by_id": actor.id,
        "checked_in_by": actor.label,
    }
    inserted = insert_presence(session, values)
    if inserted is None:
        attendance = session.scalar(
            select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.check_in_nonce == nonce)
        )
        if attendance is None or attendance.kind is not AttendeeKind.GUEST:
            raise ValidationFailed("This client nonce was already used.", fields={"nonce": "reused"})
        return result_from(attendance, Outcome.CHECKED_IN, replayed=True)
    record_change(
        session,
        actor=actor,
        action="meetings.register_guest",
        target=("attendances", inserted.id),
        changes={"meeting_id": [None, meeting.id], "name": [None, clean_name], "note": [None, clean_note]},
    )
    return DoorResult(
        outcome=Outcome.CHECKED_IN,
        signal=Signal.NO_VOTE,
        name=clean_name,
        attendance_id=inserted.id,
        checked_in_at=inserted.checked_in_at,
        checked_in_by=actor.label,
        extra={"guest": True},
    )
