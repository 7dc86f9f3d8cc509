"""Read models of the outbox: a member's delivery state (my page) and the queue's health (admins)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict
from portal.core.clock import utcnow


class DeliveryState(enum.Enum):
    """What a member may be told about their edits."""

    NOTHING_SENT = "nothing_sent"  # no edit ever made in the portal
    DELIVERED = "delivered"  # "sent to the membership administration"
    WAITING = "waiting"  # "waiting — will be retried"
    NEEDS_ATTENTION = "needs_attention"  # held for the membership administration (conflict or refused)


@dataclass(frozen=True)
class MemberDelivery:
    """A member's edits on their way to the CRM."""

    state: DeliveryState
    undelivered: int
    next_attempt_at: datetime | None
    last_delivered_at: datetime | None


def delivery_state(session: Session, member_id: int) -> MemberDelivery:
    """Where the member's portal edits stand, for the "sent" / "waiting" line on my page."""
    counts = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.member_id == member_id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    next_attempt = session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.member_id == member_id, OutboxMessage.status == OutboxStatus.PENDING
        )
    )
    last_delivered = session.scalar(
        select(func.max(OutboxMessage.delivered_at)).where(OutboxMessage.member_id == member_id)
    )
    held = counts.get(OutboxStatus.CONFLICT, 0) + counts.get(OutboxStatus.DEAD, 0)
    pending = counts.get(OutboxStatus.PENDING, 0)
    if held:
        state = DeliveryState.NEEDS_ATTENTION
    elif pending:
        state = DeliveryState.WAITING
    elif counts:
        state = DeliveryState.DELIVERED
    else:
        state = DeliveryState.NOTHING_SENT
    return MemberDelivery(state, held + pending, next_attempt, last_delivered)


def outbox_summary(session: Session) -> dict[str, Any]:
    """Depth of the queue, age of its oldest pending message, dead letters and open conflicts."""
    counts = dict(
        session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )
    open_conflicts = session.scalar(
        select(func.count()).select_from(SyncConflict).where(SyncConflict.resolved_at.is_(None))
    )
    return {
        "pending": counts.get(OutboxStatus.PENDING, 0),
        "conflict": counts.get(OutboxStatus.CONFLICT, 0),
        "dead": counts.get(OutboxStatus.DEAD, 0),
        "delivered": counts.get(OutboxStatus.DELIVERED, 0),
        "discarded": counts.get(OutboxStatus.DISCARDED, 0),
        "oldest_pending_at": oldest.isoformat() if oldest else None,
        "oldest_pending_age_seconds": round((utcnow() - oldest).total_seconds()) if oldest else None,
        "open_conflicts": open_conflicts or 0,
    }


def list_messages(
    session: Session, status: OutboxStatus, *, limit: int = 50, offset: int = 0
) -> list[OutboxMessage]:
    """Messages in one state, oldest first (admin page and `flask crm outbox`)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == status)
            .order_by(OutboxMessage.id)
            .limit(limit)
            .offset(offset)
        )
    )


def open_conflicts(session: Session, *, limit: int = 100) -> list[SyncConflict]:
    """Conflicts nobody resolved yet, newest first."""
    return list(
        session.scalars(
            select(SyncConflict)
            .where(SyncConflict.resolved_at.is_(None))
            .order_by(SyncConflict.detected_at.desc())
            .limit(limit)
        )
    )
