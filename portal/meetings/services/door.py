"""At the door, what every door action shares: the steward's answer (signal, outcome), the checks on a
request, the log of failed look-ups and the presence insert that a unique index guards."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import Conflict, ValidationFailed
from portal.meetings import access, eligibility
from portal.meetings.eligibility import Reason
from portal.meetings.models import Attendance, CheckInAttempt, CheckInMethod
from portal.meetings.services.meetings import AnyMeeting

NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MEMBER_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,32}$")
QUERY_LOG_LENGTH = 64


class Signal(enum.Enum):
    """What the steward sees: green, orange or red, always with text and a shape too."""

    VOTE = "vote"  # green: voting right, hand out a voting card
    NO_VOTE = "no_vote"  # orange: present without voting right, with the reason
    REFUSED = "refused"  # red: not a member, or unknown


class Outcome(enum.Enum):
    """What happened."""

    CHECKED_IN = "checked_in"
    ALREADY_PRESENT = "already_present"
    CHECKED_OUT = "checked_out"
    NOT_PRESENT = "not_present"
    UNKNOWN = "unknown"  # no member with this number, or an unreadable card
    NOT_A_MEMBER = "not_a_member"


@dataclass(frozen=True)
class DoorResult:
    """The answer for the steward's screen."""

    outcome: Outcome
    signal: Signal
    member_number: str = ""
    name: str = ""
    reasons: tuple[Reason, ...] = ()
    attendance_id: int | None = None
    checked_in_at: datetime | None = None
    checked_in_by: str = ""
    checked_out_at: datetime | None = None
    is_override: bool = False
    voting_card_number: str | None = None
    replayed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def check_nonce(nonce: str) -> str:
    """The client nonce, or `ValidationFailed` when it is missing or malformed."""
    if not NONCE.match(nonce or ""):
        raise ValidationFailed("The request carries no valid client nonce.", fields={"nonce": "invalid"})
    return nonce


def normalise_member_number(raw: str) -> str | None:
    """The member number as stored, or None if it cannot be one."""
    value = (raw or "").strip().replace(" ", "")
    return value if MEMBER_NUMBER.match(value) else None


def ensure_door_open(meeting: AnyMeeting, now: datetime) -> None:
    """Refuse check-in before the roll is frozen and after the meeting ended."""
    if not access.door_is_open(
        roll_frozen=meeting.roll_frozen_at is not None,
        pseudonymised=meeting.pseudonymised_at is not None,
        now=now,
        ends_at=meeting.ends_at,
    ):
        if meeting.roll_frozen_at is None:
            raise Conflict("The voter roll is not frozen yet: ask the chair to freeze it first.")
        raise Conflict("This meeting has ended: check-in is closed.")


def log_attempt(
    session: Session,
    *,
    meeting: AnyMeeting,
    actor: Actor,
    method: CheckInMethod,
    query: str,
    outcome: str,
    member_id: int | None = None,
) -> None:
    """Keep a door look-up that admitted no one (J10): what was tried, by whom, when."""
    session.add(
        CheckInAttempt(
            meeting_id=meeting.id,
            occurred_at=utcnow(),
            steward_id=actor.id,
            steward=actor.label,
            method=method,
            query=(query or "")[:QUERY_LOG_LENGTH],
            outcome=outcome,
            member_id=member_id,
        )
    )


# No conflict target: any unique index (the nonce, or the one-active-presence index) makes it a no-op.
_INSERT_PRESENCE = {
    name: builder(Attendance).on_conflict_do_nothing().returning(Attendance.id, Attendance.checked_in_at)
    for name, builder in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def insert_presence(session: Session, values: dict[str, Any]) -> Row[int, datetime] | None:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, checked_in_at; None means a unique index said no."""
    connection = session.connection()
    return connection.execute(_INSERT_PRESENCE[connection.dialect.name], values).first()


def result_from(attendance: Attendance, outcome: Outcome, *, replayed: bool = False) -> DoorResult:
    """The steward's answer for an existing presence interval."""
    signal = Signal.VOTE if attendance.may_vote else Signal.NO_VOTE
    return DoorResult(
        outcome=outcome,
        signal=signal,
        member_number=attendance.member_number,
        name=attendance.name,
        reasons=eligibility.decode(attendance.reasons),
        attendance_id=attendance.id,
        checked_in_at=attendance.checked_in_at,
        checked_in_by=attendance.checked_in_by,
        checked_out_at=attendance.checked_out_at,
        is_override=attendance.is_override,
        voting_card_number=attendance.voting_card_number,
        replayed=replayed,
    )


def active_presence(session: Session, meeting: AnyMeeting, member_id: int) -> Attendance | None:
    """The member's open presence interval at this meeting, if any."""
    return session.scalar(
        select(Attendance).where(
            Attendance.meeting_id == meeting.id,
            Attendance.member_id == member_id,
            Attendance.checked_out_at.is_(None),
        )
    )
