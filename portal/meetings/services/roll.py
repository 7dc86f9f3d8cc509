"""After the freeze: replica changes become differences that only the chair applies to the roll."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound
from portal.meetings import eligibility
from portal.meetings.eligibility import MeetingFacts, Verdict
from portal.meetings.models import (
    Attendance,
    DifferenceState,
    Meeting,
    RollDifference,
    VoterRollEntry,
)
from portal.meetings.services.freeze import judged_rows, meeting_facts
from portal.members import names


@dataclass(frozen=True)
class Judged:
    """One member with the facts the rule saw and its verdict."""

    member_id: int
    member_number: str
    name: str
    on_roll: bool
    verdict: Verdict


def _judged(
    session: Session, meeting: Meeting, facts: MeetingFacts, member_ids: Collection[int] | None
) -> Iterator[Judged]:
    for row, on_roll, codes in judged_rows(session, meeting, facts, member_ids):
        yield Judged(
            member_id=row[0],
            member_number=row[1],
            name=names.formal_name(row[2], row[3], row[4]),
            on_roll=on_roll,
            verdict=eligibility.Verdict(eligibility.decode(codes)),
        )


def roll_entry(session: Session, meeting: Meeting, member_id: int) -> VoterRollEntry | None:
    """The member's line on the frozen roll, if any."""
    return session.scalar(
        select(VoterRollEntry).where(
            VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.member_id == member_id
        )
    )


def flag_differences(session: Session, *, meeting: Meeting, member_ids: Collection[int] | None = None) -> int:
    """Compare the frozen roll with the replica now; keep one pending difference per changed verdict.

    Nothing on the roll changes here: the chair applies or dismisses each difference.
    Returns the number of pending differences for the meeting afterwards.
    """
    if meeting.roll_frozen_at is None or meeting.pseudonymised_at is not None:
        return 0
    facts = meeting_facts(session, meeting)
    frozen_query = select(VoterRollEntry.member_id, VoterRollEntry.may_vote, VoterRollEntry.reasons).where(
        VoterRollEntry.meeting_id == meeting.id
    )
    if member_ids is not None:
        frozen_query = frozen_query.where(VoterRollEntry.member_id.in_(list(member_ids)))
    frozen = {row.member_id: (row.may_vote, row.reasons) for row in session.execute(frozen_query)}
    pending = {
        row.member_id: row
        for row in session.scalars(
            select(RollDifference).where(
                RollDifference.meeting_id == meeting.id, RollDifference.state == DifferenceState.PENDING
            )
        )
        if member_ids is None or row.member_id in member_ids
    }
    ids_to_judge: Collection[int] | None = member_ids
    if member_ids is None:
        ids_to_judge = None  # everyone in scope, plus whoever is on the roll but left the scope
    seen: set[int] = set()
    now = utcnow()
    for judged in _judged(session, meeting, facts, ids_to_judge):
        seen.add(judged.member_id)
        _compare(session, meeting, judged, frozen.get(judged.member_id), pending, now)
    left_scope = [member_id for member_id in frozen if member_id not in seen]
    if left_scope:
        for judged in _judged(session, meeting, facts, left_scope):
            _compare(session, meeting, judged, frozen.get(judged.member_id), pending, now)
    session.flush()
    return int(
        session.scalar(
            select(func.count())
            .select_from(RollDifference)
            .where(RollDifference.meeting_id == meeting.id, RollDifference.state == DifferenceState.PENDING)
        )
        or 0
    )


def _compare(
    session: Session,
    meeting: Meeting,
    judged: Judged,
    frozen: tuple[bool, str] | None,
    pending: dict[int | None, RollDifference],
    now: datetime,
) -> None:
    frozen_vote, frozen_reasons = (
        frozen if frozen is not None else (False, eligibility.Reason.NOT_ON_ROLL.value)
    )
    current_vote = judged.verdict.may_vote and (judged.on_roll or frozen is not None)
    current_reasons = judged.verdict.codes
    existing = pending.get(judged.member_id)
    if current_vote == frozen_vote:
        if existing is not None:
            session.execute(delete(RollDifference).where(RollDifference.id == existing.id))
        return
    if existing is None:
        session.add(
            RollDifference(
                meeting_id=meeting.id,
                member_id=judged.member_id,
                member_number=judged.member_number,
                name=judged.name,
                on_roll=frozen is not None,
                frozen_may_vote=frozen_vote,
                frozen_reasons=frozen_reasons,
                current_may_vote=current_vote,
                current_reasons=current_reasons,
                detected_at=now,
            )
        )
    else:
        existing.current_may_vote, existing.current_reasons = current_vote, current_reasons
        existing.detected_at = now


def pending_differences(session: Session, meeting: Meeting) -> list[RollDifference]:
    """The differences waiting for the chair."""
    return list(
        session.scalars(
            select(RollDifference)
            .where(RollDifference.meeting_id == meeting.id, RollDifference.state == DifferenceState.PENDING)
            .order_by(RollDifference.name)
        )
    )


def decide_difference(
    session: Session, *, meeting: Meeting, difference_id: int, apply: bool, actor: Actor
) -> RollDifference:
    """The chair applies a difference to the roll (and to a present member's vote) or dismisses it."""
    difference = session.get(RollDifference, difference_id)
    if difference is None or difference.meeting_id != meeting.id:
        raise NotFound("This difference does not exist.")
    if difference.state is not DifferenceState.PENDING:
        raise Conflict("This difference has already been decided.")
    now = utcnow()
    difference.state = DifferenceState.APPLIED if apply else DifferenceState.DISMISSED
    difference.decided_at, difference.decided_by = now, actor.label
    changes: dict[str, list[Any]] = {"state": ["pending", difference.state.value]}
    if apply and difference.member_id is not None:
        entry = roll_entry(session, meeting, difference.member_id)
        if entry is None:
            entry = VoterRollEntry(
                meeting_id=meeting.id,
                member_id=difference.member_id,
                member_number=difference.member_number,
                name=difference.name,
                may_vote=False,
                reasons="",
            )
            session.add(entry)
        changes["may_vote"] = [entry.may_vote, difference.current_may_vote]
        changes["reasons"] = [entry.reasons, difference.current_reasons]
        entry.may_vote, entry.reasons, entry.changed_at = (
            difference.current_may_vote,
            difference.current_reasons,
            now,
        )
        session.execute(
            update(Attendance)
            .where(
                Attendance.meeting_id == meeting.id,
                Attendance.member_id == difference.member_id,
                Attendance.checked_out_at.is_(None),
                Attendance.is_override.is_(False),
            )
            .values(may_vote=difference.current_may_vote, reasons=difference.current_reasons)
        )
        session.flush()
        meeting.eligible_count = int(
            session.scalar(
                select(func.count())
                .select_from(VoterRollEntry)
                .where(VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.may_vote.is_(True))
            )
            or 0
        )
    record_change(
        session,
        actor=actor,
        action="meetings.apply_roll_difference" if apply else "meetings.dismiss_roll_difference",
        target=difference,
        changes={**changes, "member_id": [None, difference.member_id]},
    )
    session.flush()
    return difference


def flag_differences_after_pull(session: Session, *, member_ids: Collection[int], now: datetime) -> int:
    """After a pull: flag changed verdicts of these members in every frozen roll of a meeting not yet over."""
    if not member_ids:
        return 0
    meetings = session.scalars(
        select(Meeting).where(
            Meeting.roll_frozen_at.is_not(None), Meeting.pseudonymised_at.is_(None), Meeting.ends_at > now
        )
    ).all()
    return sum(flag_differences(session, meeting=meeting, member_ids=member_ids) for meeting in meetings)
