"""Bookkeeping of the CRM boundary: sync runs and watermarks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, String, Text
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
