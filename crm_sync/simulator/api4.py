"""The APIv4 actions (get, create, update, save, delete, getMergedTo, getFields)."""

import sqlite3
from collections.abc import Callable
from typing import Any

from crm_sync.simulator.entities import ENTITIES, Entity
from crm_sync.simulator.errors import ApiError
from crm_sync.simulator.query import Query, expand_select, modified_index_hint
from crm_sync.simulator.store import write_transaction
from crm_sync.simulator.writes import create_record, delete_records, update_records

Values = list[dict[str, Any]]
_COMMON = frozenset({"checkPermissions", "debug", "language"})
_UNSUPPORTED = frozenset({"chain", "join", "groupBy", "having"})
WRITE_ACTIONS = frozenset({"create", "update", "save", "delete"})


def _check_params(params: dict[str, Any], allowed: set[str]) -> None:
    for key in params:
        if key in _UNSUPPORTED:
            raise ApiError(f"param {key!r} is not supported by the simulator")
        if key not in allowed and key not in _COMMON:
            raise ApiError(f"unknown api parameter {key!r}")


def _non_negative(params: dict[str, Any], key: str) -> int:
    value = params.get(key) or 0
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ApiError(f"{key} must be a non-negative integer")
    return value


def run_get(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> tuple[Values, int | None]:
    """Run a get as one SQL query; returns the rows and countMatched when asked."""
    select = params.get("select") or []
    if not isinstance(select, list):
        raise ApiError("select must be a list")
    wants_count = "row_count" in select
    fields = [item for item in select if item != "row_count"]
    query = Query(entity)
    where = query.where_sql(params.get("where"))
    order = query.order_sql(params.get("orderBy"))
    filters_on_main_only = not query.joins
    names = expand_select(entity, fields or ["*"]) if fields or not wants_count else []
    columns = [query.column(name) for name in names]
    limit, offset = _non_negative(params, "limit"), _non_negative(params, "offset")
    source = query.from_sql()
    matched = None
    if wants_count:
        matched = conn.execute(f"SELECT COUNT(*) FROM {source} WHERE {where}", query.args).fetchone()[0]
        if not names:
            return [], matched
    keys = names if "id" in names else ["id", *names]
    expressions = [column.sql for column in columns]
    converters = [column.converter() for column in columns]
    if "id" not in names:
        expressions.insert(0, "main.id")
        converters.insert(0, None)
    hint = modified_index_hint(conn, entity, params.get("where")) if filters_on_main_only else None
    if hint is None:
        sql = f"SELECT {', '.join(expressions)} FROM {source} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    else:
        # Few changed rows: pick the page's ids through the modified_date index first, so the
        # joins run for one page only, not for every changed row before sorting.
        page = (
            f"SELECT main.id FROM {entity.table} AS main INDEXED BY {hint} WHERE {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?"
        )
        sql = f"SELECT {', '.join(expressions)} FROM {source} WHERE main.id IN ({page}) ORDER BY {order}"
    rows = conn.execute(sql, [*query.args, limit or -1, offset]).fetchall()
    plan = [(index, convert) for index, convert in enumerate(converters) if convert]
    values: Values = []
    for row in rows:
        if plan:
            cells = list(row)
            for index, convert in plan:
                cells[index] = convert(cells[index])
            values.append(dict(zip(keys, cells, strict=True)))
        else:
            values.append(dict(zip(keys, row, strict=True)))
    return values, matched


def _matching_ids(conn: sqlite3.Connection, entity: Entity, where: Any) -> list[int]:
    rows, _ = run_get(conn, entity, {"select": ["id"], "where": where})
    ids = [int(row["id"]) for row in rows]
    if entity.name == "Contact" and not ids:
        # The contract: writing to a trashed or unknown contact is an error, not a no-op.
        raise ApiError("no live contact matches the where clause of a write")
    return ids


def _reload(
    conn: sqlite3.Connection, entity: Entity, ids: list[int], written: list[dict[str, Any]]
) -> Values:
    if not ids:
        return []
    extra = {key for values in written for key in values if ":" in key or "." in key}
    where: list[Any] = [["id", "IN", ids]]
    if entity.name == "Contact":
        where.append(["is_deleted", "IN", [0, 1]])
    rows, _ = run_get(conn, entity, {"select": ["*", *sorted(extra)], "where": where})
    by_id = {row["id"]: row for row in rows}
    return [by_id[i] for i in ids if i in by_id]


def _get(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> tuple[Values, int | None]:
    _check_params(params, {"select", "where", "orderBy", "limit", "offset"})
    return run_get(conn, entity, params)


def _create(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"values", "reload"})
    values = params.get("values") or {}
    with write_transaction(conn):
        row_id = create_record(conn, entity, values)
        return _reload(conn, entity, [row_id], [values])


def _update(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"values", "where", "reload"})
    values = dict(params.get("values") or {})
    where = list(params.get("where") or [])
    if "id" in values:
        where.append(["id", "=", values.pop("id")])
    if not where:
        raise ApiError("update needs a where clause or values.id")
    with write_transaction(conn):
        ids = _matching_ids(conn, entity, where)
        update_records(conn, entity, ids, values)
        return _reload(conn, entity, ids, [values])


