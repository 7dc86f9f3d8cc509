"""SQLAlchemy base, UTC datetime type and the session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from psycopg.pq import TransactionStatus
from sqlalchemy import JSON, CursorResult, DateTime, Engine, Executable, MetaData, create_engine, event, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, hands back aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention so migrations stay stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and explicit BEGIN so write sessions take the lock up front."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A read-then-write transaction in WAL mode cannot wait for the lock once its snapshot is
        # stale; taking it at BEGIN (IMMEDIATE) lets concurrent writers queue instead of failing.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


PING_AFTER_IDLE_SECONDS = 5.0


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled PostgreSQL connection before use, but only one that sat unused for `idle_seconds`.

    `pool_pre_ping` pings on every checkout: one more round trip and 2-3 % of a check-in's CPU at the
    door. A connection that was returned a moment ago is almost surely alive; one that idled is where a
    database restart or an idle timeout shows. A connection that dies mid-stream under load fails its
    one request; SQLAlchemy then sees the disconnect and replaces the pool's older connections.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < idle_seconds:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error  # the pool connects afresh and tries again
            raise


def make_engine(url: str, *, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS) -> Engine:
    """An engine for `url`, tuned for the embedded SQLite default or PostgreSQL."""
    if url.startswith("sqlite"):
        # A small pool: NullPool reopened the file, re-ran the PRAGMAs and checkpointed the WAL on
        # every transaction (25 → 16 ms per check-in, and a slower pull).
        engine = create_engine(
            url,
            poolclass=None if ":memory:" in url else QueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # JIT compilation pays off for long analytical queries, never for this OLTP load; a large row
    # estimate would otherwise add 10–25 ms of compile time to a single search.
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"options": "-c jit=off"},
    )
    _ping_after_idle(engine, ping_after_idle)
    return engine


def execute_alone(
    session: Session, statement: Executable, parameters: Mapping[str, Any]
) -> CursorResult[*tuple[Any, ...]]:
    """Run one statement as a transaction of its own when the session's connection has none open (on
    PostgreSQL): the server commits it as the statement ends, in the same round trip, with no BEGIN or
    COMMIT of its own. For a read that shares no snapshot with another statement, or a write that is
    whole by itself (a change and its audit entry in one statement). Inside an open transaction, and on
    SQLite, it runs in the session's transaction like any other statement.

    A door check-in is three such statements; with BEGIN and COMMIT it was five round trips, and the
    audit chain's head stayed locked until the worker, busy or waiting for a core, sent COMMIT.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or session.new or session.dirty or session.deleted:
        return connection.execute(statement, parameters)  # SQLite, or ORM changes waiting to be flushed
    driver = connection.connection.driver_connection
    if driver is None or driver.autocommit or driver.info.transaction_status != TransactionStatus.IDLE:
        return connection.execute(statement, parameters)  # in a transaction, or already autocommit
    driver.autocommit = True
    try:
        return connection.execute(statement, parameters)
    finally:
        if not driver.closed:  # a lost connection: let SQLAlchemy's own error (invalidated) through
            driver.autocommit = False


class Database:
    """One engine and its session factories: read sessions and write sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        write_bind = (
            self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine
        )
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(write_bind, expire_on_commit=False)

    def session(self, *, write: bool = False) -> Session:
        """A new session; the caller commits and closes it."""
        return (self._write if write else self._read)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session committed on success and rolled back on error (CLI commands, jobs)."""
        session = self.session(write=True)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
