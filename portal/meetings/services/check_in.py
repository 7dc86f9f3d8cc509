"""Checking a member in: explicit (never a toggle), idempotent by client nonce, one presence per member."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Row, String, bindparam, cast, func, select, true, type_coerce
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from audit.services import record_change
from audit.sql_append import Hole, SqlAppend, constant, json_bool, sql_append
from portal.core import context
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import DriverStatement
from portal.core.errors import Conflict, NotFound
from portal.meetings import eligibility
from portal.meetings.eligibility import Reason
from portal.meetings.models import Attendance, AttendeeKind, CheckInMethod, VoterRollEntry
from portal.meetings.services.door import (
    DoorResult,
    Outcome,
    Signal,
    active_presence,
    check_nonce,
    ensure_door_open,
    insert_presence,
    log_attempt,
    normalise_member_number,
    result_from,
)
from portal.meetings.services.meetings import AnyMeeting
from portal.members import names
from portal.members.models import Member


class Inserted(NamedTuple):
    """A presence interval just inserted."""

    id: int
    checked_in_at: datetime


@dataclass(frozen=True)
class FoundMember:
    member_id: int
    member_number: str
    name: str
    may_vote: bool
    reasons: tuple[Reason, ...]


# Built once: the door's hot path only binds values (the statements are plain objects, no I/O).
_FIND_MEMBER = (
    select(
        Member.id,
        Member.member_number,
        Member.given_name,
        Member.infix,
        Member.family_name,
        type_coerce(Member.status, String).label("status"),
        Member.removed_at,
        VoterRollEntry.id.label("entry_id"),
        VoterRollEntry.may_vote,
        VoterRollEntry.reasons,
    )
    .outerjoin(
        VoterRollEntry,
        (VoterRollEntry.member_id == Member.id) & (VoterRollEntry.meeting_id == bindparam("meeting_id")),
    )
    .where(Member.member_number == bindparam("number"))
)
_PRESENCE_PARAMETERS = (
    "meeting_id", "kind", "method", "check_in_nonce", "checked_in_at", "checked_in_by_id", "checked_in_by",
    "is_override", "override_reason", "override_by",
)  # fmt: skip
_PLAIN_REASONS = "^[a-z0-9_,]*$"  # reason codes the statement can write into JSON as they are
# Columns with a Python-side default, given here: SQLAlchemy fills such defaults in for one INSERT of
# a statement only, and the check-in statement has two (the presence and its audit entry).
_EMPTY_AT_CHECK_IN = ("guest_note", "pseudonym", "checked_out_by")


def _check_in_on_roll_statement() -> tuple[DriverStatement, SqlAppend]:
    """PostgreSQL, the door's common case in one round trip: find the member (as `_FIND_MEMBER`) and, when the
    frozen roll lists them with plain reason codes, insert their presence and its audit entry. Returns the
    statement (run on the driver) and its audit append (for the entry's bind values). The statement gives the
    member's row, whether its reasons are plain (`plain`), the new presence's id and time and the entry's id
    (`audit_id`), or NULLs there when the roll does not list them, their reasons are not plain or a unique
    index said no (the caller then decides as `find_member` and `insert_presence` would), and NULL `audit_id`
    when the entry was left to `record_change` (skipped bind values)."""
    # The member's row is locked (FOR KEY SHARE, as the presence's foreign key check would) before the
    # audit head: every writer takes a member's row before the head, or the CRM pull (member FOR UPDATE,
    # then the head) and a check-in (head, then the key check at the statement's end) would deadlock.
    found = _FIND_MEMBER.with_for_update(read=True, key_share=True, of=Member).cte("found")
    columns = Attendance.__table__.c
    # names.display_name in SQL: the parts joined by spaces, each run of whitespace one space.
    name = func.btrim(
        func.regexp_replace(
            func.concat_ws(constant(" "), found.c.given_name, found.c.infix, found.c.family_name),
            constant(r"\s+"),
            constant(" "),
            constant("g"),
        )
    )
    # Only a presence whose audit entry this statement can write too (its reason codes plain words):
    # so the statement, run as a transaction of its own, never leaves a presence without its entry.
    plain = found.c.reasons.regexp_match(constant(_PLAIN_REASONS))
    row = select(
        *(bindparam(column, type_=columns[column].type) for column in _PRESENCE_PARAMETERS),
        found.c.id,
        found.c.member_number,
        name,
        found.c.may_vote | bindparam("override", type_=Boolean),
        found.c.reasons,
        *(constant("") for _column in _EMPTY_AT_CHECK_IN),
    ).where(found.c.entry_id.is_not(None), plain)
    inserted = (
        postgresql.insert(Attendance)
        .from_select(
            [
                *_PRESENCE_PARAMETERS,
                *("member_id", "member_number", "name", "may_vote", "reasons"),
                *_EMPTY_AT_CHECK_IN,
            ],
            row,
        )
        .on_conflict_do_nothing()
        .returning(
            Attendance.id,
            Attendance.checked_in_at,
            Attendance.member_id,
            Attendance.may_vote,
            Attendance.reasons,
        )
        .cte("inserted")
    )
    # The presence's audit entry, in the same statement, from the row as inserted (see `_audit_changes`
    # for its content); its reason codes are plain words (`plain` above), written into the JSON as they are.
    audit = sql_append(
        select(
            inserted.c.id.label("target_id"),
            json_bool(inserted.c.may_vote).label("may_vote"),
            cast(inserted.c.member_id, String).label("member_id"),
            (constant('"') + inserted.c.reasons + constant('"')).label("reasons"),
        ),
        holes=("may_vote", "member_id", "reasons"),
    )
    statement = select(
        found,
        plain.label("plain"),
        inserted.c.id.label("attendance_id"),
        inserted.c.checked_in_at,
        audit.entries.c.id.label("audit_id"),
    ).select_from(found.outerjoin(inserted, true()).outerjoin(audit.entries, true()))
    return DriverStatement(statement), audit


_CHECK_IN_ON_ROLL, _CHECK_IN_AUDIT = _check_in_on_roll_statement()


def _audit_changes(
    meeting_id: int, member_id: Any, may_vote: Any, reasons: Any, override_reason: str
) -> dict[str, list[Any]]:
    """What a check-in's audit entry records."""
    return {
        "meeting_id": [None, meeting_id],
        "member_id": [None, member_id],
        "may_vote": [None, may_vote],
        "reasons": [None, reasons],
        "override_reason": [None, override_reason or None],
    }


def _found_from(row: Row[*tuple[Any, ...]] | None) -> tuple[FoundMember | None, bool]:
    """Decide on a `_FIND_MEMBER` row: the member with their frozen verdict, and whether the door may
    admit them (a member at all)."""
    if row is None:
        return None, False
    name = names.display_name(row.given_name, row.infix, row.family_name)
    if row.entry_id is not None:  # the frozen roll decides, whatever the replica says now (J6)
        return FoundMember(
            row.id, row.member_number, name, row.may_vote, eligibility.decode(row.reasons)
        ), True
    if row.removed_at is not None or row.status.lower() not in eligibility.MEMBER_STATUSES:
        return FoundMember(row.id, row.member_number, name, False, ()), False
    return FoundMember(row.id, row.member_number, name, False, (Reason.NOT_ON_ROLL,)), True


def find_member(session: Session, meeting: AnyMeeting, member_number: str) -> tuple[FoundMember | None, bool]:
    """The member with their frozen verdict, and whether the door may admit them (a member at all)."""
    row = (
        session.connection()
        .execute(_FIND_MEMBER, {"meeting_id": meeting.id, "number": member_number})
        .first()
    )
    return _found_from(row)


def _by_nonce(session: Session, meeting: AnyMeeting, nonce: str) -> Attendance | None:
    return session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.check_in_nonce == nonce)
    )


