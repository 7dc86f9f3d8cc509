"""Member search for officers: name, number, postcode, status, dates, age, positions, interests — in scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from portal.core.errors import NotFound, ValidationFailed
from portal.members.messages import N_
from portal.members.models import Member, MembershipStatus, Position, PositionFunction
from portal.members.name_search import NameQuery, parse_name_query
from portal.members.services.name_matching import (
    SORTED_AFTER_FILTERING,
    closeness,
    count_up_to,
    interest_condition,
    ordered_by_name_match,
    similar_names,
)
from portal.members.services.org_tree import covers_everything

PAGE_SIZE = 25
MAX_PAGE = 200
MIN_NAME_LENGTH = 2
SUGGEST_BELOW = 3  # "similar names" when the exact search finds almost nobody
_POSTCODE_DIGITS = re.compile(r"^[1-9][0-9]{3}$")
EXPORT_TOO_LARGE = N_(
    "This search finds more than %(limit)s members, more than one export can hold. Narrow the search, "
    "for example by status, postcode or member since, and export again."
)
EXPORT_TOO_LARGE_FIELDS = {"export": "too_many"}  # how a refused over-large export is told apart


@dataclass(frozen=True)
class MemberFilters:
    """The officer's search form, validated; empty fields do not narrow."""

    name: str = ""
    member_number: str = ""
    postcode_from: str = ""
    postcode_to: str = ""
    statuses: frozenset[MembershipStatus] = frozenset()
    member_since_from: date | None = None
    member_since_to: date | None = None
    age_min: int | None = None
    age_max: int | None = None
    functions: frozenset[PositionFunction] = frozenset()
    interests: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing narrows the search."""
        return not any(
            (self.name.strip(), self.member_number.strip(), self.postcode_from, self.postcode_to,
             self.statuses, self.member_since_from, self.member_since_to, self.age_min is not None,
             self.age_max is not None, self.functions, self.interests)
        )  # fmt: skip


@dataclass(frozen=True)
class MemberPage:
    """One page of members in scope, plus names that look like a misspelling of the query."""

    members: list[Member]
    page: int
    has_more: bool
    similar: list[Member] = field(default_factory=list)


@dataclass(frozen=True)
class Scope:
    """The org units whose members an officer may see; `everything` for national functions."""

    unit_ids: frozenset[int]
    everything: bool = False

    @classmethod
    def of(cls, session: Session, unit_ids: set[int] | frozenset[int]) -> Scope:
        """The scope of a set of units (a set holding the national root covers every member)."""
        return cls(frozenset(unit_ids), everything=covers_everything(session, unit_ids))

    def contains(self, member: Member) -> bool:
        """Whether a member's home branch lies in this scope."""
        return self.everything or (member.branch_id is not None and member.branch_id in self.unit_ids)


def _birth_date_bounds(
    today: date, age_min: int | None, age_max: int | None
) -> tuple[date | None, date | None]:
    """Born on or before `latest` (at least age_min) and after `earliest` (at most age_max)."""

    def years_back(years: int) -> date:
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    latest = years_back(age_min) if age_min is not None else None
    earliest = years_back(age_max + 1) if age_max is not None else None
    return earliest, latest


def _postcode_bounds(low: str, high: str) -> tuple[str, str]:
    for value in (low, high):
        if value and not _POSTCODE_DIGITS.match(value):
            raise ValidationFailed(
                N_("A postcode range uses four digits, e.g. 3500 to 3599."), fields={"postcode": "format"}
            )
    return low, str(int(high) + 1) if high else ""


def _statement(session: Session, scope: Scope, filters: MemberFilters, today: date) -> Select[Any]:
    statement = select(Member.id).where(Member.removed_at.is_(None))
    if not scope.everything:
        statement = statement.where(Member.branch_id.in_(sorted(scope.unit_ids)))
    if filters.member_number.strip():
        statement = statement.where(Member.member_number == filters.member_number.strip())
    low, high = _postcode_bounds(filters.postcode_from, filters.postcode_to)
    if low:
        statement = statement.where(Member.postcode >= low)
    if high:
        statement = statement.where(Member.postcode < high)
    if filters.statuses:
        statement = statement.where(Member.status.in_(sorted(filters.statuses, key=lambda s: s.value)))
    if filters.member_since_from:
        statement = statement.where(Member.member_since >= filters.member_since_from)
    if filters.member_since_to:
        statement = statement.where(Member.member_since <= filters.member_since_to)
    earliest, latest = _birth_date_bounds(today, filters.age_min, filters.age_max)
    if earliest:
        statement = statement.where(Member.birth_date >= earliest)
    if latest:
        statement = statement.where(Member.birth_date <= latest)
    if filters.functions:
        current = select(Position.member_id).where(
            Position.function.in_(sorted(filters.functions, key=lambda f: f.value)),
            Position.removed_at.is_(None),
            or_(Position.start_date.is_(None), Position.start_date <= today),
            or_(Position.end_date.is_(None), Position.end_date >= today),
        )
        statement = statement.where(Member.id.in_(current))
    if filters.interests:
        branch_ids = None if scope.everything else sorted(scope.unit_ids)
        statement = statement.where(interest_condition(filters.interests, Member.id, branch_ids=branch_ids))
    return statement


