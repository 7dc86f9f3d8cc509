"""What the member views share: per-account rate limits, labels, JSON and file responses."""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Response, abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from portal.auth.guards import current_account
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

STATUS_LABELS = {
    "new": _l("new"), "current": _l("current"), "grace": _l("grace period"), "lapsed": _l("lapsed"),
    "cancelled": _l("cancelled"), "deceased": _l("deceased"),
}  # fmt: skip
LEVEL_LABELS = {"national": _l("national"), "regional": _l("regional"), "local": _l("local")}
KIND_LABELS = {
    "national": _l("national party"), "region": _l("region"), "branch": _l("branch"),
    "faction": _l("faction"),
    "knowledge_group": _l("knowledge group"), "committee": _l("committee"),
    "youth_organisation": _l("youth organisation"),
}  # fmt: skip
FIELD_LABELS = {
    "member_number": _l("Member number"), "given_name": _l("Given name"), "infix": _l("Infix"),
    "family_name": _l("Family name"), "email": _l("E-mail address"), "mobile": _l("Mobile phone"),
    "phone": _l("Other phone"), "street": _l("Street"), "house_number": _l("House number"),
    "house_number_suffix": _l("Addition"), "postcode": _l("Postcode"), "city": _l("Place"),
    "country": _l("Country"), "birth_date": _l("Date of birth"), "branch_id": _l("Branch"),
    "status": _l("Membership status"), "member_since": _l("Member since"), "member_until": _l("Member until"),
    "dues_paid_through": _l("Dues paid through"), "positions": _l("Positions"), "interests": _l("Interests"),
    "competences": _l("Competences"), "directory_consent": _l("In the who's-who"),
    "do_not_call": _l("Do not call"), "do_not_email": _l("Do not e-mail"),
}  # fmt: skip


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
    account = current_account()
    key = f"account:{account.id}" if account is not None else f"ip:{request.remote_addr}"
    limiter: AccountLimiter = current_app.extensions[LIMITER_KEY]
    wait = limiter.hit(kind, key)
    if wait:
        response = Response(status=429)
        response.headers["Retry-After"] = str(wait)
        abort(429, response=response)


def wants_json() -> bool:
    """True for `?format=json`, a JSON body, or an Accept header preferring JSON."""
    if request.args.get("format") == "json" or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer that no cache keeps."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def download(data: bytes, *, filename: str, mimetype: str) -> Response:
    """A file download (attachment, never rendered by the browser)."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
