"""Officer member search on a real database: scope, every filter, misspellings, export list."""

from datetime import date

import pytest
from sqlalchemy import Column
from sqlalchemy.sql import visitors

from portal.core.errors import NotFound, ValidationFailed
from portal.members.models import Member, MembershipStatus, OrgUnitKind, PositionFunction
from portal.members.name_search import parse_name_query
from portal.members.services.member_search import (
    MemberFilters,
    Scope,
    _statement,
    _with_name,
    member_in_scope,
    members_for_export,
    search_members,
)
from portal.members.services.org_tree import subtree_ids
from portal.members.testing import make_member, make_org_unit, make_position

TODAY = date(2026, 11, 22)


@pytest.fixture
def area(db_session):
    national = make_org_unit(db_session, kind=OrgUnitKind.NATIONAL, name="D66")
    region = make_org_unit(db_session, kind=OrgUnitKind.REGION, name="Regio Utrecht", parent_id=national.id)
    zeist = make_org_unit(db_session, name="Afdeling Zeist", parent_id=region.id)
    baarn = make_org_unit(db_session, name="Afdeling Baarn", parent_id=region.id)
    other_region = make_org_unit(
        db_session, kind=OrgUnitKind.REGION, name="Regio Limburg", parent_id=national.id
    )
    venlo = make_org_unit(db_session, name="Afdeling Venlo", parent_id=other_region.id)
    people = {
        "anna": make_member(
            db_session,
            given_name="Anna",
            infix="de",
            family_name="Vries",
            branch_id=zeist.id,
            postcode="3701 AB",
            birth_date=date(2000, 3, 1),
            interests=["Klimaat"],
            member_since=date(2020, 5, 1),
        ),
        "bert": make_member(
            db_session,
            given_name="Bert",
            family_name="Bakker",
            branch_id=zeist.id,
            status=MembershipStatus.GRACE,
            postcode="3702 CD",
            birth_date=date(1950, 1, 1),
        ),
        "cees": make_member(
            db_session,
            given_name="Cees",
            family_name="Claassen",
            branch_id=baarn.id,
            status=MembershipStatus.LAPSED,
            postcode="3741 AA",
        ),
        "dirk": make_member(db_session, given_name="Dirk", family_name="de Vries", branch_id=venlo.id),
    }
    make_position(db_session, people["bert"], zeist, PositionFunction.TREASURER)
    ids = {
        "national": national.id,
        "region": region.id,
        "zeist": zeist.id,
        "baarn": baarn.id,
        "venlo": venlo.id,
    }
    return {"units": ids, **people}


def _scope(db_session, *unit_ids: int) -> Scope:
    return Scope.of(db_session, subtree_ids(db_session, unit_ids))


def _find(db_session, scope: Scope, **filters) -> list[str]:
    page = search_members(db_session, scope=scope, filters=MemberFilters(**filters), page=1, today=TODAY)
    return [member.given_name for member in page.members]


@pytest.mark.both_backends
def test_scope_limits_every_search(db_session, area) -> None:
    branch = _scope(db_session, area["units"]["zeist"])
    region = _scope(db_session, area["units"]["region"])
    everything = _scope(db_session, area["units"]["national"])
    assert everything.everything
    assert _find(db_session, branch, name="vries") == ["Anna"]
    assert _find(db_session, region, name="vries") == ["Anna"]
    assert sorted(_find(db_session, everything, name="vries")) == ["Anna", "Dirk"]
    assert _find(db_session, branch, member_number=area["dirk"].member_number) == []
    assert sorted(_find(db_session, region)) == ["Anna", "Bert", "Cees"]


def test_detail_outside_scope_is_not_found(db_session, area) -> None:
    branch = _scope(db_session, area["units"]["zeist"])
    assert member_in_scope(db_session, area["anna"].id, branch).id == area["anna"].id
    for outside in (area["cees"].id, area["dirk"].id, 999_999):
        with pytest.raises(NotFound):
            member_in_scope(db_session, outside, branch)


@pytest.mark.both_backends
def test_every_filter(db_session, area) -> None:
    region = _scope(db_session, area["units"]["region"])
    grace_and_lapsed = frozenset({MembershipStatus.GRACE, MembershipStatus.LAPSED})
    assert sorted(_find(db_session, region, statuses=grace_and_lapsed)) == ["Bert", "Cees"]
    assert sorted(_find(db_session, region, postcode_from="3700", postcode_to="3709")) == ["Anna", "Bert"]
    assert _find(db_session, region, postcode_from="3740") == ["Cees"]
    assert _find(db_session, region, age_min=18, age_max=30) == ["Anna"]
    assert _find(db_session, region, age_min=70) == ["Bert"]
    assert _find(
        db_session, region, member_since_from=date(2020, 1, 1), member_since_to=date(2020, 12, 31)
    ) == ["Anna"]
    assert _find(db_session, region, functions=frozenset({PositionFunction.TREASURER})) == ["Bert"]
    assert _find(db_session, region, interests=("klimaat",)) == ["Anna"]
    assert _find(db_session, region, member_number=area["cees"].member_number) == ["Cees"]


