"""The who's-who: bodies and people from current public positions, searchable by name and filters."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from portal.core.errors import NotFound, ValidationFailed
from portal.members import directory_rules
from portal.members.messages import N_
from portal.members.models import (
    Member,
    MembershipStatus,
    OrgLevel,
    OrgUnit,
    OrgUnitKind,
    Position,
    PositionFunction,
)
from portal.members.name_search import NameQuery, parse_name_query
from portal.members.services.name_matching import (
    SORTED_AFTER_FILTERING,
    closeness,
    ordered_by_name_match,
    similar_names,
)
from portal.members.services.org_tree import subtree_ids

MIN_QUERY_LENGTH = 3
PAGE_SIZE = 20
MAX_PAGE = 25
SIMILAR_LIMIT = 10
SUGGEST_BELOW = 3  # "similar names" when the exact search finds almost nobody, as search engines do
_MEMBER_STATUSES = [status for status in MembershipStatus if status.is_member]


@dataclass(frozen=True)
class DirectoryFilters:
    """What the who's-who can be narrowed by; `None` means any."""

    level: OrgLevel | None = None
    region_id: int | None = None
    branch_id: int | None = None
    kind: OrgUnitKind | None = None
    role: PositionFunction | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing narrows the list."""
        return not any((self.level, self.region_id, self.branch_id, self.kind, self.role))


@dataclass(frozen=True)
class ListedPosition:
    """One public position of a listed person."""

    function: PositionFunction
    unit_id: int
    unit_name: str
    unit_kind: OrgUnitKind
    level: OrgLevel


@dataclass(frozen=True)
class ListedPerson:
    """A person as the who's-who shows them: contact fields only with their consent."""

    member_id: int
    display_name: str
    positions: tuple[ListedPosition, ...]
    email: str = ""
    mobile: str = ""
    city: str = ""

    def as_dict(self) -> dict[str, object]:
        """The JSON form; fields without consent are absent, not empty."""
        body: dict[str, object] = {"id": self.member_id, "display_name": self.display_name}
        for name in ("email", "mobile", "city"):
            if getattr(self, name):
                body[name] = getattr(self, name)
        body["positions"] = [
            {"role": p.function.value, "body_id": p.unit_id, "body": p.unit_name, "kind": p.unit_kind.value}
            for p in self.positions
        ]
        return body


@dataclass(frozen=True)
class DirectoryPage:
    """One page of people, and names that look like a misspelling of the query."""

    people: list[ListedPerson]
    page: int
    has_more: bool
    similar: list[ListedPerson] = field(default_factory=list)


@dataclass(frozen=True)
class Seat:
    """A role in a body and who holds it (`None`: vacant)."""

    function: PositionFunction
    holder: ListedPerson | None


@dataclass(frozen=True)
class BodyView:
    """A body with its seats (vacant ones included) and its parent for the breadcrumb."""

    unit: OrgUnit
    parent: OrgUnit | None
    seats: list[Seat]


def _current_public(today: date) -> ColumnElement[bool]:
    return and_(
        Position.public.is_(True),
        Position.removed_at.is_(None),
        or_(Position.start_date.is_(None), Position.start_date <= today),
        or_(Position.end_date.is_(None), Position.end_date >= today),
        Position.function.not_in(sorted(directory_rules.INTERNAL_ROLES, key=lambda f: f.value)),
    )


def _holds_listed_position(
    session: Session, filters: DirectoryFilters, today: date
) -> Callable[[InstrumentedAttribute[int]], ColumnElement[bool]]:
    """A condition on a member-id column: holds a current public position matching the filters."""
    units: list[int] | None = None
    for root in (filters.region_id, filters.branch_id):
        if root is not None:
            found = subtree_ids(session, [root])
            units = sorted(found if units is None else found & set(units))

    def condition(member_id: InstrumentedAttribute[int]) -> ColumnElement[bool]:
        position = (
            select(Position.id)
            .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
            .where(Position.member_id == member_id, _current_public(today), OrgUnit.removed_at.is_(None))
        )
        if filters.level:
            position = position.where(OrgUnit.level == filters.level)
        if filters.kind:
            position = position.where(OrgUnit.kind == filters.kind)
        if filters.role:
            position = position.where(Position.function == filters.role)
        if units is not None:
            position = position.where(OrgUnit.id.in_(units))
        return position.exists()

    return condition


