"""My page input rules: phone numbers to E.164, e-mail, Dutch postcode, house number and addition."""

import pytest

from portal.members import contact_details as rules
from portal.members.contact_details import InvalidValue


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06-12345678", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("020 123 4567", "+31201234567"),
        ("", ""),
    ],
)
def test_phone_numbers_become_e164(typed: str, stored: str) -> None:
    assert rules.phone_e164(typed) == stored


@pytest.mark.parametrize("typed", ["06-1234", "hello", "=1+1", "<script>", "0" * 40, "06\x0012345678"])
def test_bad_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidValue):
        rules.phone_e164(typed)


def test_a_landline_is_not_a_mobile() -> None:
    with pytest.raises(InvalidValue, match="not a mobile"):
        rules.mobile_e164("020 1234567")


def test_email_is_normalised_and_checked() -> None:
    assert rules.email_address(" Jan@Example.NL ") == "jan@example.nl"
    for bad in ["jan@", "@example.nl", "jan example.nl", "a" * 300 + "@example.nl", "<b>@x.nl"]:
        with pytest.raises(InvalidValue):
            rules.email_address(bad)


def test_dutch_postcodes() -> None:
    assert rules.postcode("1234ab") == "1234 AB"
    assert rules.postcode(" 1234 AB ") == "1234 AB"
    for bad in ["0123 AB", "1234", "12345 AB", "1234 A1", "=1234 AB"]:
        with pytest.raises(InvalidValue):
            rules.postcode(bad)
    assert rules.postcode("10115", country="DE") == "10115"


def test_house_number_and_addition() -> None:
    assert rules.house_number("12") == 12
    assert rules.house_number_suffix(" 2-hoog ") == "2-hoog"
    for bad in ["0", "12a", "-1", "100000", ""]:
        with pytest.raises(InvalidValue):
            rules.house_number(bad)
    for bad in ["<b>", "=A", "a" * 11]:
        with pytest.raises(InvalidValue):
            rules.house_number_suffix(bad)


def test_tags_are_split_trimmed_and_bounded() -> None:
    assert rules.tags("Klimaat, onderwijs\nklimaat; Europa") == ["Klimaat", "onderwijs", "Europa"]
    with pytest.raises(InvalidValue):
        rules.tags(", ".join(f"t{n}" for n in range(21)))
    with pytest.raises(InvalidValue):
        rules.tags("x" * 61)
