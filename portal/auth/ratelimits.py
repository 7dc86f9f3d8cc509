"""Per-IP limits (counters in `limits` storage: memory in one process, Redis when several share it).

Only failures are counted (wrong passwords and codes), plus every request for a mailed link. The IP is
`request.remote_addr`, which ProxyFix sets from the trusted proxy's hop only (`trusted_proxy_count`).
"""

from __future__ import annotations

import math
import time

from flask import Flask
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

FAILED_SIGN_INS = "10 per 15 minutes; 100 per day"  # Indico's reference, security plan §8 / A3
LINK_REQUESTS = "5 per 15 minutes; 20 per day"


class IpLimits:
    """Counts failures per client IP in the limiter's storage and says how long to wait."""

    def __init__(self, strategy: MovingWindowRateLimiter) -> None:
        self.strategy = strategy
        self.rules: dict[str, list[RateLimitItem]] = {
            "sign-in": list(parse_many(FAILED_SIGN_INS)),
            "link": list(parse_many(LINK_REQUESTS)),
        }

    def seconds_to_wait(self, kind: str, ip: str) -> int:
        """0 while the IP is within every limit of `kind`, else the seconds until it is again."""
        strategy = self.strategy
        worst = 0
        for item in self.rules[kind]:
            if not strategy.test(item, kind, ip):
                reset_at = strategy.get_window_stats(item, kind, ip).reset_time
                worst = max(worst, math.ceil(reset_at - time.time()), 1)
        return worst

    def count(self, kind: str, ip: str) -> None:
        """Count one failure (or one link request) against the IP."""
        for item in self.rules[kind]:
            self.strategy.hit(item, kind, ip)


def install(app: Flask, storage_url: str) -> IpLimits:
    """Counters of this app on the configured storage; kept in `app.extensions`. The views count and
    test them themselves, so no per-request hook runs (Flask-Limiter's cost every request)."""
    limits = IpLimits(MovingWindowRateLimiter(storage_from_string(storage_url)))
    app.extensions["auth_ip_limits"] = limits
    return limits
