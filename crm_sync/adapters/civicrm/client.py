"""CiviCRM APIv4 REST over HTTP: form-encoded `params`, authx headers, error classification."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import requests

from crm_sync.ports import CrmCredentialsRefused, CrmError, CrmUnavailable

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


def _retry_after(response: requests.Response) -> float | None:
    raw = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientSpec:
    """How to connect a client again (in a worker process)."""

    base_url: str
    api_key: str
    site_key: str
    timeout: float

    def connect(self) -> CiviCrmClient:
        """A new client with these settings."""
        return CiviCrmClient(
            self.base_url, api_key=self.api_key, site_key=self.site_key, timeout=self.timeout
        )


class CiviCrmClient:
    """One keep-alive HTTP session to a CiviCRM site; `call` returns the decoded body."""

    def __init__(self, base_url: str, *, api_key: str, site_key: str = "", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._api_key, self._site_key = api_key, site_key
        self._http = requests.Session()
        self._http.headers.update(
            {
                "X-Civi-Auth": f"Bearer {api_key}",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json",
            }
        )
        if site_key:
            self._http.headers["X-Civi-Key"] = site_key

    def spec(self) -> ClientSpec:
        """These settings, to connect again elsewhere."""
        return ClientSpec(self.base_url, self._api_key, self._site_key, self.timeout)

    def call(
        self, entity: str, action: str, params: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """POST one APIv4 call and return its body, or raise `CrmError` / `CrmUnavailable`."""
        response = self._post(entity, action, params, timeout)
        return _checked_body(entity, action, response.status_code, response.content)

    def _post(
        self, entity: str, action: str, params: dict[str, Any], timeout: float | None
    ) -> requests.Response:
        url = f"{self.base_url}/civicrm/ajax/api4/{entity}/{action}"
        try:
            response = self._http.post(
                url, data={"params": orjson.dumps(params).decode()}, timeout=timeout or self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            raise CrmUnavailable(f"CiviCRM not reachable: {type(error).__name__}") from None
        if response.status_code in RETRYABLE_STATUSES:
            raise CrmUnavailable(
                f"CiviCRM answered {response.status_code} to {entity}.{action}",
                retry_after=_retry_after(response),
            )
        if response.status_code == 401:
            # A refused credential is a configuration problem: wait, never hammer the login.
            raise CrmCredentialsRefused(f"CiviCRM refused the credentials (401) on {entity}.{action}")
        return response

    def close(self) -> None:
        """Close the keep-alive connections."""
        self._http.close()


def _checked_body(entity: str, action: str, status: int, content: bytes) -> dict[str, Any]:
    """The decoded body of a call, or `CrmError` when it is not JSON or reports an error."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise CrmError(
            f"CiviCRM answered {status} without JSON to {entity}.{action}", retryable=status >= 500
        ) from None
    if status != 200 or not isinstance(body, dict) or "error_code" in body:
        message = body.get("error_message", "") if isinstance(body, dict) else ""
        # CiviCRM hides the reason of a 500 (validation or a hiccup alike): it may be worth a retry.
        raise CrmError(
            f"CiviCRM refused {entity}.{action} ({status}): {message}"[:500], retryable=status >= 500
        )
    return body
