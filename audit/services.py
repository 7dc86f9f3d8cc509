"""Writing and checking the audit log; every feature records its changes through `record_change`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import String, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from audit.chain import body_digest, content, entry_digest, link_hash, plain
from audit.models import GENESIS_HASH, AuditChainHead, AuditEntry, ReadAccess
from audit.sql_append import linked
from portal.core import context
from portal.core.actors import Actor
from portal.core.clock import utcnow


class Identified(Protocol):
    """Any mapped row: its table name and primary key name the audit target."""

    __tablename__: str
    id: Any


Target = Identified | tuple[str, str | int]


def _target_key(target: Target) -> tuple[str, str]:
    if isinstance(target, tuple):
        return target[0], str(target[1])
    return target.__tablename__, str(target.id)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value differs."""
    return {
        name: [plain(before.get(name)), plain(after.get(name))]
        for name in after
        if plain(before.get(name)) != plain(after.get(name))
    }


@dataclass(frozen=True)
class RecordedEntry:
    """What `record_change` wrote: the entry's id and its place in the chain."""

    id: int
    seq: int
    entry_hash: str


_ENTRIES: Table = AuditEntry.__table__  # type: ignore[assignment]  # declarative tables are Tables
_HEAD = select(AuditChainHead.seq, AuditChainHead.last_hash).where(AuditChainHead.id == 1)
_CONTENT_COLUMNS = (
    "occurred_at", "actor_kind", "actor_id", "actor_label", "action", "target_type", "target_id",
    "changes", "request_id",
)  # fmt: skip


def _append_in_one_statement() -> Any:
    """PostgreSQL: move the head on by one, hashing in SQL exactly as `chain.link_hash` does, and
    insert the entry at the place it got (a data-modifying CTE). Writers queue on the head's row lock,
    taken by this last statement before the caller commits; a writer that waited continues from the
    head as the one before it left it, so no append is ever retried."""
    head = AuditChainHead
    moved = (
        update(head)
        .where(head.id == 1)
        .values(
            seq=head.seq + 1,
            prev_hash=head.last_hash,
            last_hash=linked(head, bindparam("body_digest", type_=String)),
        )
        .returning(head.seq, head.prev_hash, head.last_hash)
        .cte("moved")
    )
    entries = _ENTRIES
    values = select(
        *(bindparam(name, type_=entries.c[name].type) for name in _CONTENT_COLUMNS),
        moved.c.seq,
        moved.c.prev_hash,
        moved.c.last_hash,
    )
    return (
        entries.insert()
        .from_select([*_CONTENT_COLUMNS, "seq", "prev_hash", "entry_hash"], values)
        .returning(entries.c.id, entries.c.seq, entries.c.entry_hash)
    )


_APPEND = _append_in_one_statement()
# SQLite: read the head, then move it only if it is still there (compare-and-swap), then insert the
# entry. Writers hold the write lock from BEGIN IMMEDIATE, so the swap is a guard, not a queue.
_MOVE_HEAD = (
    update(AuditChainHead)
    .where(AuditChainHead.id == 1, AuditChainHead.seq == bindparam("prev_seq"))
    .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), last_hash=bindparam("entry_hash"))
)
_INSERT_ENTRY = _ENTRIES.insert().returning(_ENTRIES.c.id)


def _entry(
    actor: Actor,
    action: str,
    target: Target,
    changes: Mapping[str, Any],
    *,
    occurred_at: datetime,
    request_id: str,
) -> dict[str, Any]:
    """An entry's content columns (see `_chain` for its place in the chain) and its `body_digest`."""
    target_type, target_id = _target_key(target)
    values = {
        "occurred_at": occurred_at,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "changes": plain(dict(changes)),
        "request_id": request_id,
    }
    values["body_digest"] = body_digest(
        content(
            occurred_at=occurred_at,
            actor=(actor.kind, actor.id, actor.label),
            action=action,
            target=(target_type, target_id),
            changes=values["changes"],
            request_id=request_id,
        )
    )
    return values


def _chain(values: dict[str, Any], *, seq: int, prev_hash: str) -> str:
    """Place the entry at `seq` after `prev_hash`: sets seq, prev_hash and entry_hash; returns the hash."""
    entry_hash = link_hash(prev_hash, seq, values["body_digest"])
    values.update(seq=seq, prev_hash=prev_hash, entry_hash=entry_hash)
    return entry_hash


