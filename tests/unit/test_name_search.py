"""Search terms for Dutch names: folding, tussenvoegsels, sound keys, misspellings."""

import pytest

from portal.members.name_search import (
    JOIN_MARK,
    KEY_MARK,
    member_terms,
    one_edit_away,
    parse_name_query,
    prefix_bounds,
    skeleton,
)


def test_terms_fold_diacritics_and_leave_out_the_tussenvoegsel() -> None:
    terms = member_terms("Ömer", "", "Öztürk")
    assert {"omer", "ozturk"} <= terms
    vries = member_terms("Jan", "de", "Vries")
    assert "vries" in vries
    assert "de" not in vries
    assert JOIN_MARK + "devries" in vries


def test_interests_are_indexed_under_their_own_mark() -> None:
    assert "#klimaat en energie" in member_terms("Jan", "", "Jansen", ["Klimaat en energie"])


@pytest.mark.parametrize(
    ("spellings"),
    [
        ("meijer", "meyer", "meier"),
        ("kuijpers", "kuypers", "kuipers"),
        ("hendriks", "hendrikx", "hendricks"),
        ("jansen", "janssen"),
    ],
)
def test_spellings_that_sound_alike_share_a_key(spellings: tuple[str, ...]) -> None:
    assert len({skeleton(word) for word in spellings}) == 1


def test_prefix_bounds_select_exactly_the_words_with_that_start() -> None:
    low, high = prefix_bounds("vri")
    assert low <= "vries" < high
    assert not low <= "vrj" < high
    assert not low <= KEY_MARK + "fries" < high


def test_query_drops_tussenvoegsels_when_other_words_remain() -> None:
    assert [word.prefix for word in parse_name_query("de Vries").words] == ["vries"]
    assert [word.prefix for word in parse_name_query("van").words] == ["van"]
    assert parse_name_query("vandenb").words[0].joined_prefix == JOIN_MARK + "vandenb"


def test_query_is_bounded_in_words_and_length() -> None:
    query = parse_name_query("a " * 20 + " ".join(f"woord{n}" for n in range(10)))
    assert len(query.words) == 4
    assert all(len(word.prefix) <= 64 for word in query.words)


def test_one_edit_away_covers_the_usual_typos() -> None:
    variants = one_edit_away("jansen")
    assert {"jasnen", "jansne", "jansn", "janssen", "jancen"} <= variants
    assert "jansen" not in variants


def test_short_words_have_no_fuzzy_terms() -> None:
    assert parse_name_query("Jan").words[0].fuzzy_terms() == set()
    assert KEY_MARK + "myer" in parse_name_query("Meyer").words[0].fuzzy_terms()
