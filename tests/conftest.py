"""Shared fixtures: real databases (SQLite, PostgreSQL), a real SMTP server, the CRM simulator over HTTP."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from crm_sync.simulator.testing import SimulatorHandle, running_simulator
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from config import Settings
from portal.app import create_app
from portal.core import schema
from portal.core.database import Database
from portal.core.mailcatcher import MailCatcher
from portal.tables import Base

POSTGRES_ADMIN_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
REQUIRE_ALL = os.environ.get("PORTAL_TEST_REQUIRE_ALL", "") == "1" or os.environ.get("CI") == "true"
TEST_SECRET = "test-secret-key-that-is-long-enough-for-production"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Where the real parts are required (CI, `make test`), a missing one fails instead of skipping."""
    if POSTGRES_ADMIN_URL or REQUIRE_ALL:
        return
    skip = pytest.mark.skip(reason="PORTAL_TEST_DATABASE_URL not set (make test sets it)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test that needs a database."""
    path = tmp_path_factory.mktemp("template") / "portal.sqlite3"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once, dropped at the end."""
    if not POSTGRES_ADMIN_URL:
        pytest.fail("PostgreSQL is required here: set PORTAL_TEST_DATABASE_URL (make test does)")
    name = f"lp_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(
        POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    schema.upgrade(url)
    yield url
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def _truncate_postgres(url: str) -> None:
    database = Database(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        connection.execute(
            text("INSERT INTO audit_chain_head (id, seq, last_hash) VALUES (1, 0, :g)"), {"g": "0" * 64}
        )
    database.dispose()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: SQLite, and for `both_backends` tests PostgreSQL too."""
    return str(getattr(request, "param", "sqlite"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `both_backends` run once on SQLite and once on PostgreSQL."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize(
            "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
        )


@pytest.fixture
def database_url(backend: str, tmp_path: Path, sqlite_template: Path, request: pytest.FixtureRequest) -> str:
    """An empty, migrated database for this test."""
    if backend == "postgresql":
        url: str = request.getfixturevalue("postgres_url")
        _truncate_postgres(url)
        return url
    path = tmp_path / "portal.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def mail() -> Iterator[MailCatcher]:
    """A real SMTP server on loopback that keeps what it receives."""
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture
def settings(tmp_path: Path, database_url: str, mail: MailCatcher) -> Settings:
    """Settings of a test portal: its own instance folder, database and SMTP server."""
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        instance_path=tmp_path / "instance",
        database_url=database_url,
        smtp_host=mail.host,
        smtp_port=mail.port,
        crm_api_key="test-key",
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """A portal app on the test's database."""
    application = create_app(settings)
    yield application
    application.extensions["portal"].database.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for `flask …` commands of the app."""
    return app.test_cli_runner()


@pytest.fixture
def database(app: Flask) -> Database:
    """The app's database."""
    db: Database = app.extensions["portal"].database
    return db


@pytest.fixture
def db_session(database: Database) -> Iterator[Session]:
    """A write session on the test's own database (each test has a fresh database)."""
    session = database.session(write=True)
    yield session
    session.rollback()
    session.close()


@pytest.fixture(scope="session")
def simulator_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated simulator database (small party), copied per test."""
    folder = tmp_path_factory.mktemp("crm-template")
    path = folder / "crm.sqlite3"
    with running_simulator(path, members=400, seed=7):
        pass
    return path


@pytest.fixture
def crm(tmp_path: Path, simulator_template: Path) -> Iterator[SimulatorHandle]:
    """The CRM simulator over real HTTP on loopback, with this test's own copy of its data."""
    path = tmp_path / "crm.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{simulator_template}{suffix}")
        if source.exists():
            shutil.copyfile(source, Path(f"{path}{suffix}"))
    with running_simulator(path, members=400, seed=7) as handle:
        yield handle


@pytest.fixture
def crm_settings(settings: Settings, crm: SimulatorHandle) -> Settings:
    """Settings pointing at the running simulator."""
    return settings.replace(crm_url=crm.url, crm_api_key=crm.api_key)
