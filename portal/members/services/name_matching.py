"""SQL for "whose name matches": prefix words, joined tussenvoegsels and, on request, misspellings."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import (
    CompoundSelect,
    Select,
    and_,
    func,
    intersect,
    literal,
    or_,
    select,
    union,
    union_all,
)
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
    word: QueryWord,
    *,
    variants: Collection[str] = (),
    only: MemberCondition | None = None,
    branch_ids: Sequence[int] | None = None,
) -> Select[Any]:
    """Member ids with a name word starting with `word`, or equal to one of the exact `variants`."""
    conditions = [_prefix(word.prefix)]
    if word.joined_prefix:
        conditions.append(_prefix(word.joined_prefix))
    if variants:
        conditions.append(Term.in_(sorted(variants)))
    statement = select(MemberSearchTerm.member_id).where(or_(*conditions))
    if branch_ids is not None:
        statement = statement.where(MemberSearchTerm.branch_id.in_(branch_ids))
    return statement.where(only(MemberSearchTerm.member_id)) if only is not None else statement


def name_matches(query: NameQuery, *, fuzzy: bool = False) -> Select[Any] | CompoundSelect[Any]:
    """Member ids whose name has every query word (as a prefix, or also misspelt when `fuzzy`)."""
    selects = [_word_select(word, variants=word.fuzzy_terms() if fuzzy else ()) for word in query.words]
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
    window: int,
    only: MemberCondition | None = None,
    branch_ids: Sequence[int] | None = None,
    small_scope: bool = False,
) -> Select[Any]:
    """`statement` (a select of `Member.id` with its filters) narrowed to the name, ready to page
    through its first `window` rows (the caller's offset + limit).

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
    ranges = [first.prefix] + ([first.joined_prefix] if first.joined_prefix else [])
    arms = [_range_in_name_order(statement, prefix, others, only, branch_ids) for prefix in ranges]
    if len(arms) == 1:
        return arms[0]
    # One index range per arm, each read in order and cut at the window: as `a OR b` PostgreSQL walked
    # the whole index from the start ("layla" or "=layla": 1.2 million entries, 1.8 s).
    both = union_all(*(select(arm.limit(window).subquery()) for arm in arms)).subquery()
    return select(both.c.id).order_by(both.c.term, both.c.sort_name, both.c.id)


def _range_in_name_order(
    statement: Select[Any],
    prefix: str,
    others: Sequence[QueryWord],
    only: MemberCondition | None,
    branch_ids: Sequence[int] | None,
) -> Select[Any]:
    # "+ 0": the index is read first, members are looked up by key; never the other way round (a
    # planner that cannot size the prefix range might otherwise scan 400,000 members).
    # The bounds as one-row subqueries: PostgreSQL cannot look them up in its histogram, so it takes the
    # range as wide and reads it in order, stopping after a page. Sized from the histogram it guessed
    # 77 of the 30,000 "klei…" terms, read them all and sorted them (90 ms instead of 1 ms).
    low, high = prefix_bounds(prefix)
    driver = statement.join(MemberSearchTerm, MemberSearchTerm.member_id + 0 == Member.id).where(
        Term >= select(literal(low, Term.type)).scalar_subquery(),
        Term < select(literal(high, Term.type)).scalar_subquery(),
    )
    if branch_ids is not None:
        driver = driver.where(MemberSearchTerm.branch_id.in_(branch_ids))
    if only is not None:
        driver = driver.where(only(MemberSearchTerm.member_id))
    driver = driver.where(*[_word_exists(word, Member.id) for word in others])
    return driver.add_columns(Term.label("term"), MemberSearchTerm.sort_name.label("sort_name")).order_by(
        MemberSearchTerm.term, MemberSearchTerm.sort_name, MemberSearchTerm.member_id
    )


SIMILAR_CANDIDATES = 2000
_LOOKUP_BATCH = 2000  # bound parameters per lookup of misspellings


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
    unknown = [
        word
        for word in query.words
        if count_up_to(session, _word_select(word, only=None, branch_ids=branch_ids), 1) == 0
    ]
    drivers = unknown or list(query.words)
    variants = _existing_variants(session, drivers)
    if unknown and not all(variants[word] for word in unknown):
        return []  # a misspelt word with no name one edit away: nobody can match
    # The few people with a variant of the misspelt words drive; the words spelt right are checked per
    # person ("Jan Oostersvoorteb": a few lookups, not the 2,000 people called "Jan…"). With no word
    # unknown, every word drives and none is checked per person.
    known = [word for word in query.words if word not in drivers]
    selects = [
        _word_select(word, variants=variants[word], only=only, branch_ids=branch_ids).where(
            *[_word_exists(other, MemberSearchTerm.member_id) for other in known]
        )
        for word in drivers
    ]
    matches = selects[0] if len(selects) == 1 else intersect(*selects)
    # No DISTINCT or LIMIT in SQL: with them PostgreSQL walks a whole index in member order to dedupe.
    ids = list(dict.fromkeys(session.scalars(matches)))[:SIMILAR_CANDIDATES]
    if not ids:
        return []
    rows = session.execute(statement.where(Member.id.in_(ids)).add_columns(Member.sort_name)).all()
    # Sorted here: ordered in SQL, SQLite would walk all members in name order to find these few.
    return [row[0] for row in sorted(rows, key=lambda row: (row.sort_name, row[0]))][:limit]


def _existing_variants(session: Session, words: Sequence[QueryWord]) -> dict[QueryWord, set[str]]:
    """Per word, which of its misspellings (one edit away, or the same sound key) are in the index.

    A few hundred exact lookups, answered with the handful of terms that exist: the search that follows
    names those few, so no planner has to guess how many people a few hundred terms stand for
    (PostgreSQL guessed 70,000, chose to probe every position holder and compiled the query with JIT).
    """
    wanted = {word: word.fuzzy_terms() for word in words}
    every = sorted(set().union(*wanted.values()))
    found: set[str] = set()
    for start in range(0, len(every), _LOOKUP_BATCH):
        found.update(
            session.scalars(select(Term).where(Term.in_(every[start : start + _LOOKUP_BATCH])).distinct())
        )
    return {word: terms & found for word, terms in wanted.items()}


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
