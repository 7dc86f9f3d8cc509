"""Writing many replica rows fast: the driver's own bulk paths, and indexes built after a first load.

`insert_rows` turns the rows into tuples with SQLAlchemy's bind processors (so they are stored exactly
as an ORM or Core insert would store them) and hands them to the driver in one call: `executemany` on
SQLite, `COPY` on PostgreSQL. Core's own executemany spent more time preparing parameters than SQLite
spent inserting.

`indexes_deferred` drops a table's secondary indexes for the first load of an empty replica and builds
them again afterwards, also when the load fails; `restore_indexes` at the start of every pull repairs a
load that was killed before it could.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    Connection,
    Table,
    bindparam,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute

from portal.core.database import Database


def _plan(
    connection: Connection, table: Table, keys: Sequence[str]
) -> tuple[list[str], list[Any], dict[str, Any]]:
    """Columns to write, their bind processors, and the Python-side defaults of columns not given."""
    dialect = connection.dialect
    columns = [table.c[key] for key in keys]
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.key in keys or column.primary_key or column.default is None:
            continue
        default = column.default
        if default.is_scalar:
            defaults[column.key] = default.arg  # type: ignore[attr-defined]
        elif default.is_callable:
            defaults[column.key] = default.arg(None)  # type: ignore[attr-defined]  # wrapped: fn(context)
        else:
            raise TypeError(f"{table.name}.{column.key}: a SQL default needs a Core insert, not a bulk load")
    columns += [table.c[key] for key in defaults]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    return [column.name for column in columns], processors, defaults


def among(dialect: str, column: InstrumentedAttribute[Any], keys: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN keys` with the keys as one parameter (a JSON array on SQLite, an array on PostgreSQL):
    expanding a 10,000-key IN list into 10,000 parameters costs SQLAlchemy more than the query."""
    if dialect == "postgresql":
        return column == func.any(bindparam(None, list(keys), type_=ARRAY(column.type)))
    if dialect == "sqlite":
        values = func.json_each(bindparam(None, orjson.dumps(list(keys)).decode()))
        return column.in_(select(literal_column("value")).select_from(values))
    return column.in_(list(keys))


def _json_text(value: Any) -> Any:
    return None if value is None else orjson.dumps(value).decode()


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) in the connection's transaction, in one driver call."""
    if not rows:
        return
    keys = list(rows[0])
    names, processors, defaults = _plan(connection, table, keys)
    plan: list[tuple[int, Any]] = []
    for index, (name, process) in enumerate(zip(names, processors, strict=True)):
        if isinstance(table.c[name].type, JSON):
            plan.append((index, _json_text))  # lists of texts: orjson writes the same JSON, faster
        elif process is not None:
            plan.append((index, functools.cache(process)))  # dates, moments, statuses repeat a lot
    extra = list(defaults.values())
    values: list[tuple[Any, ...]] = []
    for row in rows:
        raw = [row[key] for key in keys]
        if extra:
            raw += [value() if callable(value) else value for value in extra]
        for index, process in plan:
            raw[index] = process(raw[index])
        values.append(tuple(raw))
    quote = connection.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(name) for name in names)
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {quote(table.name)} ({column_list}) FROM STDIN") as copy,
        ):
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" if connection.dialect.paramstyle == "qmark" else "%s" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({column_list}) VALUES ({marks})", values)


@contextmanager
def sqlite_cache(connection: Connection, *, megabytes: int = 128) -> Iterator[None]:
    """A bigger SQLite page cache for one write batch (index pages stay in memory), then the pooled
    connection's own size again; nothing on other databases."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = {-1024 * megabytes}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {before}")


def _existing_indexes(connection: Connection, table: Table) -> set[str]:
    return {index["name"] for index in inspect(connection).get_indexes(table.name) if index["name"]}


def restore_indexes(database: Database, table: Table) -> list[str]:
    """Create any of the table's declared indexes that are missing; returns their names."""
    with database.transaction() as session, sqlite_cache(session.connection()):
        connection = session.connection()
        present = _existing_indexes(connection, table)
        missing = [
            index
            for index in sorted(table.indexes, key=lambda index: str(index.name))
            if index.name not in present
        ]
        for index in missing:
            index.create(connection)
        return [str(index.name) for index in missing]


@contextmanager
def indexes_deferred(database: Database, table: Table) -> Iterator[None]:
    """Without the table's secondary indexes for the block (a first load), with them again after it."""
    with database.transaction() as session:
        connection = session.connection()
        present = _existing_indexes(connection, table)
        for index in table.indexes:
            if index.name in present:
                index.drop(connection)
    try:
        yield
    finally:
        restore_indexes(database, table)
