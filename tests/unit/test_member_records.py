"""Member records for pages and exports: only allowed fields, in order; the data-export registry."""

from datetime import date

import pytest

from portal.members.models import Member, MembershipStatus
from portal.members.personal_data import PersonalDataSection, ProviderRegistry, registry
from portal.members.records import FIELD_ORDER, export_columns, export_row, member_values, visible_record


def _member() -> Member:
    return Member(
        id=7,
        crm_id="c7",
        member_number="123",
        given_name="Jan",
        infix="de",
        family_name="Vries",
        email="jan@example.nl",
        mobile="+31612345678",
        phone="",
        street="Dorpsstraat",
        house_number=1,
        house_number_suffix="",
        postcode="1234 AB",
        city="Zeist",
        country="NL",
        birth_date=date(1980, 1, 2),
        status=MembershipStatus.GRACE,
        member_since=date(2010, 1, 1),
        member_until=None,
        dues_paid_through=None,
        do_not_call=False,
        do_not_email=True,
        directory_consent=False,
        interests=["Klimaat"],
        competences=[],
        positions=[],
    )


def test_values_cover_every_policy_field() -> None:
    values = member_values(_member(), on=date(2026, 1, 1))
    assert set(values) == set(FIELD_ORDER)
    assert values["status"] == "grace"
    assert values["birth_date"] == "1980-01-02"


def test_visible_record_leaves_out_what_is_not_allowed() -> None:
    values = {"id": 7, **member_values(_member(), on=date(2026, 1, 1))}
    record = visible_record(values, frozenset({"given_name", "family_name", "email"}))
    assert record == {"id": 7, "given_name": "Jan", "family_name": "Vries", "email": "jan@example.nl"}


def test_export_columns_follow_the_policy_order() -> None:
    columns = export_columns(frozenset({"email", "member_number", "positions"}))
    assert columns == ["member_number", "email", "positions"]
    row = export_row(
        {"member_number": "1", "email": "x", "positions": [{"role": "chair", "body": "Zeist"}]}, columns
    )
    assert row == ["1", "x", ["chair Zeist"]]


def test_registry_is_shared_per_app_and_refuses_duplicates() -> None:
    extensions: dict[str, object] = {}
    first = registry(extensions)
    assert registry(extensions) is first
    first.register("attendance", lambda _session, _member_id: PersonalDataSection("attendance", "A", []))
    with pytest.raises(ValueError, match="already registered"):
        first.register("attendance", lambda _session, _member_id: None)
    assert [key for key, _ in first.all()] == ["attendance"]
    assert isinstance(first, ProviderRegistry)
