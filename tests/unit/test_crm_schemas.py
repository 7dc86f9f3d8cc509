"""The CiviCRM marshmallow schemas: the quick path for plainly valid values must accept and refuse
exactly what marshmallow's own fields do, and a bad row is reported by its id, never half-loaded."""

from datetime import date, datetime

import pytest

from crm_sync.adapters.civicrm.schemas import (
    IndividualSchema,
    MembershipSchema,
    OrganizationSchema,
    load_each,
)

GOOD = {
    "id": 675,
    "external_identifier": "9329465",
    "first_name": "Eva",
    "middle_name": None,
    "last_name": "Mertens",
    "birth_date": "1994-12-02",
    "do_not_phone": False,
    "do_not_email": False,
    "is_opt_out": False,
    "is_deleted": False,
    "is_deceased": False,
    "modified_date": "2025-02-02 05:43:24",
    "email_primary.email": "eva@example.nl",
    "phone_primary.phone": "+31623842165",
    "phone_primary.phone_type_id:name": "Mobile",
    "address_primary.street_name": "Vondelweg",
    "address_primary.street_number": 5,
    "address_primary.street_number_suffix": None,
    "address_primary.postal_code": "4969 WR",
    "address_primary.city": "Oss",
    "address_primary.country_id:abbr": "NL",
    "Party_Member.branch_id": 233,
    "Party_Member.directory_consent": True,
    "Party_Member.interests": ["Ondernemerschap"],
    "Party_Member.competences": [],
    "some_unknown_key": "ignored",
}


def test_a_good_row_loads_with_defaults_for_nulls() -> None:
    [loaded], bad = load_each(IndividualSchema(), [GOOD])
    assert bad == []
    assert loaded["middle_name"] == ""
    assert loaded["street_number_suffix"] == ""
    assert loaded["birth_date"] == date(1994, 12, 2)
    assert loaded["modified_date"] == datetime(2025, 2, 2, 5, 43, 24)
    assert loaded["interests"] == ["Ondernemerschap"]
    assert "some_unknown_key" not in loaded


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": "x"}, "id", "Not a valid integer."),
        ({"id": True}, "id", "Not a valid integer."),
        ({"external_identifier": None}, "external_identifier", "Missing data for required field."),
        (
            {"external_identifier": "no spaces"},
            "external_identifier",
            "String does not match expected pattern.",
        ),
        ({"last_name": ""}, "last_name", "Length must be between 1 and 160."),
        ({"first_name": "x" * 121}, "first_name", "Longer than maximum length 120."),
        ({"first_name": 7}, "first_name", "Not a valid string."),
        ({"birth_date": "2020-13-01"}, "birth_date", "Not a valid date."),
        ({"modified_date": "2025-02-02T05:43:24"}, "modified_date", "Not a valid datetime."),
        ({"email_primary.email": "nope"}, "email_primary.email", "Not a valid email address."),
        ({"is_deleted": "maybe"}, "is_deleted", "Not a valid boolean."),
        ({"Party_Member.interests": ["x" * 81]}, "Party_Member.interests", None),
    ],
)
def test_a_bad_row_is_reported_by_id_and_skipped(change: dict, field: str, message: str | None) -> None:
    other = GOOD | {"id": 676, "external_identifier": "1234567"}
    good, bad = load_each(IndividualSchema(), [GOOD | change, other])
    assert [row["id"] for row in good] == [676]
    [(crm_id, errors)] = bad
    assert crm_id == str((GOOD | change)["id"])
    assert field in errors
    if message is not None:
        assert errors[field] == [message]


def test_values_marshmallow_converts_still_load() -> None:
    [loaded], bad = load_each(IndividualSchema(), [GOOD | {"id": "675", "is_deleted": "true"}])
    assert bad == []
    assert (loaded["id"], loaded["is_deleted"]) == (675, True)


def test_membership_rows_need_their_contact_and_status() -> None:
    rows = [
        {
            "id": 1,
            "contact_id": 675,
            "status_id:name": "Current",
            "join_date": "2024-08-16",
            "end_date": None,
        },
        {"id": 2, "contact_id": None, "status_id:name": "Current"},
    ]
    good, bad = load_each(MembershipSchema(), rows)
    assert [row["id"] for row in good] == [1]
    assert good[0]["join_date"] == date(2024, 8, 16)
    assert bad == [("2", {"contact_id": ["Missing data for required field."]})]


def test_an_org_unit_without_sub_types_loads_with_none() -> None:
    """CiviCRM sends `contact_sub_type: null` for a contact without sub-types: it reads as no sub-types
    (the mapping then reports the unit as of unknown kind), not as a broken record."""
    rows = [
        {"id": 7, "organization_name": "Afdeling Zeist", "contact_sub_type": None},
        {"id": 8, "organization_name": "Afdeling Utrecht", "contact_sub_type": ["Party_Branch", "x" * 300]},
    ]
    good, bad = load_each(OrganizationSchema(), rows)
    assert bad == []
    assert [row["contact_sub_type"] for row in good] == [[], ["Party_Branch", "x" * 300]]
