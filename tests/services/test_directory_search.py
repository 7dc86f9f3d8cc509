"""The who's-who on a real database: prefix, diacritics, tussenvoegsel, typos, filters, vacancies, consent."""

from datetime import date

import pytest

from portal.core.errors import NotFound, ValidationFailed
from portal.members.models import MembershipStatus, OrgLevel, OrgUnitKind, PositionFunction
from portal.members.services.directory import DirectoryFilters, body_view, listed_person, search_people
from portal.members.services.search_index import rebuild_search_index, refresh_search_entries
from portal.members.testing import make_member, make_org_unit, make_position

TODAY = date(2026, 11, 22)
NONE = DirectoryFilters()


@pytest.fixture
def party(db_session):
    national = make_org_unit(db_session, kind=OrgUnitKind.NATIONAL, name="D66")
    utrecht = make_org_unit(db_session, kind=OrgUnitKind.REGION, name="Regio Utrecht", parent_id=national.id)
    zeist = make_org_unit(db_session, name="Afdeling Zeist", parent_id=utrecht.id)
    amersfoort = make_org_unit(db_session, name="Afdeling Amersfoort", parent_id=utrecht.id)
    faction = make_org_unit(db_session, kind=OrgUnitKind.FACTION, name="Fractie Zeist", parent_id=zeist.id)
    people = {
        "ozturk": make_member(
            db_session,
            given_name="Ömer",
            family_name="Öztürk",
            branch_id=zeist.id,
            directory_consent=True,
            email="omer@example.nl",
            city="Zeist",
        ),
        "vries": make_member(
            db_session, given_name="Anna", infix="de", family_name="Vries", branch_id=zeist.id
        ),
        "meijer": make_member(db_session, given_name="Kees", family_name="Meijer", branch_id=amersfoort.id),
        "plain": make_member(db_session, given_name="Piet", family_name="Pietersen", branch_id=zeist.id),
        "lapsed": make_member(
            db_session,
            given_name="Lies",
            family_name="Lapsing",
            branch_id=zeist.id,
            status=MembershipStatus.LAPSED,
        ),
        "hidden": make_member(db_session, given_name="Henk", family_name="Hidding", branch_id=zeist.id),
    }
    make_position(db_session, people["ozturk"], zeist, PositionFunction.CHAIR)
    make_position(db_session, people["vries"], faction, PositionFunction.FACTION_LEADER)
    make_position(db_session, people["meijer"], amersfoort, PositionFunction.TREASURER)
    make_position(db_session, people["lapsed"], zeist, PositionFunction.SECRETARY)
    make_position(db_session, people["hidden"], zeist, PositionFunction.BOARD_MEMBER, public=False)
    make_position(db_session, people["plain"], zeist, PositionFunction.STEWARD)
    make_position(db_session, people["plain"], zeist, PositionFunction.TREASURER, end_date=date(2025, 1, 1))
    return {
        "units": {"utrecht": utrecht, "zeist": zeist, "amersfoort": amersfoort, "faction": faction},
        **people,
    }


def _names(page) -> list[str]:
    return [person.display_name for person in page.people]


@pytest.mark.both_backends
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Ozturk", "Ömer Öztürk"),
        ("öztü", "Ömer Öztürk"),
        ("vries", "Anna de Vries"),
        ("de vr", "Anna de Vries"),
        ("Anna de Vries", "Anna de Vries"),
        ("devries", "Anna de Vries"),
        ("kees", "Kees Meijer"),
    ],
)
def test_prefix_and_diacritics(db_session, party, typed: str, expected: str) -> None:
    page = search_people(db_session, query_text=typed, filters=NONE, page=1, today=TODAY)
    assert _names(page) == [expected]


