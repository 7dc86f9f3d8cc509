"""Tryton JSON-RPC over HTTP: `/<db>/rpc/`, session login, errors inside HTTP 200 bodies.

Tryton locks a login after 5 failures in its session window (HTTP 429, and the lock survives a
restart), so a refused login is never repeated until a cool-down has passed, doubling each time.
"""

from __future__ import annotations

import base64
import itertools
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
import requests

from crm_sync.ports import CrmCredentialsRefused, CrmError, CrmUnavailable

LOGIN_COOL_DOWN_SECONDS = 300.0
_UNAVAILABLE = frozenset({502, 503, 504})


class TrytonConcurrency(CrmError):
    """Tryton's `ConcurrencyException`: the record changed since its `_timestamp` was read."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class TrytonUserError(CrmError):
    """Tryton refused the values (`UserError`, `UserWarning`, access errors): a permanent refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


def encode(value: Any) -> Any:
    """Python values to Tryton's JSON (dates and datetimes as `__class__` objects)."""
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {key: encode(item) for key, item in value.items()}
    return value


def decode(value: Any) -> Any:
    """Tryton's JSON to Python values (datetimes stay naive: Tryton stores UTC without a zone)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        kind = value.get("__class__")
        if kind == "datetime":
            parts = ("year", "month", "day", "hour", "minute", "second", "microsecond")
            return datetime(*(value[part] for part in parts))  # noqa: DTZ001 - Tryton's naive UTC
        if kind == "date":
            return date(value["year"], value["month"], value["day"])
        if kind == "Decimal":
            return Decimal(value["decimal"])
        return {key: decode(item) for key, item in value.items()}
    return value


def _retry_after(response: requests.Response, default: float) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return default


class TrytonClient:
    """One keep-alive HTTP session to one Tryton database, logged in on first use."""

    def __init__(
        self, base_url: str, *, database: str, username: str, password: str, timeout: float = 10.0
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/{database}/rpc/"
        self.username, self._password, self.timeout = username, password, timeout
        self._http = requests.Session()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._login_blocked_until = 0.0
        self._cool_down = LOGIN_COOL_DOWN_SECONDS

    def _post(self, method: str, params: list[Any], timeout: float | None) -> requests.Response:
        body = orjson.dumps({"id": next(self._ids), "method": method, "params": encode(params)})
        try:
            return self._http.post(
                self.url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=timeout or self.timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise CrmUnavailable(f"Tryton not reachable: {type(error).__name__}") from None

    def login(self, *, timeout: float | None = None) -> None:
        """Open a session; a refusal blocks further attempts for a cool-down that doubles each time."""
        with self._lock:
            wait = self._login_blocked_until - time.monotonic()
            if wait > 0:
                raise CrmCredentialsRefused("Tryton login is cooling down after a refusal", retry_after=wait)
            response = self._post(
                "common.db.login", [self.username, {"password": self._password}, "en"], timeout
            )
            if response.status_code in (401, 403, 429):
                retry = _retry_after(response, self._cool_down)
                self._login_blocked_until = time.monotonic() + max(retry, self._cool_down)
                self._cool_down = min(self._cool_down * 2, 4 * 3600.0)
                raise CrmCredentialsRefused(
                    f"Tryton refused the login ({response.status_code})", retry_after=retry
                )
            result = self._result(response, "common.db.login")
            user_id, session = result[0], result[1]
            token = base64.b64encode(f"{self.username}:{user_id}:{session}".encode()).decode()
            self._http.headers["Authorization"] = f"Session {token}"
            self._cool_down = LOGIN_COOL_DOWN_SECONDS

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """Call `method` with positional params (the context last, as Tryton requires)."""
        if "Authorization" not in self._http.headers:
            self.login(timeout=timeout)
        response = self._post(method, list(params), timeout)
        if response.status_code == 401:  # the session expired or was revoked: one new login, then once more
            self._http.headers.pop("Authorization", None)
            self.login(timeout=timeout)
            response = self._post(method, list(params), timeout)
            if response.status_code == 401:
                raise CrmCredentialsRefused(f"Tryton refused the session for {method}")
        return self._result(response, method)

    @staticmethod
    def _result(response: requests.Response, method: str) -> Any:
        if response.status_code == 429:
            raise CrmUnavailable(
                f"Tryton asks to slow down on {method}", retry_after=_retry_after(response, 60.0)
            )
        if response.status_code in _UNAVAILABLE:
            raise CrmUnavailable(f"Tryton answered {response.status_code} to {method}")
        if response.status_code != 200:
            raise CrmError(
                f"Tryton answered {response.status_code} to {method}", retryable=response.status_code >= 500
            )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise CrmError(f"Tryton answered without JSON to {method}", retryable=True) from None
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            kind = str(error[0]) if isinstance(error, list) and error else "error"
            detail = error[1] if isinstance(error, list) and len(error) > 1 else ""
            message = detail[0] if isinstance(detail, list) and detail else str(detail)
            text = f"Tryton {kind} on {method}: {message}"[:500]
            if kind == "ConcurrencyException":
                raise TrytonConcurrency(text)
            if kind in {
                "UserError",
                "UserWarning",
                "AccessError",
                "ValidationError",
                "RequiredValidationError",
            }:
                raise TrytonUserError(text)
            raise CrmError(text, retryable=False)
        return decode(body.get("result"))

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._http.close()
