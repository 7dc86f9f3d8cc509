"""Shared fixtures: real databases (SQLite, PostgreSQL), a real SMTP server, the CRM simulator over HTTP."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from playwright.sync_api import sync_playwright
from sqlalchemy import text
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from config import Settings
from crm_sync.simulator.testing import SimulatorHandle, running_simulator
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


# --- auth ---
# Accounts and signed-in clients go through the real sign-in views (portal.auth.testing).


@pytest.fixture
def org_tree(db_session: Session):  # type: ignore[no-untyped-def]
    """national → regions → branches (portal.auth.testing.OrgTree), committed."""
    from portal.auth.testing import make_org_tree

    tree = make_org_tree(db_session)
    db_session.commit()
    return tree


@pytest.fixture
def member_factory(db_session: Session, org_tree):  # type: ignore[no-untyped-def]
    """`member_factory(**overrides)`: a current member (default branch: `org_tree.branch`), committed."""
    from portal.members.testing import make_member

    def build(**overrides):  # type: ignore[no-untyped-def]
        overrides.setdefault("branch_id", org_tree.branch.id)
        member = make_member(db_session, **overrides)
        db_session.commit()
        return member

    return build


@pytest.fixture
def account_factory(app: Flask, db_session: Session, member_factory):  # type: ignore[no-untyped-def]
    """`account_factory(roles=[(Role, unit_id)], totp=True, terms_accepted=True, **member_overrides)`."""
    from portal.auth.testing import make_account

    def build(*, member=None, roles=(), totp=True, terms_accepted=True, password=None, **overrides):  # type: ignore[no-untyped-def]
        member = member or member_factory(**overrides)
        extra = {"password": password} if password else {}
        return make_account(
            db_session,
            member,
            roles=roles,
            totp=totp,
            terms_accepted=terms_accepted,
            keys=app.extensions["auth_keys"],
            **extra,
        )

    return build


@pytest.fixture
def signed_in_client(app: Flask, account_factory):  # type: ignore[no-untyped-def]
    """`signed_in_client(role=None, unit_id=None, **options) -> (client, credentials)`, a new client."""
    from portal.auth.testing import sign_in

    def build(role=None, unit_id=None, **options):  # type: ignore[no-untyped-def]
        roles = [(role, unit_id)] if role is not None else []
        _account, credentials = account_factory(roles=roles, **options)
        client = app.test_client()
        sign_in(client, credentials)
        return client, credentials

    return build


# --- crm sync (issue 4) ---
# A portal app wired to the simulator and filled by a first pull; a real trytond from its own venv.

TRYTON_VENV = Path(__file__).resolve().parents[1] / "instance" / "tryton-venv"


@pytest.fixture
def crm_app(crm_settings: Settings) -> Iterator[Flask]:
    """A portal app whose CRM is the running simulator."""
    application = create_app(crm_settings)
    yield application
    application.extensions["portal"].database.dispose()


@pytest.fixture
def synced(crm_app: Flask, crm_settings: Settings) -> Database:
    """The app's database after a first full pull from the simulator."""
    from crm_sync.composition import make_crm_port
    from crm_sync.pull import pull_full

    database: Database = crm_app.extensions["portal"].database
    port = make_crm_port(crm_settings)
    try:
        pull_full(database, port, max_removed_share=0.02)
    finally:
        port.close()
    return database


@pytest.fixture
def edit_member(synced: Database):  # type: ignore[no-untyped-def]
    """`edit_member(member_id, **changes) -> outbox message ids`: a committed portal edit (no push yet)."""
    from portal.core.actors import Actor
    from portal.members.models import Member
    from portal.members.services import update_member

    def edit(member_id: int, **changes):  # type: ignore[no-untyped-def]
        with synced.transaction() as session:
            member = session.get_one(Member, member_id)
            result = update_member(session, actor=Actor.system("test-editor"), member=member, changes=changes)
            return result.message_ids

    return edit


