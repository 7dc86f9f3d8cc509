"""SQLAlchemy base, UTC datetime type and the session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from psycopg.pq import TransactionStatus
from sqlalchemy import JSON, Connection, DateTime, Engine, Executable, MetaData, create_engine, event, exc
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


def _may_run_alone(session: Session, driver: Any) -> bool:
    """Whether a statement on this session's PostgreSQL connection may be a transaction of its own: no
    ORM changes waiting to be flushed, no transaction open, not autocommit already."""
    if session.new or session.dirty or session.deleted:
        return False
    return bool(
        driver is not None
        and not driver.autocommit
        and driver.info.transaction_status == TransactionStatus.IDLE
    )


class DriverStatement:
    """A statement of a hot path (every request, every check-in), run on psycopg's cursor directly.

    SQLAlchemy compiles it once per dialect; each run then skips SQLAlchemy's execution context (cache
    key, parameter and result processing per call): 50 µs of client CPU for the session read instead
    of 270-350 µs, about 0.6 ms of a door check-in's three statements. Bind values and columns still go
    through the statement's own SQLAlchemy types (enums, UTC datetimes, JSON), and rows read by name and
    by position like SQLAlchemy's. Engine listeners of `before_cursor_execute` and `after_cursor_execute`
    see each run (with `context=None`); a driver error becomes SQLAlchemy's, and a lost connection is
    invalidated as with any other statement. On SQLite it runs through SQLAlchemy as usual.

    With `alone` (see `first`), on PostgreSQL, when the session's connection has no transaction open
    and no ORM changes waiting, the statement runs with autocommit on: the server commits it as it ends,
    with no BEGIN or COMMIT round trip. For a read that shares no snapshot with another statement, or a
    write that is whole by itself (a change and its audit entry in one statement). A door check-in is
    three such statements; with BEGIN and COMMIT it was five round trips, and the audit chain's head
    stayed locked until the worker, busy or waiting for a core, sent COMMIT.
    """

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: tuple[Dialect, _Compiled] | None = None

    def _for(self, dialect: Dialect) -> _Compiled:
        known = self._compiled  # read once: another thread may replace it meanwhile
        if known is None or known[0] is not dialect:
            known = self._compiled = (dialect, _Compiled(self.statement, dialect))
        return known[1]

    def first(self, session: Session, parameters: Mapping[str, Any], *, alone: bool = False) -> Any:
        """The statement's first row (None: no row, or a statement without rows), run in the session's
        transaction; with `alone`, as a transaction of its own when the session has none open."""
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            result = connection.execute(self.statement, parameters)
            return result.first() if result.returns_rows else None
        compiled = self._for(connection.dialect)
        driver = connection.connection.driver_connection
        by_itself = alone and _may_run_alone(session, driver)
        if by_itself:
            driver.autocommit = True  # type: ignore[union-attr]
        try:
            return compiled.first(connection, driver, parameters)
        finally:
            if by_itself and not driver.closed:  # type: ignore[union-attr]  # lost: SQLAlchemy's error goes through
                driver.autocommit = False  # type: ignore[union-attr]


class _Compiled:
    """One statement compiled for one dialect: its SQL, fixed bind values, bind and column processors."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        binds = compiled.binds
        if (
            compiled.positional
            or compiled.escaped_bind_names
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.insert_prefetch  # Python-side column defaults, filled in per run by SQLAlchemy
            or compiled.update_prefetch
            or any(bind.expanding or bind.callable is not None for bind in binds.values())
        ):
            raise ValueError("a driver statement takes named, plain bind parameters only")
        self.sql: str = compiled.string
        self.fixed = {name: bind.value for name, bind in binds.items() if not bind.required}
        self.binds = [
            (name, processor)
            for name, bind in binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        self.required = frozenset(name for name, bind in binds.items() if bind.required)
        self.dialect = dialect
        columns = getattr(statement, "exported_columns", None)
        self.types = [column.type.dialect_impl(dialect) for column in columns] if columns is not None else []
        self.row: Any = None
        if columns is not None:
            # By name and by position; a repeated or unusable name is read by position only (`_6`).
            row_type: Any = collections.namedtuple("Row", list(columns.keys()), rename=True)  # type: ignore[misc]
            self.row = row_type._make
        # Result processors want the column's type as the server describes it (numerics do): made
        # from the first result's description.
        self.processors: list[tuple[int, Any]] | None = None

    def values(self, parameters: Mapping[str, Any]) -> dict[str, Any]:
        """The bind values as the driver takes them; errors as SQLAlchemy raises them (StatementError)."""
        missing = self.required.difference(parameters)
        if missing:
            raise exc.StatementError(
                f"no value for bind parameters {sorted(missing)}", self.sql, parameters, None
            )
        values = {**self.fixed, **parameters}
        try:
            for name, processor in self.binds:
                values[name] = processor(values[name])
        except Exception as error:
            raise exc.StatementError(str(error), self.sql, parameters, error) from error
        return values

    def _processors(self, description: Any) -> list[tuple[int, Any]]:
        if len(description) != len(self.types):
            raise exc.InvalidRequestError("the statement's result does not have the columns it declares")
        made = [
            (index, kind.result_processor(self.dialect, column.type_code))
            for index, (kind, column) in enumerate(zip(self.types, description, strict=True))
        ]
        self.processors = [(index, processor) for index, processor in made if processor is not None]
        return self.processors

    def first(self, connection: Connection, driver: Any, parameters: Mapping[str, Any]) -> Any:
        values = self.values(parameters)
        dispatch = connection.dispatch
        with driver.cursor() as cursor:
            for listener in dispatch.before_cursor_execute:
                listener(connection, cursor, self.sql, values, None, False)
            try:
                cursor.execute(self.sql, values)
                description = cursor.description
                raw = cursor.fetchone() if description is not None else None
            except connection.dialect.loaded_dbapi.Error as error:
                raise _translated(connection, driver, cursor, self.sql, values, error) from error
            for listener in dispatch.after_cursor_execute:
                listener(connection, cursor, self.sql, values, None, False)
        if raw is None or self.row is None:
            return raw
        processors = self.processors if self.processors is not None else self._processors(description)
        if processors:
            raw = list(raw)
            for index, processor in processors:
                raw[index] = processor(raw[index])
        return self.row(raw)


def _translated(
    connection: Connection, driver: Any, cursor: Any, sql: str, values: Mapping[str, Any], error: Any
) -> exc.StatementError:
    """psycopg's error as SQLAlchemy raises it. On a lost connection, as SQLAlchemy does: the pool's
    older connections count as stale too (a restarted server ended them all), and this one is invalidated."""
    dialect = connection.dialect
    lost = bool(driver.closed or dialect.is_disconnect(error, driver, cursor))
    if lost and not connection.invalidated:
        # SQLAlchemy's own two steps (Connection._handle_dbapi_exception)
        connection.engine.pool._invalidate(connection.connection, error)
        connection.invalidate(error)
    return exc.DBAPIError.instance(
        sql,
        values,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )


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
