"""Named positions in the `sync_watermarks` table: how far a stream got, or until when to wait."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm_sync.models import SyncWatermark
from portal.core.clock import as_utc, utcnow


def read_moment(session: Session, stream: str) -> datetime | None:
    """The moment stored for `stream`, or None when there is none."""
    row = session.get(SyncWatermark, stream)
    if row is None or not row.position:
        return None
    return as_utc(datetime.fromisoformat(row.position))


def write_moment(session: Session, stream: str, moment: datetime | None) -> None:
    """Store (or clear) the moment for `stream` in the caller's transaction."""
    row = session.get(SyncWatermark, stream)
    position = moment.isoformat() if moment is not None else ""
    if row is None:
        session.add(SyncWatermark(stream=stream, position=position, updated_at=utcnow()))
    else:
        row.position, row.updated_at = position, utcnow()
    session.flush()
