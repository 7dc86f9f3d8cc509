"""What leaves the portal about a meeting: roll and attendance for the minutes, a member's own rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.meetings.models import Attendance, Meeting, VoterRollEntry


def roll_entries(session: Session, meeting: Meeting) -> list[VoterRollEntry]:
    """The frozen roll (with the chair's applied changes), by name."""
    return list(
        session.scalars(
            select(VoterRollEntry)
            .where(VoterRollEntry.meeting_id == meeting.id)
            .order_by(VoterRollEntry.name, VoterRollEntry.id)
        )
    )


def record_export(
    session: Session, *, meeting: Meeting, what: str, file_format: str, rows: int, actor: Actor
) -> None:
    """Note in the mutation log that someone took a list out of the portal (who, what, how many)."""
    record_change(
        session,
        actor=actor,
        action="meetings.export",
        target=meeting,
        changes={"list": [None, what], "format": [None, file_format], "rows": [None, rows]},
    )


def member_attendance_data(session: Session, member_id: int) -> list[dict[str, Any]]:
    """A member's own meeting rows for 'download my data': roll verdicts and presence intervals."""
    rows: list[dict[str, Any]] = []
    for entry, meeting in session.execute(
        select(VoterRollEntry, Meeting)
        .join(Meeting, Meeting.id == VoterRollEntry.meeting_id)
        .where(VoterRollEntry.member_id == member_id)
        .order_by(Meeting.starts_at)
    ):
        rows.append(
            {
                "record": "voter_roll",
                "meeting": meeting.title,
                "meeting_starts_at": meeting.starts_at.isoformat(),
                "cutoff_date": meeting.cutoff_date.isoformat(),
                "may_vote": entry.may_vote,
                "reasons": entry.reasons,
            }
        )
    for attendance, meeting in session.execute(
        select(Attendance, Meeting)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(Attendance.member_id == member_id)
        .order_by(Attendance.checked_in_at)
    ):
        rows.append(
            {
                "record": "attendance",
                "meeting": meeting.title,
                "checked_in_at": attendance.checked_in_at.isoformat(),
                "checked_out_at": attendance.checked_out_at.isoformat()
                if attendance.checked_out_at
                else None,
                "may_vote": attendance.may_vote,
                "reasons": attendance.reasons,
                "override": attendance.is_override,
                "voting_card_number": attendance.voting_card_number,
            }
        )
    return rows