def test_misspelt_name_is_offered_as_similar(db_session, area) -> None:
    region = _scope(db_session, area["units"]["region"])
    page = search_members(
        db_session, scope=region, filters=MemberFilters(name="Klaasen"), page=1, today=TODAY
    )
    assert [member.given_name for member in page.similar] == ["Cees"]


@pytest.mark.parametrize(
    "filters",
    [
        MemberFilters(name="a"),
        MemberFilters(postcode_from="12"),
        MemberFilters(postcode_to="abcd"),
        MemberFilters(postcode_from="0123"),
    ],
)
def test_bad_input_is_refused(db_session, area, filters: MemberFilters) -> None:
    with pytest.raises(ValidationFailed):
        search_members(
            db_session,
            scope=_scope(db_session, area["units"]["region"]),
            filters=filters,
            page=1,
            today=TODAY,
        )


def test_export_list_follows_the_same_filters(db_session, area) -> None:
    region = _scope(db_session, area["units"]["region"])
    members = members_for_export(
        db_session, scope=region, filters=MemberFilters(name="vries"), today=TODAY, limit=10
    )
    assert [member.given_name for member in members] == ["Anna"]


@pytest.mark.both_backends
def test_export_refuses_more_members_than_the_limit(db_session, area) -> None:
    region = _scope(db_session, area["units"]["region"])
    assert (
        len(members_for_export(db_session, scope=region, filters=MemberFilters(), today=TODAY, limit=3)) == 3
    )
    with pytest.raises(ValidationFailed) as refused:
        members_for_export(db_session, scope=region, filters=MemberFilters(), today=TODAY, limit=2)
    assert refused.value.fields == {"export": "too_many"}


@pytest.mark.both_backends
def test_joined_tussenvoegsel_and_plain_prefix_are_both_found_in_order(db_session, area) -> None:
    """ "devries" reads two index ranges ("=devries…" joined, "devries…" plain), merged in name order."""
    zeist = area["units"]["zeist"]
    make_member(db_session, given_name="Karel", family_name="Devriese", branch_id=zeist)
    make_member(db_session, given_name="Els", family_name="Devriendt", branch_id=zeist)
    everything = _scope(db_session, area["units"]["national"])
    # "de Vries, Dirk" sorts before "Vries, Anna de": the joined range, in name order, then the plain one
    assert _find(db_session, everything, name="devries") == ["Dirk", "Anna", "Karel"]
    first = search_members(
        db_session, scope=everything, filters=MemberFilters(name="devries"), page=1, today=TODAY
    )
    assert not first.has_more


@pytest.mark.both_backends
def test_misspelt_word_with_a_word_spelt_right(db_session, area) -> None:
    region = _scope(db_session, area["units"]["region"])

    def similar(typed: str) -> list[str]:
        page = search_members(
            db_session, scope=region, filters=MemberFilters(name=typed), page=1, today=TODAY
        )
        return [member.given_name for member in page.similar]

    assert similar("Cees Klaasen") == ["Cees"]
    assert similar("Anna Klaasen") == []  # the word spelt right must still match
    assert similar("Cees Xqzwvtk") == []  # nothing one edit away


def test_a_search_without_a_name_reads_only_columns_of_the_covering_index(db_session, area) -> None:
    """Every member column the officers' search reads without a name is in `ix_members_scope_filters`, so
    the databases answer it from the index alone (a region's 33,000 members lie on every page of the
    table: reading their rows cost 50–90 ms at 400,000 members; the plans are in the benchmark notes).
    A new filter on a column outside the index fails here instead of slowing every region search down."""
    scope = _scope(db_session, area["units"]["region"])
    filters = MemberFilters(
        member_number="1000001",
        postcode_from="3700",
        postcode_to="3799",
        statuses=frozenset({MembershipStatus.GRACE}),
        member_since_from=date(2000, 1, 1),
        member_since_to=date(2020, 1, 1),
        age_min=18,
        age_max=80,
    )
    base = _statement(db_session, scope, filters, TODAY)
    statement = _with_name(db_session, base, scope, parse_name_query(""), filters, window=26)
    read = {
        element.name
        for element in visitors.iterate(statement)
        if isinstance(element, Column) and element.table is Member.__table__
    }
    index = next(index for index in Member.__table__.indexes if index.name == "ix_members_scope_filters")
    covered = {column.name for column in index.columns}
    assert read - {"member_number"} <= covered, read - covered  # a member number is a unique lookup
    assert {"branch_id", "sort_name", "status", "postcode", "member_since", "birth_date"} <= read
