"""The hash over one audit entry (pure): any edit, deletion or reordering breaks the chain."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson


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
    """SHA-256 over the previous hash and a canonical JSON of the entry's fields."""
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
