"""A job lease in the database, so two processes never run the same scheduled job at once.

PostgreSQL: a session-level `pg_try_advisory_lock` on a connection held for the job's duration (a
process that dies loses its connection and with it the lock). SQLite: a row in `job_leases` with an
expiry, taken with a conditional UPDATE inside SQLite's single write lock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError

from crm_sync.models import JobLease
from portal.core.clock import utcnow
from portal.core.database import Database

log = logging.getLogger(__name__)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `pg_try_advisory_lock`."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _postgres_lease(database: Database, name: str) -> Iterator[bool]:
    with database.engine.connect() as connection:
        key = advisory_key(name)
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def _take_row(database: Database, name: str, holder: str, ttl: timedelta) -> bool:
    now = utcnow()
    with database.transaction() as session:
        taken = (
            session.connection()
            .execute(
                update(JobLease.__table__)  # type: ignore[arg-type]
                .where(
                    JobLease.__table__.c.name == name,
                    (JobLease.__table__.c.expires_at < now) | (JobLease.__table__.c.holder == holder),
                )
                .values(holder=holder, expires_at=now + ttl)
            )
            .rowcount
        )
        if taken:
            return True
    try:
        with database.transaction() as session:
            session.execute(insert(JobLease).values(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False  # someone else holds a lease that has not expired


@contextmanager
def _sqlite_lease(database: Database, name: str, holder: str, ttl: timedelta) -> Iterator[bool]:
    held = _take_row(database, name, holder, ttl)
    try:
        yield held
    finally:
        if held:
            with database.transaction() as session:
                session.execute(delete(JobLease).where(JobLease.name == name, JobLease.holder == holder))


@contextmanager
def job_lease(database: Database, name: str, *, holder: str, ttl: timedelta) -> Iterator[bool]:
    """Yield True when this process may run job `name` now, False when another one holds it."""
    lease = (
        _sqlite_lease(database, name, holder, ttl) if database.is_sqlite else _postgres_lease(database, name)
    )
    with lease as held:
        if not held:
            log.info("job %s is running elsewhere; skipped", name)
        yield held