def record_change(
    session: Session,
    *,
    actor: Actor,
    action: str,
    target: Target,
    changes: Mapping[str, Any],
) -> RecordedEntry:
    """Append one entry to the hash chain inside the caller's transaction (the caller commits)."""
    values = _entry(actor, action, target, changes, occurred_at=utcnow(), request_id=context.request_id.get())
    connection = session.connection()  # flushes the caller's pending rows first
    if connection.dialect.name == "postgresql":
        entry_id, seq, entry_hash = connection.execute(_APPEND, values).one()
        return RecordedEntry(entry_id, seq, entry_hash)
    while True:
        prev_seq, prev_hash = connection.execute(_HEAD).one()
        entry_hash = _chain(values, seq=prev_seq + 1, prev_hash=prev_hash)
        if connection.execute(_MOVE_HEAD, {**values, "prev_seq": prev_seq}).rowcount == 1:
            entry_id = connection.execute(_INSERT_ENTRY, values).scalar_one()
            return RecordedEntry(entry_id, values["seq"], entry_hash)


def record_read(session: Session, *, actor: Actor, subject_member_id: int, purpose: str) -> None:
    """Note that `actor` looked at another member's data (GDPR art. 15 lists these back)."""
    session.add(
        ReadAccess(
            occurred_at=utcnow(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            subject_member_id=subject_member_id,
            purpose=purpose,
            request_id=context.request_id.get(),
        )
    )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many entries, and the first broken one if any."""

    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    @property
    def is_intact(self) -> bool:
        """True when every entry and the head agree."""
        return self.broken_seq is None


def _entries_in_order(session: Session, batch: int = 5000) -> Iterator[AuditEntry]:
    last_seq = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seq).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq
        session.expunge_all()


def _recomputed(entry: AuditEntry, linked_from: int) -> str:
    entry_content = content(
        occurred_at=entry.occurred_at,
        actor=(entry.actor_kind, entry.actor_id, entry.actor_label),
        action=entry.action,
        target=(entry.target_type, entry.target_id),
        changes=entry.changes,
        request_id=entry.request_id,
    )
    if entry.seq >= linked_from:
        return link_hash(entry.prev_hash, entry.seq, body_digest(entry_content))
    return entry_digest(entry.prev_hash, entry.seq, entry_content)


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in sequence order and name the first entry that does not fit."""
    # Only where the format changed is read first: the head itself is compared after the walk, so that
    # entries appended while it ran do not look like removed ones.
    linked_from = session.scalar(select(AuditChainHead.linked_from).where(AuditChainHead.id == 1)) or 1
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for entry in _entries_in_order(session):
        if entry.seq != expected_seq:
            return ChainReport(checked, expected_seq, None, f"entry {expected_seq} is missing")
        if entry.prev_hash != expected_prev:
            return ChainReport(checked, entry.seq, entry.id, "does not follow the previous entry")
        if _recomputed(entry, linked_from) != entry.entry_hash:
            return ChainReport(checked, entry.seq, entry.id, "its content was changed after it was written")
        expected_prev = entry.entry_hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditChainHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != expected_prev):
        return ChainReport(checked, checked + 1, None, "the newest entries were removed")
    return ChainReport(checked)


def record_changes(
    session: Session,
    *,
    actor: Actor,
    entries: list[tuple[str, Target, Mapping[str, Any]]],
) -> int:
    """Append many `(action, target, changes)` entries with one head update (the pull uses this)."""
    if not entries:
        return 0
    first_seq, prev_hash = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq + len(entries))
        .returning(AuditChainHead.seq - len(entries) + 1, AuditChainHead.last_hash)
    ).one()
    occurred_at, request_id = utcnow(), context.request_id.get()
    rows: list[dict[str, Any]] = []
    for offset, (action, target, changes) in enumerate(entries):
        row = _entry(actor, action, target, changes, occurred_at=occurred_at, request_id=request_id)
        prev_hash = _chain(row, seq=first_seq + offset, prev_hash=prev_hash)
        rows.append(row)
    session.execute(insert(AuditEntry), rows)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(prev_hash=rows[-1]["prev_hash"], last_hash=prev_hash)
    )
    return len(rows)
