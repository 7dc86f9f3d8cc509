"""When to try a failed delivery again (pure): exponential back-off with full jitter, Retry-After first."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

BASE_SECONDS = 1.0
CAP_SECONDS = 15 * 60.0
GIVE_UP_AFTER = timedelta(hours=48)  # transient failures for this long: dead letter, an admin replays
MAX_UNCERTAIN_ATTEMPTS = 5  # answers without a reason (CiviCRM's generic 500) before a dead letter
CLAIM_SECONDS = 120.0  # a claimed message not settled by then is free again (its worker died)


def backoff_seconds(attempt: int, rng: random.Random | None = None) -> float:
    """Full jitter: a uniform wait in [0, min(cap, base * 2**attempt)] (AWS Architecture Blog)."""
    ceiling = min(CAP_SECONDS, BASE_SECONDS * 2 ** max(0, min(attempt, 30)))
    return (rng or random).uniform(0, ceiling)


def next_attempt_at(
    now: datetime, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
) -> datetime:
    """The earliest next try: never before the CRM's Retry-After, otherwise the jittered back-off."""
    wait = backoff_seconds(attempt, rng)
    if retry_after is not None:
        wait = max(wait, retry_after)
    return now + timedelta(seconds=wait)


def has_given_up(first_failed_at: datetime | None, now: datetime) -> bool:
    """Whether a message has failed for long enough to become a dead letter."""
    return first_failed_at is not None and now - first_failed_at >= GIVE_UP_AFTER
