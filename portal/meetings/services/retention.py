"""Attendance data is temporary: after the meeting's retention period the people are pseudonymised,
the counts stay (presence intervals, voting rights, reasons, overrides and snapshots keep their shape)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, delete, select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.meetings.models import (
    Attendance,
    AttendeeKind,
    CheckInAttempt,
    Meeting,
    RollDifference,
    StewardAssignment,
    VoterRollEntry,
)

SYSTEM = Actor.system("meetings-retention")
ENDED = "(meeting ended)"


def due_meetings(session: Session, now: datetime) -> list[Meeting]:
    """Meetings whose retention period has passed and that still hold names."""
    candidates = session.scalars(
        select(Meeting).where(Meeting.pseudonymised_at.is_(None), Meeting.ends_at < now - timedelta(days=1))
    ).all()
    return [
        meeting for meeting in candidates if meeting.ends_at + timedelta(days=meeting.retention_days) <= now
    ]


def pseudonymise_meeting(session: Session, *, meeting: Meeting, actor: Actor = SYSTEM) -> dict[str, int]:
    """Replace every person at this meeting by a per-meeting pseudonym; return what was touched."""
    now = utcnow()
    session.execute(
        update(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.checked_out_at.is_(None))
        .values(checked_out_at=meeting.ends_at, checked_out_by=ENDED)
    )
    rows = session.execute(
        select(
            Attendance.id,
            Attendance.kind,
            Attendance.member_id,
            Attendance.checked_in_by,
            Attendance.checked_out_by,
        )
        .where(Attendance.meeting_id == meeting.id)
        .order_by(Attendance.id)
    ).all()
    people = _pseudonyms(
        [("M", row.member_id) for row in rows if row.kind is AttendeeKind.MEMBER]
        + [("G", row.id) for row in rows if row.kind is AttendeeKind.GUEST]
    )
    labels = [
        label for row in rows for label in (row.checked_in_by, row.checked_out_by) if label and label != ENDED
    ]
    stewards = {key[1]: name for key, name in _pseudonyms([("S", label) for label in labels]).items()}
    stewards[ENDED] = ENDED
    if rows:
        session.execute(
            update(Attendance),
            [
                {
                    "id": row.id,
                    "member_id": None,
                    "member_number": "",
                    "name": "",
                    "guest_note": "",
                    "pseudonym": people[
                        ("M", row.member_id) if row.kind is AttendeeKind.MEMBER else ("G", row.id)
                    ],
                    "checked_in_by_id": None,
                    "checked_in_by": stewards.get(row.checked_in_by, ""),
                    "checked_out_by": stewards.get(row.checked_out_by, ""),
                    "override_reason": "",
                    "override_by": "",
                    "voting_card_number": None,
                }
                for row in rows
            ],
        )
    roll = _rowcount(
        session,
        update(VoterRollEntry)
        .where(VoterRollEntry.meeting_id == meeting.id)
        .values(member_id=None, member_number="", name=""),
    )
    session.execute(
        update(RollDifference)
        .where(RollDifference.meeting_id == meeting.id)
        .values(member_id=None, member_number="", name="")
    )
    attempts = _rowcount(
        session,
        update(CheckInAttempt)
        .where(CheckInAttempt.meeting_id == meeting.id)
        .values(member_id=None, query="", steward="", steward_id=None),
    )
    session.execute(delete(StewardAssignment).where(StewardAssignment.meeting_id == meeting.id))
    meeting.pseudonymised_at = now
    touched = {"attendances": len(rows), "roll_entries": roll, "attempts": attempts}
    record_change(
        session,
        actor=actor,
        action="meetings.pseudonymise",
        target=meeting,
        changes={"pseudonymised_at": [None, now], **{name: [None, count] for name, count in touched.items()}},
    )
    session.flush()
    return touched


def _rowcount(session: Session, statement: Update) -> int:
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)


def _pseudonyms(keys: list[tuple[str, object]]) -> dict[tuple[str, object], str]:
    """One random, meeting-local pseudonym per distinct key ('M-0007'); the mapping is not kept."""
    distinct = list(dict.fromkeys(keys))
    order = list(range(1, len(distinct) + 1))
    random.SystemRandom().shuffle(order)
    return {key: f"{key[0]}-{number:04d}" for key, number in zip(distinct, order, strict=True)}


def pseudonymise_expired_attendance(
    session: Session, *, now: datetime | None = None, actor: Actor = SYSTEM
) -> list[int]:
    """The scheduled job: pseudonymise every meeting past its retention period (default 90 days)."""
    moment = now or utcnow()
    done = []
    for meeting in due_meetings(session, moment):
        pseudonymise_meeting(session, meeting=meeting, actor=actor)
        done.append(meeting.id)
    return done
