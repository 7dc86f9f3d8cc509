"""Per-request context that services may read without importing Flask (set by the app, or by a CLI)."""

from __future__ import annotations

import secrets
from contextvars import ContextVar

request_id: ContextVar[str] = ContextVar("request_id", default="")


def new_request_id() -> str:
    """A short random id that ties log lines and audit entries of one request together."""
    return secrets.token_hex(8)
