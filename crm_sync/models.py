"""Bookkeeping of the CRM boundary: sync runs, watermarks, the outbox, conflicts, merges and job leases."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.database import Base


class SyncKind(enum.Enum):
    """What a run did."""

    PULL_FULL = "pull_full"
    PULL_INCREMENTAL = "pull_incremental"
    RECONCILE = "reconcile"


class SyncOutcome(enum.Enum):
    """How a run ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"  # stopped on purpose, e.g. by the mass-removal guard


class SyncRun(Base):
    """One pull or reconciliation, with its counts, duration and error."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SyncKind] = mapped_column(Enum(SyncKind, native_enum=False, length=32))
    outcome: Mapped[SyncOutcome] = mapped_column(Enum(SyncOutcome, native_enum=False, length=32), index=True)
    adapter: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str] = mapped_column(Text, default="")

    @property
    def duration_seconds(self) -> float | None:
        """Wall time of the run, once it ended."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SyncWatermark(Base):
    """How far an incremental stream has been applied; moved only after the page commits."""

    __tablename__ = "sync_watermarks"

    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime]


class OutboxStatus(enum.Enum):
    """Where a portal edit stands on its way to the CRM."""

    PENDING = "pending"  # waiting for (another) delivery attempt
    DELIVERED = "delivered"  # the CRM holds the values (or already held them)
    CONFLICT = "conflict"  # the CRM changed the same field since the edit; an admin decides
    DEAD = "dead"  # refused for good, or failing for 48 h; an admin may replay it
    DISCARDED = "discarded"  # an admin chose to keep the CRM's values


# Undelivered messages protect their fields from the pull and hold back later edits of the member.
UNDELIVERED = (OutboxStatus.PENDING, OutboxStatus.CONFLICT, OutboxStatus.DEAD)


class OutboxMessage(Base):
    """One portal edit of a member, written in the edit's transaction and delivered to the CRM later."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_member", "member_id", "status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(36), unique=True)  # stable idempotency key (UUID4)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    operation: Mapped[str] = mapped_column(String(32), default="member.update")
    # {"set": {field: new value}, "previous": {field: value before the edit}}: changed fields only.
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(Enum(OutboxStatus, native_enum=False, length=16))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    first_failed_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")


class SyncConflict(Base):
    """A field the CRM and the portal both changed: kept for an admin, never silently dropped."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_open", "resolved_at", "detected_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    detected_by: Mapped[str] = mapped_column(String(16))  # "pull" or "push"
    portal_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    crm_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    base_value: Mapped[Any] = mapped_column(JSON, nullable=True)  # what the portal saw before its edit
    detected_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(String(32), default="")


class MemberMerge(Base):
    """The CRM merged one contact into another: the replica row of the first is a tombstone now."""

    __tablename__ = "member_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    merged_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    survivor_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    detected_at: Mapped[datetime]


class JobLease(Base):
    """Who runs a scheduled job right now (SQLite; PostgreSQL uses an advisory lock instead)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), default="")
    expires_at: Mapped[datetime]
