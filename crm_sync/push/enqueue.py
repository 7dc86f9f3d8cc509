"""Writing an edit into the outbox, inside the transaction that changed the member."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from crm_sync import mapping
from crm_sync.models import OutboxMessage, OutboxStatus
from portal.core.clock import utcnow


def enqueue_member_change(
    session: Session,
    *,
    member_id: int,
    values: Mapping[str, Any],
    previous: Mapping[str, Any],
    actor_label: str,
) -> OutboxMessage:
    """Queue absolute new values (and the values they replace) for delivery to the CRM; flushes."""
    now = utcnow()
    message = OutboxMessage(
        key=str(uuid.uuid4()),
        member_id=member_id,
        operation="member.update",
        payload={
            "set": {name: mapping.plain(value) for name, value in values.items()},
            "previous": {name: mapping.plain(previous.get(name)) for name in values},
        },
        status=OutboxStatus.PENDING,
        actor_label=actor_label[:200],
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        claimed_by="",
        last_error="",
    )
    session.add(message)
    session.flush()
    return message
