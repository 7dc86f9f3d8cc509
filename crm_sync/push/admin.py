"""What an admin does with messages that did not get through: replay them, or keep the CRM's values."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound
from portal.members.models import Member

REPLAYABLE = (OutboxStatus.DEAD, OutboxStatus.CONFLICT)


def _message(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"There is no outbox message {message_id}.")
    return message


def _resolve_conflicts(session: Session, message_id: int, resolution: str) -> None:
    session.execute(
        update(SyncConflict)
        .where(SyncConflict.outbox_message_id == message_id, SyncConflict.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution=resolution)
    )


def replay_message(session: Session, *, actor: Actor, message_id: int, force: bool = False) -> OutboxMessage:
    """Send a dead or conflicting message again; `force` overrides the CRM's newer value on a conflict."""
    message = _message(session, message_id)
    if message.status not in REPLAYABLE:
        raise Conflict(
            f"Message {message_id} is {message.status.value}; only dead or conflicting ones replay."
        )
    previous_status = message.status
    now = utcnow()
    message.status, message.attempts, message.next_attempt_at = OutboxStatus.PENDING, 0, now
    message.first_failed_at, message.claimed_until, message.claimed_by, message.last_error = (
        None,
        None,
        "",
        "",
    )
    if force:
        message.payload = {**message.payload, "force": True}
    _resolve_conflicts(session, message.id, "forced" if force else "replayed")
    record_change(
        session,
        actor=actor,
        action="crm.outbox_replayed",
        target=message,
        changes={"status": [previous_status.value, "pending"], "force": [None, force]},
    )
    session.flush()
    return message


def discard_message(session: Session, *, actor: Actor, message_id: int) -> OutboxMessage:
    """Give up a dead or conflicting message: the next pull brings the CRM's values back to the replica."""
    message = _message(session, message_id)
    if message.status not in REPLAYABLE:
        raise Conflict(f"Message {message_id} is {message.status.value}; only dead or conflicting ones go.")
    previous_status = message.status
    message.status, message.claimed_until = OutboxStatus.DISCARDED, None
    _resolve_conflicts(session, message.id, "crm_kept")
    # An empty hash makes the next pull fetch and rewrite this member from the CRM.
    session.execute(update(Member).where(Member.id == message.member_id).values(row_hash=""))
    record_change(
        session,
        actor=actor,
        action="crm.outbox_discarded",
        target=message,
        changes={"status": [previous_status.value, "discarded"]},
    )
    session.flush()
    return message


def replay_all(session: Session, *, actor: Actor, status: OutboxStatus = OutboxStatus.DEAD) -> int:
    """Replay every message in `status` (after a long outage), oldest first; returns how many."""
    ids = list(
        session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == status).order_by(OutboxMessage.id)
        )
    )
    for message_id in ids:
        replay_message(session, actor=actor, message_id=message_id)
    return len(ids)