def _page_of(session: Session, ordered: Select[Any], limit: int, offset: int) -> list[Member]:
    member_ids = list(dict.fromkeys(session.scalars(ordered.limit(limit).offset(offset))))
    members = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(member_ids)))}
    return [members[member_id] for member_id in member_ids]


_SMALL_SCOPE = 2000


def _with_name(
    session: Session,
    statement: Select[Any],
    scope: Scope,
    query: NameQuery,
    filters: MemberFilters,
    *,
    window: int,
) -> Select[Any]:
    """The search ordered for paging: by name, or by matched name word when a name was typed.

    Without a name, the whole party with only broad filters (status, age, dates) is read in name order
    from the index; a scope or a narrow filter (position, number, postcode) is filtered first and sorted.
    """
    if query.is_empty:
        narrow = (
            filters.functions or filters.member_number.strip() or filters.postcode_from or filters.postcode_to
        )
        if scope.everything and not narrow:
            return statement.order_by(Member.sort_name, Member.id)
        return statement.order_by(*SORTED_AFTER_FILTERING)
    if scope.everything:
        return ordered_by_name_match(statement, query, window=window)
    in_scope = select(Member.id).where(Member.branch_id.in_(sorted(scope.unit_ids)))
    small = count_up_to(session, in_scope, _SMALL_SCOPE) < _SMALL_SCOPE
    return ordered_by_name_match(
        statement, query, window=window, branch_ids=sorted(scope.unit_ids), small_scope=small
    )


def search_members(
    session: Session, *, scope: Scope, filters: MemberFilters, page: int, today: date
) -> MemberPage:
    """Members in the officer's scope matching every filled-in filter, by name, one page at a time."""
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(N_("There are no more pages."), fields={"page": "out_of_range"})
    query = parse_name_query(filters.name)
    if filters.name.strip() and query.length < MIN_NAME_LENGTH:
        raise ValidationFailed(N_("Type at least two letters of the name."), fields={"name": "too_short"})
    base = _statement(session, scope, filters, today)
    exact = _with_name(session, base, scope, query, filters, window=page * PAGE_SIZE + 1)
    members = _page_of(session, exact, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    has_more = len(members) > PAGE_SIZE
    members = members[:PAGE_SIZE]
    similar: list[Member] = []
    if page == 1 and len(members) < SUGGEST_BELOW and any(word.fuzzy_terms() for word in query.words):
        others = base.where(Member.id.not_in([m.id for m in members]))
        branch_ids = None if scope.everything else sorted(scope.unit_ids)
        fuzzy = similar_names(session, others, query, branch_ids=branch_ids)
        found = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(fuzzy)))}
        candidates = [found[member_id] for member_id in fuzzy]
        candidates.sort(key=lambda m: -closeness(filters.name, m.given_name, m.infix, m.family_name))
        similar = candidates[:10]
    return MemberPage(members=members, page=page, has_more=has_more, similar=similar)


def member_in_scope(session: Session, member_id: int, scope: Scope) -> Member:
    """The member, or NotFound when they do not exist or lie outside the officer's scope."""
    member = session.get(Member, member_id)
    if member is None or member.removed_at is not None or not scope.contains(member):
        raise NotFound(N_("This member does not exist, or is not in your area."))
    return member


def members_for_export(
    session: Session, *, scope: Scope, filters: MemberFilters, today: date, limit: int
) -> list[Member]:
    """Every member the search finds, by name, for a CSV or XLSX export; ValidationFailed when that is
    more than `limit` (a cut-off file would look complete)."""
    query = parse_name_query(filters.name)
    base = _statement(session, scope, filters, today)
    statement = _with_name(session, base, scope, query, filters, window=limit + 1)
    members = _page_of(session, statement, limit + 1, 0)
    if len(members) > limit:
        raise ValidationFailed(EXPORT_TOO_LARGE, fields=EXPORT_TOO_LARGE_FIELDS)
    return members
