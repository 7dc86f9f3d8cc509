"""Migration 0004a: the frozen voter roll keeps member ids without a foreign key to members."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from portal.core import schema
from portal.core.database import make_engine


def _roll_foreign_keys(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {key["referred_table"] for key in inspect(engine).get_foreign_keys("voter_roll_entries")}
    finally:
        engine.dispose()


def test_roll_has_no_member_foreign_key_and_0004_restores_it_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    schema.upgrade(url)
    assert _roll_foreign_keys(url) == {"meetings"}
    schema.downgrade(url, "0004")
    assert _roll_foreign_keys(url) == {"meetings", "members"}
    schema.upgrade(url)
    assert _roll_foreign_keys(url) == {"meetings"}


@pytest.mark.postgres
def test_roll_has_no_member_foreign_key_on_postgresql(postgres_url: str) -> None:
    assert _roll_foreign_keys(postgres_url) == {"meetings"}
