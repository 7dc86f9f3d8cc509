"""Portal edits not yet in the CRM: their fields are not overwritten by a pull, and a CRM change to such
a field since the edit is a conflict (kept for an admin, never silently dropped)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_sync import mapping
from crm_sync.models import UNDELIVERED, OutboxMessage, OutboxStatus, SyncConflict


@dataclass(frozen=True)
class Protected:
    """One field of a member held by an undelivered edit: what the portal saw before it, and the message."""

    message_id: int
    base_value: Any


def protected_fields(session: Session, member_ids: Iterable[int]) -> dict[int, dict[str, Protected]]:
    """member id → field → the oldest undelivered edit of that field."""
    ids = list(member_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OutboxMessage.id, OutboxMessage.member_id, OutboxMessage.payload)
        .where(OutboxMessage.member_id.in_(ids), OutboxMessage.status.in_(UNDELIVERED))
        .order_by(OutboxMessage.id)
    ).all()
    held: dict[int, dict[str, Protected]] = {}
    for message_id, member_id, payload in rows:
        fields = held.setdefault(member_id, {})
        for name in payload.get("set", {}):
            fields.setdefault(name, Protected(message_id, payload.get("previous", {}).get(name)))
    return held


def keep_portal_values(
    session: Session,
    *,
    member_id: int,
    incoming: dict[str, Any],
    current: dict[str, Any],
    held: dict[str, Protected],
    now: datetime,
) -> int:
    """Put the portal's value back into `incoming` for held fields; record conflicts; returns how many."""
    conflicts = 0
    for name, protection in held.items():
        if name not in incoming:
            continue
        crm_value = mapping.plain(incoming[name])
        portal_value = mapping.plain(current[name])
        incoming[name] = current[name]
        if crm_value in (protection.base_value, portal_value):
            continue  # the CRM still holds what the portal saw, or already holds the edit
        conflicts += _record(session, member_id, name, protection, crm_value, portal_value, now)
    return conflicts


def _record(
    session: Session,
    member_id: int,
    name: str,
    protection: Protected,
    crm_value: Any,
    portal_value: Any,
    now: datetime,
) -> int:
    already = session.scalar(
        select(SyncConflict.id).where(
            SyncConflict.outbox_message_id == protection.message_id,
            SyncConflict.field == name,
            SyncConflict.resolved_at.is_(None),
        )
    )
    message = session.get(OutboxMessage, protection.message_id)
    if message is not None and message.status is OutboxStatus.PENDING:
        # Delivering it now would overwrite the CRM's newer value: an admin decides instead.
        message.status, message.claimed_until = OutboxStatus.CONFLICT, None
        message.last_error = f"{name} changed in the CRM since the edit"
    if already is not None:
        return 0
    session.add(
        SyncConflict(
            member_id=member_id,
            outbox_message_id=protection.message_id,
            field=name,
            detected_by="pull",
            portal_value=portal_value,
            crm_value=crm_value,
            base_value=protection.base_value,
            detected_at=now,
            resolution="",
        )
    )
    return 1
