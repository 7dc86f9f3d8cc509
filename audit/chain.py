"""The hashes over audit entries (pure): any edit, deletion or reordering breaks the chain."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson


def body_digest(
    *,
    occurred_at: datetime,
    actor: tuple[str, int | None, str],
    action: str,
    target: tuple[str, str],
    changes: dict[str, Any],
    request_id: str,
) -> str:
    """SHA-256 over a canonical JSON of an entry's content (all but its place in the chain)."""
    payload = {
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": list(actor),
        "action": action,
        "target": list(target),
        "changes": changes,
        "request_id": request_id,
    }
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def link_hash(prev_hash: str, seq: int, body: str) -> str:
    """An entry's hash: the previous entry's hash, its own number and its `body_digest`. PostgreSQL
    computes the same in SQL when it appends (`audit.services`), so an append is one statement."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{body}".encode("ascii")).hexdigest()


def entry_digest(
    *,
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor: tuple[str, int | None, str],
    action: str,
    target: tuple[str, str],
    changes: dict[str, Any],
    request_id: str,
) -> str:
    """The first format (entries before migration 0006): SHA-256 over the previous hash and a
    canonical JSON of the entry's fields including its number."""
    payload = {
        "seq": seq,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": list(actor),
        "action": action,
        "target": list(target),
        "changes": changes,
        "request_id": request_id,
    }
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()
