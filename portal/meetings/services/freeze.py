"""Freezing the voter roll: each member in scope judged once, written in bulk (a national roll in seconds)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.core.actors import Actor
from portal.core.clock import local_date, utcnow
from portal.core.errors import Conflict
from portal.meetings import eligibility
from portal.meetings.eligibility import MeetingFacts, UnitScope
from portal.meetings.models import Meeting, VotingSuspension
from portal.meetings.services.meetings import unit_subtree, voting_rule
from portal.members.models import Member, MembershipStatus

BATCH = 5000
STATUS = {status.name: status.value for status in MembershipStatus}  # stored name → rule value
COLUMNS = (
    Member.id,
    Member.member_number,
    Member.given_name,
    Member.infix,
    Member.family_name,
    type_coerce(Member.status, String).label("status"),
    Member.branch_id,
    type_coerce(Member.member_since, String).label("since"),  # SQLite: ISO text, parsed in C below
    type_coerce(Member.member_until, String).label("until"),
    type_coerce(Member.dues_paid_through, String).label("dues"),
    Member.removed_at.is_not(None).label("removed"),
)
ENTRY_COLUMNS = ("meeting_id", "member_id", "member_number", "name", "may_vote", "reasons")


def meeting_facts(session: Session, meeting: Meeting) -> MeetingFacts:
    """The meeting's dates and the units that count as 'in the unit'."""
    if meeting.rule_unit_scope is UnitScope.UNIT:
        units = frozenset({meeting.org_unit_id})
    elif meeting.rule_unit_scope is UnitScope.SUBTREE:
        units = unit_subtree(session, meeting.org_unit_id)
    else:
        units = frozenset()
    return MeetingFacts(
        cutoff_date=meeting.cutoff_date, meeting_date=local_date(meeting.starts_at), unit_ids=units
    )


def _suspended_ids(session: Session, on: date, member_ids: Collection[int] | None) -> set[int]:
    query = select(VotingSuspension.member_id).where(
        VotingSuspension.starts_on <= on,
        or_(VotingSuspension.ends_on.is_(None), VotingSuspension.ends_on >= on),
    )
    if member_ids is not None:
        query = query.where(VotingSuspension.member_id.in_(list(member_ids)))
    return set(session.scalars(query))


def _day(value: Any) -> date | None:
    """A date from the driver: PostgreSQL gives dates, SQLite ISO text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _query(meeting: Meeting, facts: MeetingFacts, member_ids: Collection[int] | None) -> Any:
    query = select(*COLUMNS)
    if member_ids is not None:
        return query.where(Member.id.in_(list(member_ids)))
    query = query.where(Member.removed_at.is_(None), type_coerce(Member.status, String) != "DECEASED")
    if meeting.rule_unit_scope is not UnitScope.ANY:
        query = query.where(Member.branch_id.in_(sorted(facts.unit_ids)))
    return query


def _judge_rows(
    judge: eligibility.RawJudge, suspended: set[int], rows: Iterable[Sequence[Any]]
) -> Iterator[list[tuple[tuple[Any, ...], bool, str]]]:
    """Batches of `(member row, listed on the roll, reason codes)` for member rows read by `_query`
    (no I/O: on PostgreSQL this runs while the COPY holds the connection)."""
    status_of = STATUS
    judged: list[tuple[tuple[Any, ...], bool, str]] = []
    for row in rows:
        # id, number, given, infix, family, status, branch, since, until, dues, removed
        listed, codes = judge(
            status_of[row[5]],
            row[6],
            _day(row[7]),
            _day(row[8]),
            _day(row[9]),
            row[0] in suspended,
            bool(row[10]),
        )
        judged.append((tuple(row), listed, codes))
        if len(judged) == BATCH:
            yield judged
            judged = []
    if judged:
        yield judged


def _judged_batches(
    session: Session, meeting: Meeting, facts: MeetingFacts, member_ids: Collection[int] | None
) -> Iterator[list[tuple[tuple[Any, ...], bool, str]]]:
    """Batches of `(member row, listed on the roll, reason codes)`, in scope or for the given ids,
    read as they are judged."""
    judge = eligibility.compile_rule(facts, voting_rule(meeting))
    suspended = _suspended_ids(session, facts.meeting_date, member_ids)
    query = _query(meeting, facts, member_ids).execution_options(yield_per=BATCH)
    yield from _judge_rows(judge, suspended, session.connection().execute(query))


def judged_rows(
    session: Session, meeting: Meeting, facts: MeetingFacts, member_ids: Collection[int] | None
) -> Iterator[tuple[tuple[Any, ...], bool, str]]:
    """`(member row, listed on the roll, reason codes)` for every member in scope (or the given ids).

    A row is `(id, member_number, given_name, infix, family_name, status, branch_id, since, until,
    dues, removed)`.
    """
    for batch in _judged_batches(session, meeting, facts, member_ids):
        yield from batch


def _formal(given: str, infix: str, family: str) -> str:
    """`names.formal_name` without the generator (called once per member of a national roll)."""
    tail = f"{given} {infix}" if given and infix else given or infix
    return f"{family}, {tail}" if tail else family


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A text value for COPY's text format (a name may hold a backslash or a tab). Nearly every name
    needs nothing, and asking costs a tenth of translating."""
    if value.isprintable() and "\\" not in value:  # tab, newline and CR are not printable
        return value
    return value.translate(_COPY_ESCAPES)


