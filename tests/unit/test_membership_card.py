"""The membership card token: signed, bound to the key and the number, payload with LP1 prefix."""

from datetime import date

import pytest

from portal.members.card import InvalidCard, card_payload, card_token, qr_svg, verify_card_token

KEY = "k" * 48


def test_a_token_names_its_member() -> None:
    token = card_token("1234567", secret_key=KEY, issued_on=date(2026, 11, 22))
    assert verify_card_token(token, secret_key=KEY) == "1234567"
    assert verify_card_token(card_payload(token), secret_key=KEY) == "1234567"
    assert card_payload(token).startswith("LP1:")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace("1234567", "1234568", 1),
        lambda t: t.replace("20261122", "20261123", 1),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "",
        lambda t: "LP1:",
        lambda t: "not a token at all",
        lambda t: "1234567.20261122",
        lambda t: t + "é",
    ],
)
def test_a_changed_or_foreign_token_is_refused(tamper) -> None:
    token = card_token("1234567", secret_key=KEY, issued_on=date(2026, 11, 22))
    with pytest.raises(InvalidCard):
        verify_card_token(tamper(token), secret_key=KEY)


def test_another_key_does_not_verify() -> None:
    token = card_token("1234567", secret_key=KEY, issued_on=date(2026, 11, 22))
    with pytest.raises(InvalidCard):
        verify_card_token(token, secret_key="another-key-" * 4)


def test_member_numbers_are_letters_and_digits_only() -> None:
    with pytest.raises(ValueError, match="letters and digits"):
        card_token("12.34", secret_key=KEY, issued_on=date(2026, 1, 1))


def test_qr_is_inline_svg_with_an_escaped_title() -> None:
    svg = qr_svg("LP1:abc", title="Kaart <script>")
    assert svg.startswith("<svg")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
