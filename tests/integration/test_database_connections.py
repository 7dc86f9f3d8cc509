"""Pooled PostgreSQL connections: checked before use only after they idled; a dead one is replaced. A
statement run alone commits by itself outside a transaction and joins one that is open."""

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, exc, text
from sqlalchemy.orm import Session

from portal.auth.models import LoginSession, SessionStage
from portal.core.database import DriverStatement, make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine_factory(postgres_url: str) -> Iterator:  # type: ignore[type-arg]
    engines: list[Engine] = []

    def make(ping_after_idle: float) -> tuple[Engine, list[int]]:
        engine = make_engine(postgres_url, pool_size=1, ping_after_idle=ping_after_idle)
        pings: list[int] = []
        real_ping = engine.dialect.do_ping

        def counting_ping(dbapi_connection: object) -> bool:
            pings.append(1)
            return real_ping(dbapi_connection)

        engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]  # counts, then pings for real
        engines.append(engine)
        return engine, pings

    yield make
    for engine in engines:
        engine.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(postgres_url: str, pid: int) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_used_a_moment_ago_is_not_pinged(engine_factory) -> None:  # type: ignore[no-untyped-def]
    engine, pings = engine_factory(ping_after_idle=60)
    for _ in range(5):
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []  # the door's hot path pays no extra round trip


def test_an_idle_connection_that_died_is_replaced_before_use(engine_factory, postgres_url: str) -> None:  # type: ignore[no-untyped-def]
    engine, pings = engine_factory(ping_after_idle=0)  # every returned connection counts as idle
    first = _backend_pid(engine)
    _terminate(postgres_url, first)  # as a database restart or an idle timeout would
    second = _backend_pid(engine)  # no error: the ping found it dead and the pool connected afresh
    assert second != first
    assert pings  # it was checked


def test_without_the_idle_check_a_dead_connection_fails_once_then_recovers(
    engine_factory, postgres_url: str
) -> None:  # type: ignore[no-untyped-def]
    engine, pings = engine_factory(ping_after_idle=3600)
    first = _backend_pid(engine)
    _terminate(postgres_url, first)
    with pytest.raises(exc.OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # the one request that meets the dead connection
    assert _backend_pid(engine) != first  # the disconnect was seen; the next one gets a new connection
    assert pings == []


@pytest.fixture
def probe_table(postgres_url: str) -> Iterator[str]:
    """A table of its own for one test (the session's database is shared)."""
    name = f"alone_probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE TABLE {name} (value integer)")
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP TABLE {name}")


def _alone(session: Session, sql: str) -> object:
    return DriverStatement(text(sql)).first(session, {}, alone=True)


def _seen_from_elsewhere(postgres_url: str, table: str) -> list[int]:
    with psycopg.connect(postgres_url, autocommit=True) as other:
        return [row[0] for row in other.execute(f"SELECT value FROM {table} ORDER BY value")]


def test_a_statement_run_alone_commits_by_itself_and_the_connection_is_restored(
    postgres_url: str, probe_table: str, engine: Engine
) -> None:
    with Session(engine) as session:
        _alone(session, f"INSERT INTO {probe_table} VALUES (1)")
        driver = session.connection().connection.driver_connection
        assert driver is not None
        # Committed as it ended: another connection sees it, no transaction is left open, and the
        # connection is back to opening transactions for whatever the request does next.
        assert _seen_from_elsewhere(postgres_url, probe_table) == [1]
        assert driver.info.transaction_status == TransactionStatus.IDLE
        assert driver.autocommit is False
        session.execute(text(f"INSERT INTO {probe_table} VALUES (2)"))
        assert driver.info.transaction_status == TransactionStatus.INTRANS
        session.rollback()  # undoes the ordinary statement only
        assert _seen_from_elsewhere(postgres_url, probe_table) == [1]
        with pytest.raises(exc.DBAPIError):
            _alone(session, f"INSERT INTO {probe_table} VALUES ('not a number')")
        session.rollback()
        assert session.connection().connection.driver_connection.autocommit is False  # type: ignore[union-attr]


def test_a_connection_lost_during_a_statement_run_alone_raises_sqlalchemys_error(
    postgres_url: str, probe_table: str, engine: Engine
) -> None:
    """Not psycopg's complaint about restoring autocommit on a dead connection: the pool must see the
    disconnect to replace the connection, as for any other statement."""
    with Session(engine) as session:
        with pytest.raises(exc.OperationalError) as raised:
            _alone(session, "SELECT pg_terminate_backend(pg_backend_pid())")
        assert raised.value.connection_invalidated
        session.rollback()
        _alone(session, f"INSERT INTO {probe_table} VALUES (4)")  # a new connection
    assert _seen_from_elsewhere(postgres_url, probe_table) == [4]


def test_with_orm_changes_pending_or_a_transaction_open_a_statement_run_alone_joins_it(
    postgres_url: str, probe_table: str, engine: Engine
) -> None:
    with Session(engine) as session:
        session.add(LoginSession(stage=SessionStage.ANONYMOUS, token_hash="x" * 64))
        _alone(session, f"INSERT INTO {probe_table} VALUES (5)")
        assert _seen_from_elsewhere(postgres_url, probe_table) == []  # waits for the session's commit
        session.rollback()
    assert _seen_from_elsewhere(postgres_url, probe_table) == []


def test_inside_an_open_transaction_a_statement_run_alone_joins_it(
    postgres_url: str, probe_table: str, engine: Engine
) -> None:
    with Session(engine) as session:
        session.execute(text(f"INSERT INTO {probe_table} VALUES (1)"))
        _alone(session, f"INSERT INTO {probe_table} VALUES (2)")
        assert _seen_from_elsewhere(postgres_url, probe_table) == []
        session.rollback()
        assert _seen_from_elsewhere(postgres_url, probe_table) == []
    autocommit = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    with autocommit as connection, Session(bind=connection) as session:
        _alone(session, f"INSERT INTO {probe_table} VALUES (3)")
        # A connection that was autocommit already stays so.
        assert session.connection().connection.driver_connection.autocommit is True  # type: ignore[union-attr]
    assert _seen_from_elsewhere(postgres_url, probe_table) == [3]


def test_on_sqlite_a_statement_run_alone_is_part_of_the_transaction(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'alone.sqlite3'}", pool_size=1)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE probe (value integer)"))
        with Session(engine) as session:
            _alone(session, "INSERT INTO probe VALUES (1)")
            session.rollback()
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM probe")).scalar_one() == 0
    finally:
        engine.dispose()