def check_in_member(
    session: Session,
    *,
    meeting: AnyMeeting,
    member_number: str,
    actor: Actor,
    nonce: str,
    method: CheckInMethod = CheckInMethod.NUMBER,
    override_reason: str = "",
) -> DoorResult:
    """Check a member in (never toggles). A retried nonce returns the first answer; a second steward
    hears who checked the member in and when. With `override_reason` the member gets a voting right."""
    check_nonce(nonce)
    now = utcnow()
    ensure_door_open(meeting, now)
    number = normalise_member_number(member_number)
    presence = {
        "meeting_id": meeting.id,
        "kind": AttendeeKind.MEMBER,
        "method": method,
        "check_in_nonce": nonce,
        "checked_in_at": now,
        "checked_in_by_id": actor.id,
        "checked_in_by": actor.label,
        "is_override": bool(override_reason),
        "override_reason": override_reason,
        "override_by": actor.label if override_reason else "",
    }
    action = "meetings.override_check_in" if override_reason else "meetings.check_in"
    inserted: Inserted | None = None
    tried = False  # whether the one-round-trip statement already tried to insert the presence
    audited = False  # whether it also appended the audit entry
    if not number:
        found, known = None, False
    elif session.connection().dialect.name == "postgresql":
        audit = _CHECK_IN_AUDIT.values(
            actor=actor,
            action=action,
            target_type="attendances",
            changes=_audit_changes(
                meeting.id, Hole("member_id"), Hole("may_vote"), Hole("reasons"), override_reason
            ),
            occurred_at=now,
            request_id=context.request_id.get(),
        )
        parameters = {
            **presence,
            **(audit or _CHECK_IN_AUDIT.skipped()),
            "number": number,
            "override": bool(override_reason),
        }
        # With its audit entry in it, the statement is a whole check-in: a transaction of its own,
        # committed as it ends (no BEGIN, no COMMIT, the chain's head locked only that long). Without,
        # `record_change` must join it in the request's transaction.
        row = _CHECK_IN_ON_ROLL.first(session, parameters, alone=audit is not None)
        found, known = _found_from(row)
        tried = row is not None and row.entry_id is not None and bool(row.plain)
        if row is not None and row.attendance_id is not None:
            inserted = Inserted(row.attendance_id, row.checked_in_at)
            audited = row.audit_id is not None
    else:
        found, known = find_member(session, meeting, number)

    def note_refusal(outcome: Outcome, member_id: int | None) -> None:
        log_attempt(
            session,
            meeting=meeting,
            actor=actor,
            method=method,
            query=member_number,
            outcome=outcome.value,
            member_id=member_id,
        )

    if found is None or not known:
        outcome = Outcome.NOT_A_MEMBER if found is not None else Outcome.UNKNOWN
        if override_reason:
            raise NotFound("No member has this member number: an override cannot admit them.")
        note_refusal(outcome, found.member_id if found else None)
        return DoorResult(
            outcome=outcome,
            signal=Signal.REFUSED,
            member_number=number or "",
            name=found.name if found else "",
        )
    may_vote = found.may_vote or bool(override_reason)
    values = {
        **presence,
        "member_id": found.member_id,
        "member_number": found.member_number,
        "name": found.name,
        "may_vote": may_vote,
        "reasons": eligibility.encode(found.reasons),
    }
    for _attempt in range(3):
        if not tried:
            fresh = insert_presence(session, values)
            inserted = Inserted(fresh.id, fresh.checked_in_at) if fresh is not None else None
        tried = False
        if inserted is not None:
            if not audited:
                record_change(
                    session,
                    actor=actor,
                    action=action,
                    target=("attendances", inserted.id),
                    changes=_audit_changes(
                        meeting.id, found.member_id, may_vote, values["reasons"], override_reason
                    ),
                )
            return DoorResult(
                outcome=Outcome.CHECKED_IN,
                signal=Signal.VOTE if may_vote else Signal.NO_VOTE,
                member_number=found.member_number,
                name=found.name,
                reasons=() if may_vote else found.reasons,
                attendance_id=inserted.id,
                checked_in_at=inserted.checked_in_at,
                checked_in_by=actor.label,
                is_override=bool(override_reason),
            )
        earlier = _by_nonce(session, meeting, nonce)
        if earlier is not None:
            if earlier.member_id != found.member_id:
                raise Conflict("This client nonce was already used for someone else.")
            return result_from(earlier, Outcome.CHECKED_IN, replayed=True)
        present = active_presence(session, meeting, found.member_id)
        if present is not None:
            note_refusal(Outcome.ALREADY_PRESENT, found.member_id)
            return result_from(present, Outcome.ALREADY_PRESENT)
        # The blocking presence was checked out between our insert and our look; try again.
    raise Conflict("The check-in could not be recorded; try again.")


def check_in_by_card(
    session: Session,
    *,
    meeting: AnyMeeting,
    payload: str,
    verify: Callable[[str], str],
    actor: Actor,
    nonce: str,
) -> DoorResult:
    """Check in from a scanned membership card; `verify` returns the member number or raises ValueError."""
    check_nonce(nonce)
    try:
        member_number = verify((payload or "")[:200])
    except ValueError:
        ensure_door_open(meeting, utcnow())
        log_attempt(
            session,
            meeting=meeting,
            actor=actor,
            method=CheckInMethod.QR,
            query=payload,
            outcome="invalid_card",
        )
        return DoorResult(outcome=Outcome.UNKNOWN, signal=Signal.REFUSED, extra={"invalid_card": True})
    return check_in_member(
        session,
        meeting=meeting,
        member_number=member_number,
        actor=actor,
        nonce=nonce,
        method=CheckInMethod.QR,
    )