def _entry_batches(
    meeting_id: int, batches: Iterator[list[tuple[tuple[Any, ...], bool, str]]], counts: list[int]
) -> Iterator[list[tuple[Any, ...]]]:
    """Roll entries (ENTRY_COLUMNS) of the listed members; `counts` gets listed and voters added."""
    for judged in batches:
        batch = [
            (meeting_id, row[0], row[1], _formal(row[2], row[3], row[4]), not codes, codes)
            for row, on_roll, codes in judged
            if on_roll
        ]
        counts[0] += len(batch)
        counts[1] += sum(1 for entry in batch if entry[4])
        yield batch


def _copy_all(session: Session, meeting: Meeting, facts: MeetingFacts, counts: list[int]) -> None:
    """PostgreSQL: read the replica first (the COPY will hold the connection, and the replica must be
    read in this transaction: it may hold rows not committed yet), then judge batch by batch *while*
    the COPY streams, so the server checks and indexes one batch as we judge the next."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert raw is not None
    judge = eligibility.compile_rule(facts, voting_rule(meeting))
    suspended = _suspended_ids(session, facts.meeting_date, None)
    # With the driver's cursor: SQLAlchemy's row objects doubled the read of a national replica.
    query = _query(meeting, facts, None).compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    with raw.cursor() as cursor:
        rows = cursor.execute(str(query), query.params).fetchall()
    columns = ", ".join(ENTRY_COLUMNS)
    batches = _judge_rows(judge, suspended, rows)
    with raw.cursor() as cursor, cursor.copy(f"COPY voter_roll_entries ({columns}) FROM STDIN") as copy:
        for entries in _entry_batches(meeting.id, batches, counts):
            # COPY's text format written in one piece per batch: write_row per row cost more than
            # judging it. Numbers and reason codes need no escaping; names and member numbers might.
            copy.write(
                "".join(
                    f"{entry[0]}\t{entry[1]}\t{_copy_text(entry[2])}\t{_copy_text(entry[3])}\t"
                    f"{'t' if entry[4] else 'f'}\t{entry[5]}\n"
                    for entry in entries
                )
            )


def _insert_all(session: Session, meeting: Meeting, facts: MeetingFacts, counts: list[int]) -> None:
    """SQLite: executemany per batch with the driver."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = ", ".join(ENTRY_COLUMNS)
    batches = _judged_batches(session, meeting, facts, None)
    for entries in _entry_batches(meeting.id, batches, counts):
        raw.executemany(f"INSERT INTO voter_roll_entries ({columns}) VALUES (?, ?, ?, ?, ?, ?)", entries)


def freeze_roll(session: Session, *, meeting: Meeting, actor: Actor) -> int:
    """Take the snapshot of who may vote and why not; once only. Returns the number of voters."""
    now = utcnow()
    claimed = session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.roll_frozen_at.is_(None))
        .values(roll_frozen_at=now, roll_frozen_by=actor.label)
        .returning(Meeting.id)
    ).first()
    if claimed is None:
        raise Conflict("The voter roll of this meeting is already frozen.")
    facts = meeting_facts(session, meeting)
    counts = [0, 0]  # listed, voters
    if session.connection().dialect.name == "postgresql":
        _copy_all(session, meeting, facts, counts)
    else:
        _insert_all(session, meeting, facts, counts)
    listed, voters = counts
    session.execute(update(Meeting).where(Meeting.id == meeting.id).values(eligible_count=voters))
    session.refresh(meeting)
    record_change(
        session,
        actor=actor,
        action="meetings.freeze_roll",
        target=meeting,
        changes={"roll_frozen_at": [None, now], "listed": [None, listed], "eligible": [None, voters]},
    )
    return voters


def freeze_due_rolls(session: Session, *, actor: Actor, today: date) -> list[int]:
    """Freeze every roll whose cut-off date has passed (the scheduler runs this each night)."""
    due = session.scalars(
        select(Meeting).where(
            Meeting.roll_frozen_at.is_(None),
            Meeting.cutoff_date < today,
            Meeting.pseudonymised_at.is_(None),
        )
    ).all()
    for meeting in due:
        freeze_roll(session, meeting=meeting, actor=actor)
    return [meeting.id for meeting in due]
