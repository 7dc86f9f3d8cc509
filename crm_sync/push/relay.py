"""The relay: claim due outbox messages, deliver them through the CRM port, record how each went.

Messages are claimed in a short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises
writers) that stamps `claimed_until`, delivered outside any transaction, and settled in another short
one. Only the oldest undelivered message of a member is ever claimed, so a member's edits reach the CRM
in the order they were made. A worker that dies between claim and settle leaves its claim to expire;
the message is delivered again, which is harmless because pushes carry absolute values.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import aliased

from crm_sync.models import UNDELIVERED, OutboxMessage, OutboxStatus
from crm_sync.ports import (
    CrmCredentialsRefused,
    CrmError,
    CrmPort,
    CrmUnavailable,
    MemberChange,
    PushOutcome,
    PushResult,
)
from crm_sync.push import backoff
from crm_sync.push.settle import record_outcomes, record_unavailable
from crm_sync.watermarks import read_moment, write_moment
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.members.models import Member

log = logging.getLogger(__name__)
PAUSE_STREAM = "push.paused_until"
MIN_PAUSE_SECONDS = 5.0


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds until it settles it."""

    id: int
    key: str
    member_id: int
    member_crm_id: str
    payload: dict[str, Any]
    attempts: int
    first_failed_at: datetime | None

    def change(self) -> MemberChange:
        """The port's view of the message."""
        return MemberChange(
            key=self.key,
            member_crm_id=self.member_crm_id,
            values=self.payload.get("set", {}),
            previous=self.payload.get("previous", {}),
            force=bool(self.payload.get("force")),
        )


@dataclass
class RelayReport:
    """What one relay run did."""

    claimed: int = 0
    delivered: int = 0
    conflicts: int = 0
    dead: int = 0
    retrying: int = 0
    paused_until: datetime | None = None
    results: dict[int, OutboxStatus] = field(default_factory=dict)

    def add(self, other: RelayReport) -> None:
        """Fold another batch's counts into this report."""
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.conflicts += other.conflicts
        self.dead += other.dead
        self.retrying += other.retrying
        self.paused_until = other.paused_until or self.paused_until
        self.results.update(other.results)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {
            "claimed": self.claimed,
            "delivered": self.delivered,
            "conflicts": self.conflicts,
            "dead": self.dead,
            "retrying": self.retrying,
            "paused_until": self.paused_until.isoformat() if self.paused_until else None,
        }


def worker_name() -> str:
    """Who claims: host, process and thread, so a stuck claim can be traced."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{threading.get_ident() % 100000}"


def claim(
    database: Database,
    *,
    limit: int,
    now: datetime,
    worker: str,
    only_ids: Sequence[int] | None = None,
) -> list[Claimed]:
    """Claim up to `limit` due messages, at most one per member and only a member's oldest undelivered."""
    earlier = aliased(OutboxMessage)
    held_back = exists().where(
        earlier.member_id == OutboxMessage.member_id,
        earlier.id < OutboxMessage.id,
        earlier.status.in_(UNDELIVERED),
    )
    statement = (
        select(
            OutboxMessage.id,
            OutboxMessage.key,
            OutboxMessage.member_id,
            Member.crm_id,
            OutboxMessage.payload,
            OutboxMessage.attempts,
            OutboxMessage.first_failed_at,
        )
        .join(Member, Member.id == OutboxMessage.member_id)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
            ~held_back,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        statement = statement.where(OutboxMessage.id.in_(list(only_ids)))
    if not database.is_sqlite:
        statement = statement.with_for_update(skip_locked=True, of=OutboxMessage)
    with database.transaction() as session:
        rows = session.execute(statement).all()
        if rows:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(claimed_until=now + timedelta(seconds=backoff.CLAIM_SECONDS), claimed_by=worker)
            )
    return [Claimed(*row) for row in rows]


def paused_until(database: Database, now: datetime) -> datetime | None:
    """The moment before which the CRM asked not to be called again, if that is still ahead."""
    with closing(database.session()) as session:  # a read: no write lock for this look
        moment = read_moment(session, PAUSE_STREAM)
    return moment if moment is not None and moment > now else None


def deliver(
    database: Database,
    port: CrmPort,
    batch: list[Claimed],
    *,
    timeout: float | None,
    now_fn: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> RelayReport:
    """Push one claimed batch and settle every message of it."""
    report = RelayReport(claimed=len(batch))
    if not batch:
        return report
    try:
        outcomes = port.push_member_changes([message.change() for message in batch], timeout=timeout)
    except (CrmUnavailable, CrmCredentialsRefused) as error:
        now = now_fn()
        pause = max(MIN_PAUSE_SECONDS, error.retry_after or 0.0)
        with database.transaction() as session:
            record_unavailable(session, batch, str(error), error.retry_after, now=now, report=report, rng=rng)
            write_moment(session, PAUSE_STREAM, now + timedelta(seconds=pause))
        report.paused_until = now + timedelta(seconds=pause)
        log.warning("CRM unavailable, %d message(s) wait: %s", len(batch), error)
        return report
    except CrmError as error:
        # A failure of the whole batch without a reason: every message gets an uncertain attempt.
        outcomes = [PushOutcome(message.key, PushResult.UNCERTAIN, str(error)) for message in batch]
    with database.transaction() as session:
        record_outcomes(session, batch, outcomes, now=now_fn(), report=report, rng=rng)
    return report


def drain(
    database: Database,
    port: CrmPort,
    *,
    batch_size: int = 100,
    timeout: float | None = None,
    budget_seconds: float | None = None,
    now_fn: Callable[[], datetime] = utcnow,
    progress: Callable[[RelayReport], None] | None = None,
) -> RelayReport:
    """Deliver due messages batch by batch until none is due, the CRM pauses us, or the budget is spent."""
    report = RelayReport()
    worker = worker_name()
    started = time.monotonic()
    while budget_seconds is None or time.monotonic() - started < budget_seconds:
        now = now_fn()
        report.paused_until = paused_until(database, now)
        if report.paused_until is not None:
            break
        batch = claim(database, limit=batch_size, now=now, worker=worker)
        if not batch:
            break
        report.add(deliver(database, port, batch, timeout=timeout, now_fn=now_fn))
        if progress is not None:
            progress(report)
    return report


def deliver_now(
    database: Database,
    port: CrmPort,
    message_ids: Sequence[int],
    *,
    timeout: float | None = None,
    now_fn: Callable[[], datetime] = utcnow,
) -> RelayReport:
    """Try these just-committed messages at once (short timeout); what fails stays for the retry job."""
    now = now_fn()
    if not message_ids or paused_until(database, now) is not None:
        return RelayReport()
    batch = claim(database, limit=len(message_ids), now=now, worker=worker_name(), only_ids=message_ids)
    return deliver(database, port, batch, timeout=timeout, now_fn=now_fn)
