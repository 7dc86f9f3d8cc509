"""SQL for "whose name matches": prefix words, joined tussenvoegsels and, on request, misspellings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import CompoundSelect, Select, and_, func, intersect, or_, select, union
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from portal.members import names
from portal.members.models import Member
from portal.members.name_search import NameQuery, QueryWord, interest_term, prefix_bounds
from portal.members.search_models import MemberSearchTerm

Term = MemberSearchTerm.term


def _prefix(prefix: str) -> ColumnElement[bool]:
    low, high = prefix_bounds(prefix)
    return and_(Term >= low, Term < high)


MemberCondition = Callable[[InstrumentedAttribute[int]], ColumnElement[bool]]


def _word_select(
    word: QueryWord, *, fuzzy: bool, only: MemberCondition | None, branch_ids: Sequence[int] | None
) -> Select[Any]:
    conditions = [_prefix(word.prefix)]
    if word.joined_prefix:
        conditions.append(_prefix(word.joined_prefix))
    if fuzzy and (variants := word.fuzzy_terms()):
        conditions.append(Term.in_(sorted(variants)))
    statement = select(MemberSearchTerm.member_id).where(or_(*conditions))
    if branch_ids is not None:
        statement = statement.where(MemberSearchTerm.branch_id.in_(branch_ids))
    return statement.where(only(MemberSearchTerm.member_id)) if only is not None else statement


def name_matches(
    query: NameQuery,
    *,
    fuzzy: bool | frozenset[QueryWord] = False,
    only: MemberCondition | None = None,
    branch_ids: Sequence[int] | None = None,
) -> Select[Any] | CompoundSelect[Any]:
    """Member ids whose name has every query word (as a prefix, or misspelt when `fuzzy`: all words, or
    only the words in the given set).

    `branch_ids` (an officer's scope) and `only` (e.g. "holds a public position") narrow each word's
    matches inside the index, before a single member row is read: a branch of 300 members is never
    intersected with the 30,000 people whose name starts with "ver" by reading their rows.
    """
    selects = [
        _word_select(
            word,
            fuzzy=fuzzy if isinstance(fuzzy, bool) else word in fuzzy,
            only=only,
            branch_ids=branch_ids,
        )
        for word in query.words
    ]
    if len(selects) == 1:
        return selects[0]
    return intersect(*selects)


def _word_exists(word: QueryWord, member_id: Any) -> ColumnElement[bool]:
    other = aliased(MemberSearchTerm)  # the outer query may read the index itself
    bounds = [prefix_bounds(prefix) for prefix in (word.prefix, word.joined_prefix) if prefix]
    conditions = [and_(other.term >= low, other.term < high) for low, high in bounds]
    # OFFSET 0 keeps this a per-member probe of (member_id, term): without it PostgreSQL turns it into a
    # hash of the whole prefix range (33,000 "ver…" rows to check a branch of 300 members).
    probe = select(other.member_id).where(other.member_id == member_id, or_(*conditions)).limit(1).offset(0)
    return probe.exists()


#: Name order computed after filtering: `sort_name || ''` is not the indexed column, so no planner walks
#: all 400,000 members in name order looking for the 300 of one branch (it sorts those 300 instead).
SORTED_AFTER_FILTERING = (Member.sort_name + "", Member.id)


def ordered_by_name_match(
    statement: Select[Any],
    query: NameQuery,
    *,
    only: MemberCondition | None = None,
    branch_ids: Sequence[int] | None = None,
    small_scope: bool = False,
) -> Select[Any]:
    """`statement` (a select of `Member.id` with its filters) narrowed to the name, ready to page.

    A small scope (a branch) is read member by member, in name order, checking the name per member.
    Otherwise the longest query word's prefix range is read from the index in (term, name) order and
    stops after one page: a common prefix ("ver", 40,000 people) costs a page, not 40,000 rows.
    The planners' statistics cannot see how narrow a prefix range is, so the order decides the plan.
    """
    first, *others = query.words
    if small_scope:
        checks = [_word_exists(word, Member.id) for word in query.words]
        if only is not None:
            checks.append(only(Member.id))
        return statement.where(*checks).order_by(*SORTED_AFTER_FILTERING)
    # "+ 0": the index is read first, members are looked up by key; never the other way round (a
    # planner that cannot size the prefix range might otherwise scan 400,000 members).
    driver = statement.join(MemberSearchTerm, MemberSearchTerm.member_id + 0 == Member.id)
    ranges = [_prefix(first.prefix)] + ([_prefix(first.joined_prefix)] if first.joined_prefix else [])
    driver = driver.where(or_(*ranges))
    if branch_ids is not None:
        driver = driver.where(MemberSearchTerm.branch_id.in_(branch_ids))
    if only is not None:
        driver = driver.where(only(MemberSearchTerm.member_id))
    driver = driver.where(*[_word_exists(word, Member.id) for word in others])
    return driver.order_by(MemberSearchTerm.term, MemberSearchTerm.sort_name, MemberSearchTerm.member_id)


SIMILAR_CANDIDATES = 2000


def similar_names(
    session: Session,
    statement: Select[Any],
    query: NameQuery,
    *,
    only: MemberCondition | None = None,
    branch_ids: Sequence[int] | None = None,
    limit: int = 100,
) -> list[int]:
    """Ids from `statement` whose names are one edit (or one Dutch spelling) away, in name order.

    The candidates (few by construction) are read first and passed as a list: the planners cannot
    estimate a few hundred exact term lookups and would otherwise scan the whole scope.
    """
    # Only the words nobody's name starts with are taken as misspelt ("Hendrik Ddemir": Ddemir), so a
    # two-word query costs one set of a few hundred lookups, not two.
    unknown = frozenset(
        word
        for word in query.words
        if count_up_to(session, _word_select(word, fuzzy=False, only=None, branch_ids=branch_ids), 1) == 0
    )
    matches = name_matches(query, fuzzy=unknown or True, only=only, branch_ids=branch_ids)
    # No DISTINCT or LIMIT in SQL: with them PostgreSQL walks a whole index in member order to dedupe.
    ids = list(dict.fromkeys(session.scalars(matches)))[:SIMILAR_CANDIDATES]
    if not ids:
        return []
    rows = session.execute(statement.where(Member.id.in_(ids)).add_columns(Member.sort_name)).all()
    # Sorted here: ordered in SQL, SQLite would walk all members in name order to find these few.
    return [row[0] for row in sorted(rows, key=lambda row: (row.sort_name, row[0]))][:limit]


def count_up_to(session: Session, statement: Select[Any], cap: int) -> int:
    """How many rows a query has, counting no further than `cap` (an index range, cheap)."""
    return int(session.scalar(select(func.count()).select_from(statement.limit(cap).subquery())) or 0)


def interest_condition(
    interests: Sequence[str],
    member_id: InstrumentedAttribute[int],
    *,
    branch_ids: Sequence[int] | None = None,
) -> ColumnElement[bool]:
    """Has any of these interests: inside a scope, the interest index (term, branch) gives the list at
    once; for the whole party (a common interest, many members) each candidate is checked instead."""
    terms = sorted({term for term in (interest_term(interest) for interest in interests) if term})
    if branch_ids is not None:
        interests_only = Term < "0"  # the partial index's condition, spelled out so SQLite uses it
        listed = select(MemberSearchTerm.member_id).where(
            Term.in_(terms), interests_only, MemberSearchTerm.branch_id.in_(branch_ids)
        )
        return member_id.in_(listed)
    return (
        select(MemberSearchTerm.member_id)
        .where(MemberSearchTerm.member_id == member_id, Term.in_(terms))
        .exists()
    )


def interest_matches(interests: Sequence[str]) -> Select[Any] | CompoundSelect[Any]:
    """Member ids with any of these interests."""
    terms = sorted({term for term in (interest_term(interest) for interest in interests) if term})
    selects = [select(MemberSearchTerm.member_id).where(Term == term) for term in terms]
    if len(selects) == 1:
        return selects[0]
    return union(*selects)


def closeness(query_text: str, given_name: str, infix: str, family_name: str) -> float:
    """How close a name is to what was typed (0–100), for ranking misspelt matches."""
    typed = names.fold(query_text)
    candidates = (
        names.search_text(given_name, infix, family_name),
        names.fold(f"{given_name} {infix} {family_name}"),
        names.fold(family_name),
        names.fold(f"{given_name} {family_name}"),
    )
    return max(fuzz.ratio(typed, candidate) for candidate in candidates)