def _save(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"records", "defaults", "match", "reload"})
    records, defaults = params.get("records") or [], params.get("defaults") or {}
    match = params.get("match") or []
    if not isinstance(records, list) or not isinstance(defaults, dict) or not isinstance(match, list):
        raise ApiError("save needs records (list), defaults (object) and match (list)")
    ids: list[int] = []
    written: list[dict[str, Any]] = []
    with write_transaction(conn):
        for record in records:
            if not isinstance(record, dict):
                raise ApiError("each record must be an object")
            values = {**defaults, **record}
            written.append(values)
            found: list[int] = []
            if "id" in values:
                found = _matching_ids(conn, entity, [["id", "=", values.pop("id")]])
                if not found:
                    raise ApiError(f"{entity.name} to update does not exist")
            elif match:
                if any(key not in values for key in match):
                    raise ApiError("every match field must be in the record")
                clauses = [[key, "=", values[key]] for key in match]
                rows, _ = run_get(conn, entity, {"select": ["id"], "where": clauses})
                found = [int(row["id"]) for row in rows]
                if len(found) > 1:
                    raise ApiError(f"match {match!r} found {len(found)} records")
            if found:
                update_records(conn, entity, found, values)
                ids.append(found[0])
            else:
                ids.append(create_record(conn, entity, values))
        return _reload(conn, entity, ids, written)


def _delete(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"where", "useTrash"})
    if not params.get("where"):
        raise ApiError("delete needs a where clause")
    with write_transaction(conn):
        ids = _matching_ids(conn, entity, params["where"])
        delete_records(conn, entity, ids, use_trash=params.get("useTrash", True) is not False)
    return [{"id": row_id} for row_id in ids]


def _get_merged_to(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"contact_id"})
    contact_id = params.get("contact_id")
    seen: set[Any] = set()
    survivor = None
    # Follow chains (A merged into B, B later into C) to the contact that still exists.
    while contact_id not in seen:
        seen.add(contact_id)
        row = conn.execute(
            "SELECT survivor_id FROM sim_merged_to WHERE contact_id = ?", (contact_id,)
        ).fetchone()
        if row is None:
            break
        survivor = contact_id = row[0]
    return [] if survivor is None else [{"id": survivor}]


def _get_fields(conn: sqlite3.Connection, entity: Entity, params: dict[str, Any]) -> Values:
    _check_params(params, {"select", "where", "action", "loadOptions", "values"})
    return [
        {
            "name": f.name,
            "data_type": f.kind,
            "readonly": not f.writable,
            "options": {suffix: list(names.values()) for suffix, names in f.options.items()} or False,
        }
        for f in entity.fields.values()
    ]


_ACTIONS: dict[str, Callable[[sqlite3.Connection, Entity, dict[str, Any]], Values]] = {
    "create": _create,
    "update": _update,
    "save": _save,
    "delete": _delete,
    "getFields": _get_fields,
}


def execute(
    conn: sqlite3.Connection, entity_name: str, action: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Run one API call and return CiviCRM's success body (raises ApiError on failure)."""
    entity = ENTITIES.get(entity_name)
    if entity is None:
        raise ApiError(f"unknown entity {entity_name!r}", status=404)
    matched: int | None = None
    if action == "get":
        values, matched = _get(conn, entity, params)
    elif action == "getMergedTo" and entity.name == "Contact":
        values = _get_merged_to(conn, entity, params)
    elif action in _ACTIONS:
        values = _ACTIONS[action](conn, entity, params)
    else:
        raise ApiError(f"unknown action {action!r} on {entity_name}", status=404)
    body: dict[str, Any] = {
        "values": values,
        "entity": entity_name,
        "action": action,
        "version": 4,
        "count": len(values) if matched is None else matched,
        "countFetched": len(values),
    }
    if matched is not None:
        body["countMatched"] = matched
    return body
