"""Name search at the door, among the people the meeting's frozen roll lists: a steward finds the
meeting's own members by name, never the rest of the party (anyone else shows their card or number).
The steward asks for postcode or birth year to tell people apart, and the portal filters on them
without ever showing them (stewards see number, name and status only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, String, func, select, type_coerce
from sqlalchemy.orm import Session

from portal.core.actors import Actor
from portal.meetings.models import CheckInMethod, VoterRollEntry
from portal.meetings.services.door import log_attempt
from portal.meetings.services.meetings import AnyMeeting
from portal.members import names
from portal.members.models import Member
from portal.members.name_search import parse_name_query
from portal.members.services.name_matching import (
    SORTED_AFTER_FILTERING,
    count_up_to,
    ordered_by_name_match,
    similar_names,
)

MAX_RESULTS = 10
SCAN_LIMIT = 50  # candidates read: enough to say "more than ten, ask for postcode or birth year"
SMALL_ROLL = 2000  # below this, the roll is read member by member (a branch); above, the name index drives
QUERY_MAX = 100


@dataclass(frozen=True)
class Candidate:
    """One person the steward may pick."""

    member_number: str
    name: str
    status: str  # MembershipStatus value


@dataclass(frozen=True)
class SearchResult:
    """Candidates, and whether more people matched than are shown (ask for postcode or birth year)."""

    candidates: tuple[Candidate, ...]
    more: bool
    same_name_count: int  # how many candidates share the best match's name: > 1 means disambiguate


def normalise_postcode(raw: str) -> str:
    """'1234 ab' → '1234AB'."""
    return "".join((raw or "").split()).upper()[:16]


def search_members(
    session: Session,
    *,
    meeting: AnyMeeting,
    query: str,
    actor: Actor,
    postcode: str = "",
    birth_year: int | None = None,
) -> SearchResult:
    """Members on the meeting's roll whose name has every word of `query` (misspellings as a
    fallback), narrowed by postcode and birth year in the database, before any limit: at a congress
    the 2,000 people called Bakker are narrowed to the one at the postcode the steward asked for."""
    parsed = parse_name_query((query or "")[:QUERY_MAX])
    if parsed.is_empty:
        return SearchResult((), False, 0)
    on_roll = _on_roll(meeting, normalise_postcode(postcode), birth_year)
    small = count_up_to(
        session, select(VoterRollEntry.id).where(VoterRollEntry.meeting_id == meeting.id), SMALL_ROLL
    )
    ordered = ordered_by_name_match(on_roll, parsed, window=SCAN_LIMIT, small_scope=small < SMALL_ROLL)
    ids = list(dict.fromkeys(session.scalars(ordered.limit(SCAN_LIMIT))))
    if not ids and any(word.fuzzy_terms() for word in parsed.words):
        # The roll, postcode and birth year narrow the misspelt candidates too, before their cut:
        # "Jnsen" stands for thousands of people at a congress, the postcode for one of them.
        ids = similar_names(session, on_roll, parsed, only=_narrowed_to(on_roll), limit=SCAN_LIMIT)
    found = _candidates(session, ids)
    if not found:
        log_attempt(
            session,
            meeting=meeting,
            actor=actor,
            method=CheckInMethod.SEARCH,
            query=query,
            outcome="no_match",
        )
        return SearchResult((), False, 0)
    first = names.fold(found[0].name)
    same = sum(1 for candidate in found if names.fold(candidate.name) == first)
    return SearchResult(tuple(found[:MAX_RESULTS]), len(found) > MAX_RESULTS, same)


def _on_roll(meeting: AnyMeeting, wanted_postcode: str, birth_year: int | None) -> Select[Any]:
    """Ids of the members the meeting's roll lists, with the steward's postcode and birth year."""
    statement = (
        select(Member.id)
        .join(
            VoterRollEntry,
            (VoterRollEntry.member_id == Member.id) & (VoterRollEntry.meeting_id == meeting.id),
        )
        .where(Member.removed_at.is_(None))
    )
    if wanted_postcode:  # typed with or without spaces, in any case; compared as `normalise_postcode`
        statement = statement.where(func.upper(func.replace(Member.postcode, " ", "")) == wanted_postcode)
    if birth_year is not None:
        statement = statement.where(
            Member.birth_date >= date(birth_year, 1, 1), Member.birth_date <= date(birth_year, 12, 31)
        )
    return statement


def _narrowed_to(on_roll: Select[Any]) -> Callable[[Any], ColumnElement[bool]]:
    """A per-member check that the member is in `on_roll` (a probe by id, not the roll as a set)."""

    def check(member_id: Any) -> ColumnElement[bool]:
        return on_roll.where(Member.id == member_id).exists()

    return check


def _candidates(session: Session, ids: list[int]) -> list[Candidate]:
    """The people behind `ids`, by name (each match word's hits came in index order); sorted after the
    few are found, as the officers' search does, never by walking the name index."""
    if not ids:
        return []
    rows = session.execute(
        select(
            Member.member_number,
            Member.given_name,
            Member.infix,
            Member.family_name,
            type_coerce(Member.status, String).label("status"),
        )
        .where(Member.id.in_(ids))
        .order_by(*SORTED_AFTER_FILTERING)
    )
    return [
        Candidate(
            member_number=row.member_number,
            name=names.display_name(row.given_name, row.infix, row.family_name),
            status=row.status.lower(),
        )
        for row in rows
    ]