@pytest.mark.both_backends
@pytest.mark.parametrize("typed", ["Oztrk", "Meyer", "Meier", "Vreis", "Öztürck", "Kees Mijer"])
def test_misspelt_names_are_offered_as_similar(db_session, party, typed: str) -> None:
    page = search_people(db_session, query_text=typed, filters=NONE, page=1, today=TODAY)
    assert page.people == [] or typed in {"Meyer", "Meier"}
    found = {person.member_id for person in page.people + page.similar}
    assert found & {party["ozturk"].id, party["vries"].id, party["meijer"].id}


def test_only_current_public_positions_of_members_are_listed(db_session, party) -> None:
    for name in ("Pietersen", "Lapsing", "Hidding"):
        page = search_people(db_session, query_text=name, filters=NONE, page=1, today=TODAY)
        assert page.people == []
        assert page.similar == []
    with pytest.raises(NotFound):
        listed_person(db_session, party["plain"].id, TODAY)


def test_contact_fields_only_with_consent(db_session, party) -> None:
    consented = listed_person(db_session, party["ozturk"].id, TODAY)
    assert consented.as_dict()["email"] == "omer@example.nl"
    assert consented.city == "Zeist"
    private = listed_person(db_session, party["vries"].id, TODAY).as_dict()
    assert {"email", "mobile", "city"}.isdisjoint(private)


def test_filters(db_session, party) -> None:
    units = party["units"]
    by_region = search_people(
        db_session,
        query_text="",
        filters=DirectoryFilters(region_id=units["utrecht"].id),
        page=1,
        today=TODAY,
    )
    assert set(_names(by_region)) == {"Ömer Öztürk", "Anna de Vries", "Kees Meijer"}
    by_branch = DirectoryFilters(branch_id=units["zeist"].id, kind=OrgUnitKind.FACTION)
    assert _names(search_people(db_session, query_text="", filters=by_branch, page=1, today=TODAY)) == [
        "Anna de Vries"
    ]
    by_role = DirectoryFilters(role=PositionFunction.TREASURER, level=OrgLevel.LOCAL)
    assert _names(search_people(db_session, query_text="", filters=by_role, page=1, today=TODAY)) == [
        "Kees Meijer"
    ]


@pytest.mark.parametrize("typed", ["a", "ab", " ", "  x  "])
def test_short_queries_are_refused(db_session, party, typed: str) -> None:
    with pytest.raises(ValidationFailed):
        search_people(db_session, query_text=typed, filters=NONE, page=1, today=TODAY)


def test_hostile_queries_are_just_text(db_session, party) -> None:
    for typed in [
        "' OR 1=1 --",
        "%' UNION SELECT email FROM members --",
        "<script>alert(1)</script>",
        "=cmd|x",
    ]:
        page = search_people(db_session, query_text=typed, filters=NONE, page=1, today=TODAY)
        assert page.people == []


def test_board_shows_vacant_seats(db_session, party) -> None:
    board = body_view(db_session, party["units"]["zeist"].id, TODAY)
    seats = [(seat.function, seat.holder.display_name if seat.holder else None) for seat in board.seats]
    assert (PositionFunction.CHAIR, "Ömer Öztürk") in seats
    assert (PositionFunction.SECRETARY, None) in seats  # the lapsed secretary does not count
    assert (PositionFunction.TREASURER, None) in seats  # the treasurer's term ended
    assert all(seat.function is not PositionFunction.STEWARD for seat in board.seats)


def test_index_follows_name_changes(db_session, party) -> None:
    member = party["meijer"]
    member.family_name = "Bakker"
    db_session.flush()
    refresh_search_entries(db_session, [member.id])
    assert _names(search_people(db_session, query_text="bakker", filters=NONE, page=1, today=TODAY)) == [
        "Kees Bakker"
    ]
    assert search_people(db_session, query_text="meijer", filters=NONE, page=1, today=TODAY).people == []
    assert rebuild_search_index(db_session) > 0
    assert _names(search_people(db_session, query_text="bakk", filters=NONE, page=1, today=TODAY)) == [
        "Kees Bakker"
    ]
