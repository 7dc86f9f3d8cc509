"""Opening and closing a `SyncRun`, and the watermarks that make the next pull incremental."""

from __future__ import annotations

from datetime import datetime

from crm_sync.models import SyncKind, SyncOutcome, SyncRun
from crm_sync.pull.counts import PullCounts
from crm_sync.watermarks import read_moment, write_moment
from portal.core.clock import utcnow
from portal.core.database import Database


def members_stream(adapter: str) -> str:
    """The watermark name of an adapter's member changes."""
    return f"{adapter}.members"


def positions_stream(adapter: str) -> str:
    """The watermark name of an adapter's position changes."""
    return f"{adapter}.positions"


def start_run(database: Database, adapter: str, kind: SyncKind) -> int:
    """Record a running pull and return its id."""
    with database.transaction() as session:
        run = SyncRun(kind=kind, outcome=SyncOutcome.RUNNING, adapter=adapter, started_at=utcnow(), counts={})
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    database: Database, run_id: int, outcome: SyncOutcome, counts: PullCounts, error: str = ""
) -> SyncRun:
    """Close the run with its outcome, counts and error; returns the stored run."""
    with database.transaction() as session:
        run = session.get_one(SyncRun, run_id)
        run.outcome, run.finished_at, run.counts, run.error = (
            outcome,
            utcnow(),
            counts.as_dict(),
            error[:2000],
        )
        session.flush()
        session.expunge(run)
        return run


def read_watermarks(database: Database, adapter: str) -> tuple[datetime | None, datetime | None]:
    """The newest member and position change markers applied so far."""
    with database.transaction() as session:
        return read_moment(session, members_stream(adapter)), read_moment(session, positions_stream(adapter))


def advance_watermarks(database: Database, adapter: str, counts: PullCounts) -> None:
    """Move the watermarks to the newest markers seen; called only after every page committed."""
    with database.transaction() as session:
        for stream, moment in (
            (members_stream(adapter), counts.newest_member_change),
            (positions_stream(adapter), counts.newest_position_change),
        ):
            stored = read_moment(session, stream)
            if moment is not None and (stored is None or moment > stored):
                write_moment(session, stream, moment)
