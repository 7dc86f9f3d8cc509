"""How long a name must wait after failed passwords (pure; NIST 800-63B §5.2.2, security plan A1/A2)."""

from __future__ import annotations

from datetime import datetime, timedelta

FREE_FAILURES = 5  # the first five mistakes cost nothing
FIRST_DELAY = timedelta(seconds=30)  # then 30 s, doubling ...
MAX_DELAY = timedelta(hours=1)  # ... up to an hour
HARD_STOP = 100  # consecutive failures after which only a new password (mailed link) unlocks


def delay_for(failures: int) -> timedelta:
    """The wait that `failures` consecutive failures impose after the last one."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    doublings = min(failures - FREE_FAILURES, 20)
    return min(FIRST_DELAY * (2**doublings), MAX_DELAY)


def is_hard_stopped(failures: int) -> bool:
    """True once the account may only be unlocked by setting a new password through a mailed link."""
    return failures >= HARD_STOP


def seconds_to_wait(failures: int, last_failure_at: datetime | None, now: datetime) -> int:
    """Whole seconds until the next attempt is heard (0: now); a hard stop reports the maximum delay."""
    if last_failure_at is None or failures < FREE_FAILURES:
        return 0
    if is_hard_stopped(failures):
        return int(MAX_DELAY.total_seconds())
    remaining = last_failure_at + delay_for(failures) - now
    return max(0, int(remaining.total_seconds() + 0.999))
