"""Recording how a delivery went: delivered, conflict (with its fields), dead letter, or try again."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from crm_sync import mapping
from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict
from crm_sync.ports import PushOutcome, PushResult
from crm_sync.push import backoff
from portal.members.models import Member, OrgUnit

if TYPE_CHECKING:  # the relay's types, for annotations only (the relay imports this module)
    from crm_sync.push.relay import Claimed, RelayReport


def refresh_row_hashes(session: Session, member_ids: Sequence[int]) -> None:
    """After a delivery the CRM holds what the replica holds: hash the replica so the pull skips it."""
    if not member_ids:
        return
    rows = session.execute(
        select(Member, OrgUnit.crm_id)
        .outerjoin(OrgUnit, OrgUnit.id == Member.branch_id)
        .where(Member.id.in_(list(member_ids)), Member.removed_at.is_(None))
    ).all()
    hashes = [
        {"b_id": member.id, "b_hash": mapping.row_hash(mapping.replica_values(member), branch, False)}
        for member, branch in rows
    ]
    if hashes:
        table: Table = Member.__table__  # type: ignore[assignment]
        session.connection().execute(
            update(table).where(table.c.id == bindparam("b_id")).values(row_hash=bindparam("b_hash")),
            hashes,
        )


def _retry(
    message: OutboxMessage,
    claimed: Claimed,
    error: str,
    *,
    retry_after: float | None,
    now: datetime,
    rng: random.Random | None,
    cap: int | None,
) -> OutboxStatus:
    """One more failed attempt: back off, or give up after 48 h (or `cap` attempts)."""
    message.attempts = claimed.attempts + 1
    message.first_failed_at = claimed.first_failed_at or now
    message.last_error = error[:2000]
    message.claimed_until, message.claimed_by = None, ""
    out_of_tries = cap is not None and message.attempts >= cap
    if out_of_tries or backoff.has_given_up(message.first_failed_at, now):
        message.status = OutboxStatus.DEAD
    else:
        message.next_attempt_at = backoff.next_attempt_at(now, message.attempts, retry_after, rng)
    return message.status


def _load(session: Session, batch: Sequence[Claimed]) -> dict[int, OutboxMessage]:
    ids = [claimed.id for claimed in batch]
    return {
        message.id: message
        for message in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    }


def record_outcomes(
    session: Session,
    batch: Sequence[Claimed],
    outcomes: Sequence[PushOutcome],
    *,
    now: datetime,
    report: RelayReport,
    rng: random.Random | None = None,
) -> None:
    """Settle each claimed message by the CRM's answer for it (a missing answer counts as uncertain)."""
    by_key = {outcome.key: outcome for outcome in outcomes}
    messages = _load(session, batch)
    delivered_members: list[int] = []
    for claimed in batch:
        message = messages[claimed.id]
        outcome = by_key.get(claimed.key, PushOutcome(claimed.key, PushResult.UNCERTAIN, "no answer"))
        if outcome.result in (PushResult.DELIVERED, PushResult.ALREADY_APPLIED):
            message.status, message.delivered_at, message.last_error = OutboxStatus.DELIVERED, now, ""
            message.attempts = claimed.attempts + 1
            message.claimed_until, message.claimed_by = None, ""
            delivered_members.append(claimed.member_id)
            report.delivered += 1
        elif outcome.result is PushResult.CONFLICT:
            message.status, message.last_error = OutboxStatus.CONFLICT, outcome.detail[:2000]
            message.claimed_until, message.claimed_by = None, ""
            for conflict in outcome.conflicts:
                session.add(
                    SyncConflict(
                        member_id=claimed.member_id,
                        outbox_message_id=claimed.id,
                        field=conflict.field,
                        detected_by="push",
                        portal_value=conflict.portal_value,
                        crm_value=conflict.crm_value,
                        base_value=conflict.base_value,
                        detected_at=now,
                        resolution="",
                    )
                )
            report.conflicts += 1
        elif outcome.result is PushResult.REJECTED:
            message.status, message.last_error = OutboxStatus.DEAD, outcome.detail[:2000]
            message.claimed_until, message.claimed_by = None, ""
            report.dead += 1
        else:
            status = _retry(
                message,
                claimed,
                outcome.detail or "uncertain",
                retry_after=None,
                now=now,
                rng=rng,
                cap=backoff.MAX_UNCERTAIN_ATTEMPTS,
            )
            report.dead += status is OutboxStatus.DEAD
            report.retrying += status is OutboxStatus.PENDING
        report.results[claimed.id] = message.status
    session.flush()
    refresh_row_hashes(session, delivered_members)


def record_unavailable(
    session: Session,
    batch: Sequence[Claimed],
    error: str,
    retry_after: float | None,
    *,
    now: datetime,
    report: RelayReport,
    rng: random.Random | None = None,
) -> None:
    """The CRM could not be reached: every message of the batch waits (Retry-After first)."""
    messages = _load(session, batch)
    for claimed in batch:
        status = _retry(
            messages[claimed.id], claimed, error, retry_after=retry_after, now=now, rng=rng, cap=None
        )
        report.dead += status is OutboxStatus.DEAD
        report.retrying += status is OutboxStatus.PENDING
        report.results[claimed.id] = status
    session.flush()
