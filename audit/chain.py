"""The hashes over audit entries (pure): any edit, deletion or reordering breaks the chain."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson


def plain(value: Any) -> Any:
    """A JSON-safe, canonical form of a diff value (what `content` hashes)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def content(
    *,
    occurred_at: datetime,
    actor: tuple[str, int | None, str],
    action: str,
    target: tuple[str, str],
    changes: dict[str, Any],
    request_id: str,
) -> dict[str, Any]:
    """An entry's content as it is hashed: everything but its place in the chain."""
    return {
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor": list(actor),
        "action": action,
        "target": list(target),
        "changes": changes,
        "request_id": request_id,
    }


def body_digest(entry_content: dict[str, Any]) -> str:
    """SHA-256 over a canonical JSON of an entry's `content`."""
    return hashlib.sha256(orjson.dumps(entry_content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def link_hash(prev_hash: str, seq: int, body: str) -> str:
    """An entry's hash: the previous entry's hash, its own number and its `body_digest`. PostgreSQL
    computes the same in SQL when it appends (`audit.services`), so an append is one statement."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{body}".encode("ascii")).hexdigest()


def entry_digest(prev_hash: str, seq: int, entry_content: dict[str, Any]) -> str:
    """The first format (entries before migration 0006): SHA-256 over the previous hash and a
    canonical JSON of the entry's `content` with its number."""
    canonical = orjson.dumps({"seq": seq, **entry_content}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical).hexdigest()
