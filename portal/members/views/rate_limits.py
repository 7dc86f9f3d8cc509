"""Per-account rate limits of the member pages (security plan D7): enough for a person, not a scraper."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Response, abort, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.auth.guards import signed_in
from portal.core.extension import settings

LIMITER_KEY = "members.rate_limiter"

#: Per-account limits (security plan D7): enough for a person, too few for a scraper.
LIMITS = {
    "directory-search": "30 per minute; 300 per hour",
    "directory-page": "120 per minute; 1500 per hour",
    "member-search": "60 per minute; 1000 per hour",
    "member-detail": "120 per minute; 1500 per hour",
    "export": "10 per hour",
    "own-data": "10 per hour",
}


class AccountLimiter:
    """Moving-window counters per account in the configured storage (memory, or Redis when shared)."""

    def __init__(self, storage_url: str) -> None:
        self.strategy = MovingWindowRateLimiter(storage_from_string(storage_url))
        self.rules: dict[str, list[RateLimitItem]] = {
            name: list(parse_many(text)) for name, text in LIMITS.items()
        }

    def hit(self, kind: str, key: str) -> int:
        """Count one request; 0 when allowed, else the seconds to wait (nothing is counted then)."""
        worst = 0
        for item in self.rules[kind]:
            if not self.strategy.test(item, "members", kind, key):
                reset = self.strategy.get_window_stats(item, "members", kind, key).reset_time
                worst = max(worst, math.ceil(reset - time.time()), 1)
        if worst:
            return worst
        for item in self.rules[kind]:
            self.strategy.hit(item, "members", kind, key)
        return 0


def install_limiter(extensions: dict[str, Any]) -> None:
    """Create the app's limiter on the configured storage."""
    extensions[LIMITER_KEY] = AccountLimiter(settings().ratelimit_storage_url)


def limit(kind: str) -> None:
    """Abort with 429 (and Retry-After) when the signed-in account exceeds the limit of `kind`."""
    who = signed_in()
    key = f"account:{who.account_id}" if who is not None else f"ip:{request.remote_addr}"
    limiter: AccountLimiter = current_app.extensions[LIMITER_KEY]
    wait = limiter.hit(kind, key)
    if wait:
        response = Response(status=429)
        response.headers["Retry-After"] = str(wait)
        abort(429, response=response)
