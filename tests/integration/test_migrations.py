"""Migrations build the schema the models describe, on SQLite and on PostgreSQL, and go back down."""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.core import schema
from portal.core.database import make_engine
from portal.tables import Base


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    return differences


def test_models_and_migrations_agree_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    schema.upgrade(url)
    assert _differences(url) == []


@pytest.mark.postgres
def test_models_and_migrations_agree_on_postgresql(postgres_url: str) -> None:
    assert _differences(postgres_url) == []


def test_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    schema.upgrade(url)
    schema.downgrade(url, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    schema.upgrade(url)
    assert _differences(url) == []


def test_the_terms_languages_go_back_down_with_acceptances_in_place(tmp_path: Path) -> None:
    """0007 dropped its columns by rebuilding terms_versions, which SQLite refuses while acceptances
    (foreign keys on) refer to it: downgrading a real instance failed."""
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    schema.upgrade(url)
    # With the bare driver, whose connections leave foreign keys off: the acceptance's account is
    # beside the point, only its reference to the version matters.
    with closing(sqlite3.connect(tmp_path / "m.sqlite3")) as connection, connection:
        connection.execute(
            "INSERT INTO terms_versions (id, version, title, body_markdown, language, published_at, "
            "requires_reacceptance) VALUES (1, 'v1', 'T', 'B', 'nl', '2026-01-01 00:00:00', 1)"
        )
        connection.execute(
            "INSERT INTO terms_acceptances (account_id, terms_version_id, accepted_at, expires_at, ip, "
            "user_agent, language) VALUES (1, 1, '2026-01-01 00:00:00', '2027-01-01 00:00:00', '', '', '')"
        )
    schema.downgrade(url, "0002")
    engine = make_engine(url)
    columns = {column["name"] for column in inspect(engine).get_columns("terms_versions")}
    assert "language" not in columns
    assert "terms_translations" not in inspect(engine).get_table_names()
    engine.dispose()
    schema.upgrade(url)
    assert _differences(url) == []


def test_flask_db_upgrade_on_a_new_instance(runner, settings) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output
