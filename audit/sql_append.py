"""An audit entry appended by the very PostgreSQL statement that makes the change (the door's check-in):
the chain's hashes written in SQL, and an entry whose values only that statement knows (`Hole`s)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    String,
    Table,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    not_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.selectable import CTE

from audit.chain import content, plain
from audit.models import AuditChainHead, AuditEntry
from portal.core.actors import Actor

_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]  # declarative tables are Tables


def constant(value: str) -> ColumnElement[str]:
    """A string constant written into the SQL itself, not bound: the door's statement stays short
    (psycopg caches the parsing of statements up to 4 kB and 50 parameters)."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


def sha256_hex(text: ColumnElement[str]) -> ColumnElement[str]:
    """SHA-256 of the text's UTF-8 bytes, as lowercase hex (as `hashlib`'s `hexdigest`)."""
    return func.encode(func.sha256(func.convert_to(text, constant("UTF8"))), constant("hex"))


def linked(head: Any, body_digest_sql: ColumnElement[str]) -> ColumnElement[str]:
    """`chain.link_hash` in SQL: the head's hash, the next number and the entry's body digest."""
    newline = constant("\n")
    return sha256_hex(head.last_hash + newline + cast(head.seq + 1, String) + newline + body_digest_sql)


class Hole(NamedTuple):
    """A value of an entry that only the statement making the change knows (an id it inserts, a column
    it reads): `SqlAppend` fills it in, in SQL."""

    name: str


# Marks a hole in the canonical JSON, where it reads "\u001f<random>name": no one can type that.
_HOLE_MARK = "\x1f" + secrets.token_hex(8)
_ESCAPED_MARK = orjson.dumps(_HOLE_MARK).decode()[1:-1]
_TEMPLATE_COLUMNS = (
    "occurred_at", "actor_kind", "actor_id", "actor_label", "action", "target_type", "request_id",
)  # fmt: skip


def _marked(value: Any) -> Any:
    if isinstance(value, Hole):
        return _HOLE_MARK + value.name
    if isinstance(value, list | tuple):
        return [_marked(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _marked(item) for key, item in value.items()}
    return value


def json_bool(condition: ColumnElement[bool]) -> ColumnElement[str]:
    """A hole's canonical JSON text for a boolean column."""
    return case((condition, constant("true")), (not_(condition), constant("false")), else_=constant("null"))


@dataclass(frozen=True)
class SqlAppend:
    """PostgreSQL: the audit entry appended by the very statement that makes the change, so a door
    check-in is one round trip instead of two. Join `entries` (a CTE) into that statement: when the rows
    it was built from yield their one row (at most one: the head moves once), it appends the entry,
    hashing exactly as `record_change` would, and yields the entry's id.

    The statement only knows some of the entry's values (the holes: the target's id, columns it reads);
    Python renders the canonical JSON around them (`values`) and SQL splices in each hole's JSON text.
    """

    entries: CTE
    holes: tuple[str, ...]  # in the order of the canonical JSON, the target's id last

    def values(
        self,
        *,
        actor: Actor,
        action: str,
        target_type: str,
        changes: Mapping[str, Any],
        occurred_at: datetime,
        request_id: str,
    ) -> dict[str, Any] | None:
        """The bind parameters for an entry whose `changes` hold `Hole`s (and whose target id is the
        hole `target_id`); None when its canonical JSON does not split at the holes in the statement's
        order (append with `record_change` then)."""
        text = orjson.dumps(
            content(
                occurred_at=occurred_at,
                actor=(actor.kind, actor.id, actor.label),
                action=action,
                target=(target_type, _HOLE_MARK + "target_id"),
                changes=plain(_marked(dict(changes))),
                request_id=request_id,
            ),
            option=orjson.OPT_SORT_KEYS,
        ).decode()
        segments: list[str] = []
        rest = text
        for name in self.holes:
            mark = orjson.dumps(_HOLE_MARK + name).decode()
            if text.count(mark) != 1 or mark not in rest:
                return None
            before, rest = rest.split(mark)
            segments.append(before)
        segments.append(rest)
        if any(_ESCAPED_MARK in segment for segment in segments):
            return None  # a hole the statement does not fill
        return {
            "audit_in_statement": True,
            **{f"audit_part_{index}": segment for index, segment in enumerate(segments)},
            "audit_occurred_at": occurred_at,
            "audit_actor_kind": actor.kind,
            "audit_actor_id": actor.id,
            "audit_actor_label": actor.label,
            "audit_action": action,
            "audit_target_type": target_type,
            "audit_request_id": request_id,
        }

    def skipped(self) -> dict[str, Any]:
        """The bind parameters that leave the entry to `record_change` (when `values` gave None)."""
        return {
            "audit_in_statement": False,
            **{f"audit_part_{index}": "" for index in range(len(self.holes) + 1)},
            **{f"audit_{name}": None for name in _TEMPLATE_COLUMNS},
        }


def sql_append(rows: Select[Any], holes: Sequence[str]) -> SqlAppend:
    """Build the append for `rows` (at most one row), which selects `target_id` and, for each name in `holes`
    (in the order they take in the entry's canonical JSON: its keys sorted), that hole's JSON text
    (`json_bool`, a number cast to text, …). The target id's hole comes last, as `target` sorts last."""
    source = rows.where(bindparam("audit_in_statement", type_=Boolean)).cte("au_rows")
    names = (*holes, "target_id")
    quote = constant('"')
    filled = [*(source.c[name] for name in holes), quote + cast(source.c.target_id, String) + quote]
    segments = [bindparam(f"audit_part_{index}", type_=String) for index in range(len(names) + 1)]
    text: ColumnElement[str] = segments[0]
    for hole, segment in zip(filled, segments[1:], strict=True):
        text = text + hole + segment
    body = select(cast(source.c.target_id, String).label("target_id"), text.label("content")).cte("au_text")
    head = AuditChainHead
    digest = select(sha256_hex(body.c.content)).scalar_subquery()
    moved = (
        update(head)
        .where(head.id == 1, exists(select(body.c.content)))
        .values(seq=head.seq + 1, prev_hash=head.last_hash, last_hash=linked(head, digest))
        .returning(head.seq, head.prev_hash, head.last_hash)
        .cte("au_head")
    )
    entries = _ENTRIES
    values = select(
        *(bindparam(f"audit_{name}", type_=entries.c[name].type) for name in _TEMPLATE_COLUMNS),
        body.c.target_id,
        cast(body.c.content, postgresql.JSON).op("->")(constant("changes")),
        moved.c.seq,
        moved.c.prev_hash,
        moved.c.last_hash,
    ).select_from(moved.join(body, true()))
    inserted = (
        entries.insert()
        .from_select([*_TEMPLATE_COLUMNS, "target_id", "changes", "seq", "prev_hash", "entry_hash"], values)
        .returning(entries.c.id)
        .cte("au_entry")
    )
    return SqlAppend(inserted, names)
