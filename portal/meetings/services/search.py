"""Name search at the door, among the people the meeting's frozen roll lists: a steward finds the
meeting's own members by name, never the rest of the party (anyone else shows their card or number).
The steward asks for postcode or birth year to tell people apart, and the portal filters on them
without ever showing them (stewards see number, name and status only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Select, String, select, type_coerce
from sqlalchemy.orm import Session

from portal.core.actors import Actor
from portal.meetings.models import CheckInMethod, VoterRollEntry
from portal.meetings.services.door import log_attempt
from portal.meetings.services.meetings import AnyMeeting
from portal.members import names
from portal.members.models import Member
from portal.members.name_search import parse_name_query
from portal.members.services.name_matching import name_matches

MAX_RESULTS = 10
SCAN_LIMIT = 200
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
    fallback), narrowed by postcode and birth year; the members' own name index does the matching."""
    parsed = parse_name_query((query or "")[:QUERY_MAX])
    if parsed.is_empty:
        return SearchResult((), False, 0)
    wanted_postcode = normalise_postcode(postcode)
    found: list[Candidate] = []
    for fuzzy in (False, True):
        found = _candidates(session, meeting, name_matches(parsed, fuzzy=fuzzy), wanted_postcode, birth_year)
        if found:
            break
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


def _candidates(
    session: Session,
    meeting: AnyMeeting,
    matching_ids: Select[Any] | CompoundSelect[Any],
    wanted_postcode: str,
    birth_year: int | None,
) -> list[Candidate]:
    statement = (
        select(
            Member.member_number,
            Member.given_name,
            Member.infix,
            Member.family_name,
            type_coerce(Member.status, String).label("status"),
            Member.postcode,
            Member.birth_date,
        )
        .join(
            VoterRollEntry,
            (VoterRollEntry.member_id == Member.id) & (VoterRollEntry.meeting_id == meeting.id),
        )
        .where(Member.id.in_(matching_ids), Member.removed_at.is_(None))
        .order_by(Member.sort_name, Member.id)
        .limit(SCAN_LIMIT)
    )
    found: list[Candidate] = []
    for row in session.execute(statement):
        if wanted_postcode and normalise_postcode(row.postcode) != wanted_postcode:
            continue
        if birth_year is not None and (row.birth_date is None or row.birth_date.year != birth_year):
            continue
        found.append(
            Candidate(
                member_number=row.member_number,
                name=names.display_name(row.given_name, row.infix, row.family_name),
                status=row.status.lower(),
            )
        )
    return found
