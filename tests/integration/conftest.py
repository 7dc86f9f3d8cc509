"""Fixtures shared by the integration tests of `portal.core.database`."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from portal.core.database import make_engine


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """A PostgreSQL engine of one pooled connection, disposed after the test."""
    made = make_engine(postgres_url, pool_size=1)
    yield made
    made.dispose()
