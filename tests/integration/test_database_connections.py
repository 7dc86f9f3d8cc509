"""Pooled PostgreSQL connections: checked before use only after they idled; a dead one is replaced."""

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine, exc, text

from portal.core.database import make_engine

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
