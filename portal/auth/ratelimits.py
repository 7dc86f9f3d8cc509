"""Per-IP limits (Flask-Limiter storage: memory in one process, Redis when several share it).

Only failures are counted (wrong passwords and codes), plus every request for a mailed link. The IP is
`request.remote_addr`, which ProxyFix sets from the trusted proxy's hop only (`trusted_proxy_count`).
"""

from __future__ import annotations

import math
import time

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

FAILED_SIGN_INS = "10 per 15 minutes; 100 per day"  # Indico's reference, security plan §8 / A3
LINK_REQUESTS = "5 per 15 minutes; 20 per day"


class IpLimits:
    """Counts failures per client IP in the limiter's storage and says how long to wait."""

    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter
        self.rules: dict[str, list[RateLimitItem]] = {
            "sign-in": list(parse_many(FAILED_SIGN_INS)),
            "link": list(parse_many(LINK_REQUESTS)),
        }

    def seconds_to_wait(self, kind: str, ip: str) -> int:
        """0 while the IP is within every limit of `kind`, else the seconds until it is again."""
        strategy = self.limiter.limiter
        worst = 0
        for item in self.rules[kind]:
            if not strategy.test(item, kind, ip):
                reset_at = strategy.get_window_stats(item, kind, ip).reset_time
                worst = max(worst, math.ceil(reset_at - time.time()), 1)
        return worst

    def count(self, kind: str, ip: str) -> None:
        """Count one failure (or one link request) against the IP."""
        for item in self.rules[kind]:
            self.limiter.limiter.hit(item, kind, ip)


def install(app: Flask, storage_url: str) -> IpLimits:
    """A limiter of this app on the configured storage; kept in `app.extensions`."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_url,
        strategy="moving-window",
        key_prefix="portal-auth",
    )
    limits = IpLimits(limiter)
    app.extensions["auth_ip_limits"] = limits
    return limits