def _position_holders(session: Session, filters: DirectoryFilters, today: date) -> Select[Any]:
    """Ids of members holding a current public position that matches the filters."""
    holders = select(Position.member_id).join(OrgUnit, OrgUnit.id == Position.org_unit_id)
    holders = holders.where(_current_public(today), OrgUnit.removed_at.is_(None))
    if filters.level:
        holders = holders.where(OrgUnit.level == filters.level)
    if filters.kind:
        holders = holders.where(OrgUnit.kind == filters.kind)
    if filters.role:
        holders = holders.where(Position.function == filters.role)
    for root in (filters.region_id, filters.branch_id):
        if root is not None:
            holders = holders.where(OrgUnit.id.in_(sorted(subtree_ids(session, [root]))))
    return holders


def _listed_people_statement(
    holds_position: Callable[[InstrumentedAttribute[int]], ColumnElement[bool]],
) -> Select[Any]:
    """Members (ids) holding a current public position that matches the filters."""
    return select(Member.id).where(
        Member.removed_at.is_(None), Member.status.in_(_MEMBER_STATUSES), holds_position(Member.id)
    )


def _people(session: Session, member_ids: Sequence[int], today: date) -> list[ListedPerson]:
    """The listed form of these members, in the given order."""
    if not member_ids:
        return []
    rows = session.execute(
        select(Position.member_id, Position.function, OrgUnit.id, OrgUnit.name, OrgUnit.kind, OrgUnit.level)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(Position.member_id.in_(member_ids), _current_public(today), OrgUnit.removed_at.is_(None))
    ).all()
    positions: dict[int, list[ListedPosition]] = defaultdict(list)
    for row in rows:
        positions[row.member_id].append(ListedPosition(row.function, row.id, row.name, row.kind, row.level))
    members = {
        member.id: member for member in session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    people = []
    for member_id in member_ids:
        member = members[member_id]
        held = sorted(
            positions[member_id], key=lambda p: (directory_rules.role_rank(p.function), p.unit_name)
        )
        consented = member.directory_consent
        people.append(
            ListedPerson(
                member_id=member.id,
                display_name=member.display_name,
                positions=tuple(held),
                email=member.email if consented and not member.do_not_email else "",
                mobile=member.mobile if consented and not member.do_not_call else "",
                city=member.city if consented else "",
            )
        )
    return people


def _ordered_ids(session: Session, ordered: Select[Any], limit: int, offset: int = 0) -> list[int]:
    """One page of ids of an ordered query, each id once (a member may match by two name words)."""
    return list(dict.fromkeys(session.scalars(ordered.limit(limit).offset(offset))))


def search_people(
    session: Session, *, query_text: str, filters: DirectoryFilters, page: int, today: date
) -> DirectoryPage:
    """People with current public positions matching the name (and filters), one page at a time."""
    query = parse_name_query(query_text) if query_text.strip() else NameQuery((), 0)
    if query_text.strip() and query.length < MIN_QUERY_LENGTH:
        raise ValidationFailed(N_("Type at least three letters of the name."), fields={"q": "too_short"})
    if query.is_empty and filters.is_empty:
        raise ValidationFailed(N_("Type a name or choose a filter."), fields={"q": "missing"})
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(N_("There are no more pages."), fields={"page": "out_of_range"})
    holds_position = _holds_listed_position(session, filters, today)
    listed = _listed_people_statement(holds_position)
    if query.is_empty:
        # Without a name the few thousand position holders drive the query, not 400,000 members.
        exact = (
            select(Member.id)
            .where(
                Member.removed_at.is_(None),
                Member.status.in_(_MEMBER_STATUSES),
                Member.id.in_(_position_holders(session, filters, today)),
            )
            .order_by(*SORTED_AFTER_FILTERING)
        )
    else:
        members = select(Member.id).where(Member.removed_at.is_(None), Member.status.in_(_MEMBER_STATUSES))
        exact = ordered_by_name_match(members, query, window=page * PAGE_SIZE + 1, only=holds_position)
    ids = _ordered_ids(session, exact, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    has_more = len(ids) > PAGE_SIZE
    ids = ids[:PAGE_SIZE]
    similar: list[ListedPerson] = []
    if page == 1 and len(ids) < SUGGEST_BELOW and any(word.fuzzy_terms() for word in query.words):
        fuzzy = similar_names(session, listed.where(Member.id.not_in(ids)), query, only=holds_position)
        candidates = _people(session, fuzzy, today)
        similar = _rank_similar(session, query_text, candidates)[:SIMILAR_LIMIT]
    return DirectoryPage(people=_people(session, ids, today), page=page, has_more=has_more, similar=similar)


def _rank_similar(session: Session, query_text: str, people: list[ListedPerson]) -> list[ListedPerson]:
    names = {
        row.id: (row.given_name, row.infix, row.family_name)
        for row in session.execute(
            select(Member.id, Member.given_name, Member.infix, Member.family_name).where(
                Member.id.in_([person.member_id for person in people])
            )
        )
    }
    return sorted(people, key=lambda person: -closeness(query_text, *names[person.member_id]))


def listed_person(session: Session, member_id: int, today: date) -> ListedPerson:
    """One person of the who's-who; NotFound unless they hold a current public position."""
    found = session.scalar(
        _listed_people_statement(_holds_listed_position(session, DirectoryFilters(), today))
        .where(Member.id == member_id)
        .limit(1)
    )
    if found is None:
        raise NotFound(N_("This person is not in the who's-who."))
    return _people(session, [member_id], today)[0]


def list_bodies(
    session: Session, *, filters: DirectoryFilters, page: int, page_size: int = 50
) -> tuple[list[OrgUnit], bool]:
    """Bodies by level and name, narrowed by level, kind, region or branch."""
    statement = select(OrgUnit).where(OrgUnit.removed_at.is_(None))
    if filters.level:
        statement = statement.where(OrgUnit.level == filters.level)
    if filters.kind:
        statement = statement.where(OrgUnit.kind == filters.kind)
    for root in (filters.region_id, filters.branch_id):
        if root is not None:
            statement = statement.where(OrgUnit.id.in_(sorted(subtree_ids(session, [root]))))
    level_order = case({"NATIONAL": 0, "REGIONAL": 1, "LOCAL": 2}, value=OrgUnit.__table__.c.level, else_=3)
    ordered = statement.order_by(level_order, OrgUnit.name, OrgUnit.id)
    units = list(session.scalars(ordered.limit(page_size + 1).offset((page - 1) * page_size)))
    return units[:page_size], len(units) > page_size


def body_view(session: Session, unit_id: int, today: date) -> BodyView:
    """A body's seats: holders in role order, expected seats nobody holds shown as vacant."""
    unit = session.get(OrgUnit, unit_id)
    if unit is None or unit.removed_at is not None:
        raise NotFound(N_("This body does not exist."))
    rows = session.execute(
        select(Position.member_id, Position.function)
        .join(Member, Member.id == Position.member_id)
        .where(
            Position.org_unit_id == unit_id,
            _current_public(today),
            Member.removed_at.is_(None),
            Member.status.in_(_MEMBER_STATUSES),
        )
        .order_by(Member.sort_name)
    ).all()
    people = {
        person.member_id: person for person in _people(session, sorted({r.member_id for r in rows}), today)
    }
    seats = [Seat(row.function, people[row.member_id]) for row in rows]
    seats += [
        Seat(function, None)
        for function in directory_rules.vacant_seats(unit.kind, (r.function for r in rows))
    ]
    seats.sort(key=lambda seat: directory_rules.role_rank(seat.function))
    parent = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return BodyView(unit=unit, parent=parent, seats=seats)
