"""Door decisions beyond check-in: a steward's override (reported to the chair) and voting-card numbers."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.meetings.models import Attendance, AttendeeKind
from portal.meetings.services.check_in import check_in_member, find_member
from portal.meetings.services.door import (
    DoorResult,
    Outcome,
    active_presence,
    ensure_door_open,
    normalise_member_number,
    result_from,
)
from portal.meetings.services.meetings import AnyMeeting

REASON_MIN, REASON_MAX = 5, 500
CARD_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,32}$")


def _clean_reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise ValidationFailed(
            "An override needs a reason of 5 to 500 characters.", fields={"reason": "length"}
        )
    return text


def override_voting_right(
    session: Session, *, meeting: AnyMeeting, member_number: str, reason: str, actor: Actor, nonce: str
) -> DoorResult:
    """Give a member a voting right against the roll's verdict, with a mandatory reason (J4).

    Never for an unknown number or a non-member (J5): that raises `NotFound` and writes nothing.
    """
    text = _clean_reason(reason)
    ensure_door_open(meeting, utcnow())
    number = normalise_member_number(member_number)
    found, known = find_member(session, meeting, number) if number else (None, False)
    if found is None or not known:
        raise NotFound("No member has this member number: an override cannot admit them.")
    present = active_presence(session, meeting, found.member_id)
    if present is None:
        return check_in_member(
            session,
            meeting=meeting,
            member_number=number or "",
            actor=actor,
            nonce=nonce,
            override_reason=text,
        )
    if present.may_vote:
        raise Conflict("This member already has a voting right.")
    present.may_vote, present.is_override = True, True
    present.override_reason, present.override_by = text, actor.label
    session.flush()
    record_change(
        session,
        actor=actor,
        action="meetings.override_voting_right",
        target=present,
        changes={"may_vote": [False, True], "override_reason": [None, text]},
    )
    return result_from(present, Outcome.CHECKED_IN)


def record_voting_card(
    session: Session, *, meeting: AnyMeeting, attendance_id: int, card_number: str, actor: Actor
) -> DoorResult:
    """Note which voting card a present voter received (unique among those present)."""
    card = (card_number or "").strip()
    if not CARD_NUMBER.match(card):
        raise ValidationFailed(
            "A card number has 1 to 32 letters or digits.", fields={"card_number": "invalid"}
        )
    attendance = session.get(Attendance, attendance_id)
    if attendance is None or attendance.meeting_id != meeting.id:
        raise NotFound("This presence does not exist.")
    if attendance.checked_out_at is not None or attendance.kind is not AttendeeKind.MEMBER:
        raise Conflict("Only a voter who is present can receive a voting card.")
    if not attendance.may_vote:
        raise Conflict("This person has no voting right: no voting card.")
    before = attendance.voting_card_number
    try:
        with session.begin_nested():
            attendance.voting_card_number = card
            session.flush()
    except IntegrityError:
        session.refresh(attendance)
        raise Conflict("This voting card is already with someone else who is present.") from None
    record_change(
        session,
        actor=actor,
        action="meetings.record_voting_card",
        target=attendance,
        changes={"voting_card_number": [before, card]},
    )
    return result_from(attendance, Outcome.CHECKED_IN)


def overrides(session: Session, meeting: AnyMeeting) -> list[Attendance]:
    """Every override at this meeting, for the chair's report."""
    return list(
        session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id, Attendance.is_override.is_(True))
            .order_by(Attendance.checked_in_at)
        )
    )
