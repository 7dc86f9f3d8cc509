"""What the sync looks like right now: last runs and their counts (for the CLI, admin page and health)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_sync.models import SyncOutcome, SyncRun
from crm_sync.push.state import outbox_summary
from portal.core.clock import utcnow
from portal.members.models import Member


@dataclass(frozen=True)
class SyncStatus:
    """A snapshot for people and monitors."""

    members_active: int
    members_removed: int
    last_success_at: datetime | None
    recent_runs: list[dict[str, Any]]
    outbox: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        age = (
            None if self.last_success_at is None else round((utcnow() - self.last_success_at).total_seconds())
        )
        return {
            "members_active": self.members_active,
            "members_removed": self.members_removed,
            "last_successful_pull_at": self.last_success_at.isoformat() if self.last_success_at else None,
            "last_successful_pull_age_seconds": age,
            "recent_runs": self.recent_runs,
            "outbox": self.outbox,
        }


def sync_status(session: Session, *, runs: int = 10) -> SyncStatus:
    """Counts of the replica and the most recent runs, newest first."""
    active = session.scalar(select(func.count()).select_from(Member).where(Member.removed_at.is_(None))) or 0
    removed = (
        session.scalar(select(func.count()).select_from(Member).where(Member.removed_at.is_not(None))) or 0
    )
    last_success = session.scalar(
        select(func.max(SyncRun.finished_at)).where(SyncRun.outcome == SyncOutcome.SUCCEEDED)
    )
    recent = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(runs)).all()
    return SyncStatus(
        members_active=active,
        members_removed=removed,
        last_success_at=last_success,
        outbox=outbox_summary(session),
        recent_runs=[
            {
                "id": run.id,
                "kind": run.kind.value,
                "outcome": run.outcome.value,
                "adapter": run.adapter,
                "started_at": run.started_at.isoformat(),
                "duration_seconds": run.duration_seconds,
                "counts": run.counts,
                "error": run.error,
            }
            for run in recent
        ],
    )