@pytest.fixture(scope="session")
def tryton_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Tryton database with party + party_relationship and a small seeded party (built once)."""
    from crm_sync.adapters.tryton.testing import ensure_trytond, prepare_database, running_trytond, seed_party

    ensure_trytond(TRYTON_VENV)
    folder = tmp_path_factory.mktemp("tryton-template")
    prepare_database(folder)
    with running_trytond(folder) as handle:
        client = handle.client()
        seed_party(client)
        client.close()
    return folder


@pytest.fixture
def tryton(tmp_path: Path, tryton_template: Path):  # type: ignore[no-untyped-def]
    """A real trytond on loopback serving this test's own copy of the seeded database."""
    from crm_sync.adapters.tryton.testing import running_trytond

    folder = tmp_path / "tryton"
    shutil.copytree(tryton_template / "db", folder / "db")
    with running_trytond(folder) as handle:
        yield handle


@pytest.fixture
def tryton_settings(settings: Settings, tryton) -> Settings:  # type: ignore[no-untyped-def]
    """Settings pointing the portal at the running trytond."""
    return settings.replace(
        crm_adapter="tryton",
        crm_url=tryton.url,
        crm_database=tryton.database,
        crm_username=tryton.username,
        crm_password=tryton.password,
    )


# --- browser (shared by every feature's journeys) ---
# A real HTTP server in a thread serving the test's app, and Debian's chromium driven by Playwright.

CHROMIUM_PATH = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """Debian's chromium under Playwright (no browser download works here); required where marked browser."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"chromium not found at {CHROMIUM_PATH}: apt-get install chromium (CI installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(chromium):  # type: ignore[no-untyped-def]
    """A fresh browser context with a phone-sized viewport (390×844), Dutch."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL", has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop_page(chromium):  # type: ignore[no-untyped-def]
    """A fresh browser context with a desktop viewport, Dutch."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def browser_sign_in(app: Flask, live_server: str):  # type: ignore[no-untyped-def]
    """`browser_sign_in(page, credentials, target)`: open `target` on the live server, sign in through the
    real pages (member number, password, a fresh TOTP code) and land on `target`."""
    from playwright.sync_api import expect

    from portal.auth.testing import fresh_code

    def sign_in(page, credentials, target):  # type: ignore[no-untyped-def]
        page.goto(live_server + target)
        page.get_by_label("E-mailadres of lidnummer").fill(credentials.member_number)
        page.get_by_label("Wachtwoord").fill(credentials.password)
        page.get_by_role("button", name="Volgende").click()
        page.get_by_label("Code").fill(fresh_code(app, credentials))
        page.get_by_role("button", name="Inloggen").click()
        expect(page).to_have_url(live_server + target)

    return sign_in


# --- meetings ---
# A meeting with a signed-in steward (portal.meetings.testing has the door helpers).


@pytest.fixture
def meeting_door(app: Flask, db_session: Session, org_tree, member_factory, account_factory):  # type: ignore[no-untyped-def]
    """A frozen meeting under way in `org_tree.branch`, one in `sibling`, a voter, a lapsed member and a
    signed-in steward of the first meeting (its test client under "steward")."""
    from datetime import timedelta

    from portal.auth.testing import sign_in
    from portal.core.clock import utcnow
    from portal.meetings import services
    from portal.meetings.testing import CHAIR, accept_terms, make_frozen_meeting
    from portal.members.models import MembershipStatus

    today = utcnow().date()
    voter = member_factory(given_name="Anna", family_name="Vries", infix="de")
    lapsed = member_factory(status=MembershipStatus.LAPSED, member_until=today - timedelta(days=30))
    meeting = make_frozen_meeting(db_session, org_unit_id=org_tree.branch.id, title="ALV Utrecht")
    other = make_frozen_meeting(db_session, org_unit_id=org_tree.sibling.id, title="ALV Zeist")
    steward_account, steward_credentials = account_factory(given_name="Sam", family_name="Steward")
    services.assign_steward(
        db_session, meeting=meeting, member_number=steward_credentials.member_number, actor=CHAIR
    )
    db_session.commit()
    accept_terms(db_session, steward_account.id)
    steward = app.test_client()
    sign_in(steward, steward_credentials)
    return {"meeting": meeting, "other": other, "voter": voter, "lapsed": lapsed, "steward": steward,
            "steward_member_id": steward_credentials.member_id}  # fmt: skip
