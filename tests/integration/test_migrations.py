"""Migrations build the schema the models describe, on SQLite and on PostgreSQL, and go back down."""

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


def test_flask_db_upgrade_on_a_new_instance(runner, settings) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output
