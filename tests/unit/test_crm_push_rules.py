"""Pure rules of the push: back-off with full jitter, the per-field comparison, Tryton's party names."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from crm_sync import mapping
from crm_sync.adapters.tryton.vocabulary import parse_party_name
from crm_sync.ports import MemberChange
from crm_sync.push import backoff
from portal.members import names

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_I6_back_off_is_full_jitter_under_an_exponential_ceiling_and_a_cap() -> None:
    rng = random.Random(4)
    for attempt in range(25):
        ceiling = min(backoff.CAP_SECONDS, 2.0**attempt)
        waits = [backoff.backoff_seconds(attempt, rng) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling * 0.8  # spread over the whole window, not clustered
    assert backoff.backoff_seconds(60, rng) <= 15 * 60


def test_I5_retry_after_sets_the_earliest_next_attempt() -> None:
    assert backoff.next_attempt_at(NOW, 1, retry_after=120, rng=random.Random(1)) >= NOW + timedelta(
        seconds=120
    )


def test_transient_failures_give_up_after_48_hours() -> None:
    assert not backoff.has_given_up(NOW - timedelta(hours=47), NOW)
    assert backoff.has_given_up(NOW - timedelta(hours=48), NOW)
    assert not backoff.has_given_up(None, NOW)


@pytest.mark.parametrize(
    ("crm", "due", "conflict"),
    [("old", True, False), ("new", False, False), ("other", False, True)],
)
def test_each_field_is_written_skipped_or_a_conflict(crm: str, due: bool, conflict: bool) -> None:
    change = MemberChange("k", "1", values={"city": "new"}, previous={"city": "old"})
    conflicts, writes = mapping.compare_for_push(change, {"city": crm})
    assert bool(writes) is due
    assert bool(conflicts) is conflict
    forced = MemberChange("k", "1", values={"city": "new"}, previous={"city": "old"}, force=True)
    assert mapping.compare_for_push(forced, {"city": crm})[1] == ({} if crm == "new" else {"city": "new"})


def test_edits_are_stored_as_the_pull_would_store_them() -> None:
    assert mapping.canonical_edit("mobile", "06-12345678") == "+31612345678"
    assert mapping.canonical_edit("postcode", "3511ab") == "3511 AB"
    assert mapping.canonical_edit("email", " Jan@Example.NL ") == "jan@example.nl"
    assert mapping.canonical_edit("interests", ["b", " a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("given", "infix", "family"),
    [
        ("Jan", "de", "Vries"),
        ("Anne-Marie", "van der", "Berg"),
        ("Piet", "", "Jansen"),
        ("Kees", "'t", "Hoff"),
    ],
)
def test_tryton_party_names_round_trip(given: str, infix: str, family: str) -> None:
    assert parse_party_name(names.formal_name(given, infix, family)) == (given, infix, family)
