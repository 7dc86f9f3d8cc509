"""The hot path's statements run on psycopg's cursor (`DriverStatement`): they bind and read exactly as
SQLAlchemy does, raise SQLAlchemy's errors, and the engine's listeners still see them."""

import enum
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Enum,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    cast,
    event,
    exc,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from portal.auth.models import LoginSession, SessionStage
from portal.auth.web_session import _OPEN_SESSION
from portal.core.clock import utcnow
from portal.core.database import DriverStatement, UtcDateTime, make_engine
from portal.meetings.services.meetings import _DOOR_CONTEXT
from portal.meetings.testing import make_meeting


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


def _same(driver_row: Any, sqlalchemy_row: Any) -> None:
    """Equal values of the same types; datetimes aware in UTC, as SQLAlchemy hands them back."""
    assert driver_row is not None
    assert sqlalchemy_row is not None
    assert tuple(driver_row) == tuple(sqlalchemy_row)
    for ours, theirs in zip(driver_row, sqlalchemy_row, strict=True):
        assert type(ours) is type(theirs)
        if isinstance(ours, datetime):
            assert ours.tzinfo is theirs.tzinfo is UTC


@pytest.mark.both_backends
def test_the_session_read_gives_what_sqlalchemy_gives(signed_in_client, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    signed_in_client()
    signed_in = db_session.scalars(
        select(LoginSession).where(LoginSession.stage == SessionStage.FULLY_AUTHENTICATED)
    ).one()
    parameters = {"token_hash": signed_in.token_hash, "now": utcnow()}
    ours = _OPEN_SESSION.first(db_session, parameters, alone=True)
    _same(ours, db_session.execute(_OPEN_SESSION.statement, parameters).first())
    assert ours.stage is SessionStage.FULLY_AUTHENTICATED  # by name, the enum member itself
    assert ours.known_account_id == signed_in.account_id  # a labelled column, by its label
    assert _OPEN_SESSION.first(db_session, {**parameters, "token_hash": "0" * 64}) is None


@pytest.mark.both_backends
def test_the_door_guard_reads_repeated_column_names_by_position(  # type: ignore[no-untyped-def]
    member_factory, db_session: Session
) -> None:
    member = member_factory()
    meeting = make_meeting(db_session, org_unit_id=member.branch_id)
    db_session.commit()
    parameters = {"meeting_id": meeting.id, "member_id": member.id}
    ours = _DOOR_CONTEXT.first(db_session, parameters, alone=True)
    _same(ours, db_session.execute(_DOOR_CONTEXT.statement, parameters).first())
    assert ours[0] == meeting.id
    assert ours[6] is None
    assert ours.member_number == member.member_number


@pytest.fixture
def probe(engine: Engine) -> Iterator[Table]:
    """A table of its own with the types the hot statements bind and read."""
    table = Table(
        f"driver_probe_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("colour", Enum(Colour, native_enum=False, length=16)),
        Column("at", UtcDateTime()),
        Column("data", JSON),
        Column("flag", Boolean),
        Column("label", String(40)),
    )
    table.create(engine)
    yield table
    table.drop(engine)


@pytest.mark.postgres
def test_bind_values_and_columns_go_through_the_columns_own_types(engine: Engine, probe: Table) -> None:
    insert = DriverStatement(
        probe.insert()
        .values(
            id=bindparam("id"),
            colour=bindparam("colour"),
            at=bindparam("at"),
            data=bindparam("data"),
            flag=bindparam("flag"),
            label="fixed",  # a value written into the statement: bound once, sent each time
        )
        .returning(probe.c.id, probe.c.colour, probe.c.at, probe.c.data, probe.c.flag, probe.c.label)
    )
    amsterdam = datetime(2026, 11, 23, 21, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Amsterdam"))
    with Session(engine) as session:
        returned = insert.first(
            session,
            {"id": 1, "colour": Colour.GREEN, "at": amsterdam, "data": {"a": [1, "ü"]}, "flag": True},
            alone=True,
        )
        stored = session.execute(select(probe)).first()
        _same(returned, stored)
        assert returned.colour is Colour.GREEN
        assert returned.at == amsterdam
        assert returned.at.tzinfo is UTC
        assert returned.data == {"a": [1, "ü"]}
        assert returned.label == "fixed"
        with pytest.raises(exc.StatementError, match="naive"):  # the UTC type's own check, on binding
            insert.first(
                session,
                {"id": 2, "colour": Colour.RED, "at": datetime(2026, 1, 1), "data": {}, "flag": False},
            )


@pytest.mark.postgres
def test_errors_are_sqlalchemys_and_nothing_is_sent_without_every_value(engine: Engine, probe: Table) -> None:
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_rest: sent.append(sql))
    read = DriverStatement(select(probe.c.id).where(probe.c.id == bindparam("id")))
    with Session(engine) as session:
        with pytest.raises(exc.StatementError, match="id"):
            read.first(session, {})
        assert sent == []
        with pytest.raises(exc.DataError) as raised:
            read.first(session, {"id": "not a number"})
        assert raised.value.statement == read._for(engine.dialect).sql
        assert raised.value.orig is not None
        session.rollback()
        assert read.first(session, {"id": 1}) is None
        assert len(sent) == 2  # the listeners saw both statements that went out
    with pytest.raises(ValueError, match="plain bind parameters"):
        DriverStatement(select(probe.c.id).where(probe.c.id.in_(bindparam("ids", expanding=True))))._for(
            engine.dialect
        )
    defaulted = Table(
        "defaulted", MetaData(), Column("id", Integer, primary_key=True), Column("b", String, default="x")
    )
    with pytest.raises(ValueError, match="plain bind parameters"):  # SQLAlchemy fills the default per run
        DriverStatement(defaulted.insert().values(id=bindparam("id")))._for(engine.dialect)


@pytest.mark.postgres
def test_columns_whose_reading_depends_on_the_servers_type_are_read_as_sqlalchemy_reads_them(
    engine: Engine,
) -> None:
    statement = select(
        cast(literal(1.5), Numeric(10, 2)).label("money"), cast(literal(2.25), Float).label("ratio")
    )
    with Session(engine) as session:
        _same(DriverStatement(statement).first(session, {}), session.execute(statement).first())


@pytest.mark.postgres
def test_a_lost_connection_makes_the_pool_replace_its_other_connections_too(
    postgres_url: str,
) -> None:
    """As SQLAlchemy does: after a server restart, one request fails, not one per pooled connection."""
    engine = make_engine(postgres_url, pool_size=3, ping_after_idle=3600)
    try:
        sessions = [Session(engine) for _ in range(3)]
        for session in sessions:
            session.execute(text("SELECT 1"))
        pids = [session.connection().connection.driver_connection.info.backend_pid for session in sessions]  # type: ignore[union-attr]
        for session in sessions:
            session.close()
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            for pid in pids:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        failures: list[exc.OperationalError] = []
        for _ in range(4):
            with Session(engine) as session:
                try:
                    _OPEN_SESSION.first(session, {"token_hash": "0" * 64, "now": utcnow()}, alone=True)
                except exc.OperationalError as error:
                    failures.append(error)
        assert [error.connection_invalidated for error in failures] == [True]
    finally:
        engine.dispose()
