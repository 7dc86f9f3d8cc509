"""Translation of APIv4 get params (select/where/orderBy/limit/offset) into one SQL query.

Field names are only ever looked up in the entity's whitelist and written into the SQL from
there; every value travels as a bound parameter.
"""

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from crm_sync.simulator.entities import ENTITIES, Entity, Field
from crm_sync.simulator.errors import ApiError

Converter = Callable[[Any], Any]
_COMPARE = {"=": "=", "!=": "!=", "<>": "<>", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_SCALARS = (str, int, float, bool)
FEW_CHANGES = 20_000


def _to_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _to_list(value: Any) -> Any:
    return None if value is None else orjson.loads(value)


@dataclass(frozen=True)
class Column:
    """A resolved API field: its SQL expression, definition and pseudoconstant suffix."""

    sql: str
    field: Field
    suffix: str | None

    def converter(self) -> Converter | None:
        """Return how to turn the stored value into the API value (None: unchanged)."""
        if self.suffix is not None:
            return self.field.options[self.suffix].get
        if self.field.kind == "bool":
            return _to_bool
        if self.field.kind == "list":
            return _to_list
        return None


class Query:
    """Builds the FROM/WHERE/ORDER BY of one get on `entity`, collecting bound args."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self.joins: dict[str, str] = {}
        self.args: list[Any] = []

    def column(self, name: Any) -> Column:
        """Resolve "field", "field:suffix" or "join.field[:suffix]" against the whitelist."""
        if not isinstance(name, str):
            raise ApiError(f"field name must be a string, got {name!r}")
        base, _, suffix = name.partition(":")
        entity, alias = self.entity, "main"
        if "." in base and base not in entity.fields:
            prefix, _, base = base.partition(".")
            join = entity.joins.get(prefix)
            if join is None:
                raise ApiError(f"unknown field {name!r} on {entity.name}")
            entity, alias = ENTITIES[join.entity], self._join_alias(prefix)
        found = entity.fields.get(base)
        if found is None:
            raise ApiError(f"unknown field {name!r} on {self.entity.name}")
        if suffix and suffix not in found.options:
            raise ApiError(f"field {name!r} has no option suffix {suffix!r}")
        return Column(f"{alias}.{found.column}", found, suffix or None)

    def _join_alias(self, prefix: str) -> str:
        if prefix not in self.joins:
            self.joins[prefix] = f"j{len(self.joins)}"
        return self.joins[prefix]

    def from_sql(self) -> str:
        """Return the FROM clause with LEFT JOINs for every implicit join used so far."""
        parts = [f"{self.entity.table} AS main"]
        for prefix, alias in self.joins.items():
            join = self.entity.joins[prefix]
            table = ENTITIES[join.entity].table
            if join.how == "primary":
                # Literal 1 so SQLite can use the partial unique "*_primary" index.
                parts.append(
                    f"LEFT JOIN {table} AS {alias} ON {alias}.{join.column} = main.id"
                    f" AND {alias}.is_primary = 1"
                )
            else:
                parts.append(f"LEFT JOIN {table} AS {alias} ON {alias}.id = main.{join.column}")
        return " ".join(parts)

    def where_sql(self, where: Any) -> str:
        """Return the WHERE condition for an APIv4 `where` list ("1" when empty)."""
        if where is None:
            where = []
        if not isinstance(where, list):
            raise ApiError("where must be a list")
        conditions = [self._clause(item) for item in where]
        if self.entity.name == "Contact" and not mentions_field(where, "is_deleted"):
            # CiviCRM hides the trash unless the caller asks about is_deleted.
            conditions.insert(0, "main.is_deleted = 0")
        return " AND ".join(f"({c})" for c in conditions) if conditions else "1"

    def _clause(self, item: Any) -> str:
        if not isinstance(item, list) or not item:
            raise ApiError(f"malformed where clause {item!r}")
        head = item[0]
        if head in ("OR", "AND", "NOT"):
            if len(item) != 2 or not isinstance(item[1], list):
                raise ApiError(f"malformed {head} clause {item!r}")
            parts = [f"({self._clause(sub)})" for sub in item[1]]
            if head == "OR":
                return " OR ".join(parts) if parts else "0"
            joined = " AND ".join(parts) if parts else "1"
            return f"NOT ({joined})" if head == "NOT" else joined
        if len(item) < 2 or len(item) > 4 or not isinstance(item[1], str):
            raise ApiError(f"malformed where clause {item!r}")
        if len(item) == 4 and item[3]:
            raise ApiError("expressions in where are not supported by the simulator")
        column = self.column(head)
        return self._condition(column, item[1].upper(), item[2] if len(item) > 2 else None)

    def _condition(self, column: Column, op: str, value: Any) -> str:
        sql, kind = column.sql, column.field.kind
        if op in ("IS NULL", "IS NOT NULL"):
            return f"{sql} {op}"
        if op in ("IS EMPTY", "IS NOT EMPTY"):
            empty = f"({sql} IS NULL OR {sql} = '' OR {sql} = '[]')"
            return empty if op == "IS EMPTY" else f"NOT {empty}"
        if kind == "list" and column.suffix is None:
            return self._list_condition(sql, op, value)
        if op in _COMPARE:
            self.args.append(self._value(column, value))
            return f"{sql} {_COMPARE[op]} ?"
        if op in ("IN", "NOT IN"):
            if not isinstance(value, list):
                raise ApiError(f"{op} needs a list value")
            self.args.extend(self._value(column, v) for v in value)
            return f"{sql} {op} ({', '.join('?' for _ in value)})"
        if op in ("LIKE", "NOT LIKE", "CONTAINS", "NOT CONTAINS"):
            if not isinstance(value, _SCALARS):
                raise ApiError(f"{op} needs a scalar value")
            text = str(value)
            self.args.append(f"%{text}%" if "CONTAINS" in op else text)
            return f"{sql} {'NOT LIKE' if op.startswith('NOT') else 'LIKE'} ?"
        if op in ("BETWEEN", "NOT BETWEEN"):
            if not isinstance(value, list) or len(value) != 2:
                raise ApiError(f"{op} needs a list of two values")
            self.args.extend(self._value(column, v) for v in value)
            return f"{sql} {op} ? AND ?"
        raise ApiError(f"unsupported operator {op!r}")

    def _list_condition(self, sql: str, op: str, value: Any) -> str:
        member = f"EXISTS (SELECT 1 FROM json_each({sql}) WHERE json_each.value"
        if op in ("=", "!=", "<>") and isinstance(value, list):
            self.args.append(orjson.dumps(value).decode())
            return f"{sql} {'=' if op == '=' else '!='} ?"
        if op in ("=", "CONTAINS", "!=", "<>", "NOT CONTAINS") and isinstance(value, str):
            self.args.append(value)
            negate = "" if op in ("=", "CONTAINS") else "NOT "
            return f"{negate}{member} = ?)"
        if op in ("IN", "NOT IN") and isinstance(value, list):
            self.args.extend(str(v) for v in value)
            negate = "NOT " if op == "NOT IN" else ""
            return f"{negate}{member} IN ({', '.join('?' for _ in value)}))"
        if op in ("LIKE", "NOT LIKE") and isinstance(value, str):
            self.args.append(value)
            return f"{sql} {op} ?"
        raise ApiError(f"operator {op!r} with {value!r} is not supported on a list field")

    def _value(self, column: Column, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, _SCALARS):
            raise ApiError(f"value {value!r} for {column.field.name} must be a scalar")
        if column.suffix is not None:
            return option_id(column.field.options[column.suffix], value, strict=False)
        return coerce(column.field, value)

    def order_sql(self, order_by: Any) -> str:
        """Return the ORDER BY list; the primary key is appended so paging is stable."""
        if order_by is None:
            order_by = {}
        if not isinstance(order_by, dict):
            raise ApiError("orderBy must be an object")
        terms = []
        for name, direction in order_by.items():
            if not isinstance(direction, str) or direction.upper() not in ("ASC", "DESC"):
                raise ApiError(f"orderBy direction {direction!r} must be ASC or DESC")
            terms.append(f"{self.column(name).sql} {direction.upper()}")
        if "id" not in order_by:
            terms.append("main.id ASC")
        return ", ".join(terms)


def modified_index_hint(conn: sqlite3.Connection, entity: Entity, where: Any) -> str | None:
    """Name the modified_date index when a where's lower bound on modified_date leaves few rows.

    This SQLite has no STAT4, so the planner cannot see that `modified_date >= X` is selective and
    walks the (contact_type, id) index; a delta with few changes would then scan every contact.
    """
    if entity.modified_index is None or not isinstance(where, list):
        return None
    for item in where:
        if (
            isinstance(item, list)
            and len(item) == 3
            and item[0] == "modified_date"
            and item[1] in (">", ">=")
        ):
            bound = normalise_datetime("modified_date", item[2])
            probe = (
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {entity.table} WHERE modified_date {item[1]} ? "
                f"LIMIT {FEW_CHANGES + 1})"
            )
            if conn.execute(probe, (bound,)).fetchone()[0] <= FEW_CHANGES:
                return entity.modified_index
    return None


def option_id(names: Mapping[int, str], value: Any, *, strict: bool) -> int | None:
    """Map an option name to its id; unknown names match nothing (or fail when strict)."""
    for option, option_name in names.items():
        if option_name == value:
            return option
    if strict:
        raise ApiError(f"unknown option {value!r}")
    return -1


def coerce(field: Field, value: Any) -> Any:
    """Convert a JSON scalar to what the column stores, rejecting what cannot fit."""
    kind = field.kind
    if kind == "bool":
        if value in (True, False, 0, 1, "0", "1", "true", "false"):
            return int(value in (True, 1, "1", "true"))
        raise ApiError(f"{field.name} expects a boolean, got {value!r}")
    if kind == "int":
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.isdigit())
        ):
            raise ApiError(f"{field.name} expects an integer, got {value!r}")
        return int(value)
    if kind == "datetime":
        return normalise_datetime(field.name, value)
    if kind == "date":
        if not isinstance(value, str):
            raise ApiError(f"{field.name} expects a date string, got {value!r}")
        return value
    return str(value) if not isinstance(value, str) else value


def normalise_datetime(name: str, value: Any) -> str:
    """Accept ISO-8601 date/datetime text and return CiviCRM's "YYYY-MM-DD HH:MM:SS"."""
    if not isinstance(value, str):
        raise ApiError(f"{name} expects a date-time string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ApiError(f"{name}: cannot parse date-time {value!r}") from error
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def mentions_field(where: Any, name: str) -> bool:
    """Tell whether a where list (at any nesting depth) has a clause on field `name`."""
    if not isinstance(where, list):
        return False
    for item in where:
        if not isinstance(item, list) or not item:
            continue
        if item[0] in ("OR", "AND", "NOT") and len(item) == 2:
            if mentions_field(item[1], name):
                return True
        elif isinstance(item[0], str) and item[0].partition(":")[0] == name:
            return True
    return False


def expand_select(entity: Entity, select: Sequence[Any]) -> list[str]:
    """Expand "*" and "Group.*" / "join.*" wildcards into field names, keeping order."""
    names: list[str] = []
    for item in select:
        if not isinstance(item, str):
            raise ApiError(f"select items must be strings, got {item!r}")
        if item == "*":
            names += [f.name for f in entity.fields.values() if f.in_star]
        elif item.endswith(".*"):
            prefix = item[:-2]
            custom = [f.name for f in entity.fields.values() if f.name.startswith(f"{prefix}.")]
            if custom:
                names += custom
            elif prefix in entity.joins:
                joined = ENTITIES[entity.joins[prefix].entity]
                names += [f"{prefix}.{f.name}" for f in joined.fields.values() if f.in_star]
            else:
                raise ApiError(f"unknown wildcard {item!r} on {entity.name}")
        else:
            names.append(item)
    return list(dict.fromkeys(names))
