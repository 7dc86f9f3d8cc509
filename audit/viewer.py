"""Reading the logs back: the mutation log filtered and paged newest first, and the read accesses of one
person. Keyset paging on the chain's sequence number (and the read log's id), so page 1,000 of a log of
millions costs what page 1 does."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, or_, select, text, union_all
from sqlalchemy.orm import Session

from audit.models import AuditChainHead, AuditEntry, ReadAccess

PAGE_SIZE = 50

# The distinct actions, one index probe each (a loose index scan), instead of reading the whole log.
_ACTIONS = text(
    """
    WITH RECURSIVE known(action) AS (
        SELECT min(action) FROM audit_entries
        UNION ALL
        SELECT (SELECT min(action) FROM audit_entries WHERE action > known.action)
        FROM known WHERE known.action IS NOT NULL
    )
    SELECT action FROM known WHERE action IS NOT NULL
    """
)


@dataclass(frozen=True)
class LogFilter:
    """What the admin narrowed the mutation log to; empty fields do not narrow. `actions` holds the
    exact action names asked for (one action, or every action of a family such as `members.`)."""

    actions: tuple[str, ...] = ()
    actor_id: int | None = None  # an account
    target_type: str = ""
    target_id: str = ""
    records: tuple[tuple[str, str], ...] = ()  # any of these (type, id): the records of one person
    since: datetime | None = None  # aware UTC, inclusive
    until: datetime | None = None  # aware UTC, exclusive

    def conditions(self, *, actions: bool = True) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.actions and actions:
            found.append(AuditEntry.action.in_(self.actions))
        if self.actor_id is not None:
            found.append(AuditEntry.actor_kind == "account")
            found.append(AuditEntry.actor_id == self.actor_id)
        if self.target_type:
            found.append(AuditEntry.target_type == self.target_type)
        if self.target_id:
            found.append(AuditEntry.target_id == self.target_id)
        if self.records:
            by_kind: dict[str, list[str]] = {}
            for kind, key in self.records:
                by_kind.setdefault(kind, []).append(key)
            found.append(
                or_(
                    *(
                        and_(AuditEntry.target_type == kind, AuditEntry.target_id.in_(keys))
                        for kind, keys in by_kind.items()
                    )
                )
            )
        if self.since is not None:
            found.append(AuditEntry.occurred_at >= self.since)
        if self.until is not None:
            found.append(AuditEntry.occurred_at < self.until)
        return found


@dataclass(frozen=True)
class Page:
    """One page of a log, newest first; `older` is the cursor of the next page, None on the last."""

    rows: list[Any] = field(default_factory=list)
    older: int | None = None


def known_actions(session: Session) -> list[str]:
    """Every action the log holds, in order."""
    return list(session.scalars(_ACTIONS))


def family_of(action: str) -> str:
    """`members.update` → `members`: the part before the first dot."""
    return action.split(".", 1)[0]


def chain_head(session: Session) -> tuple[int, str]:
    """The last sequence number written and its hash."""
    row = session.execute(select(AuditChainHead.seq, AuditChainHead.last_hash)).one()
    return int(row[0]), str(row[1])


def log_page(
    session: Session, wanted: LogFilter, *, before: int | None = None, size: int = PAGE_SIZE
) -> Page:
    """Entries matching `wanted`, newest first, below sequence number `before` if given.

    Several actions (a family) are read as the newest `size + 1` of each, along the action-and-sequence
    index, then merged: with `action IN (…)` SQLite sorted every entry of the family, 0.1 s per 100,000."""
    below = [AuditEntry.seq < before] if before is not None else []
    newest = AuditEntry.seq.desc()
    if len(wanted.actions) > 1:
        per_action = [
            select(AuditEntry.seq)
            .where(AuditEntry.action == action, *wanted.conditions(actions=False), *below)
            .order_by(newest)
            .limit(size + 1)
            .subquery()
            for action in wanted.actions
        ]
        seqs = union_all(*(select(part.c.seq) for part in per_action)).subquery()
        query = select(AuditEntry).where(AuditEntry.seq.in_(select(seqs.c.seq)))
    else:
        query = select(AuditEntry).where(*wanted.conditions(), *below)
    rows = list(session.scalars(query.order_by(newest).limit(size + 1)))
    older = rows[size - 1].seq if len(rows) > size else None
    return Page(rows=rows[:size], older=older)


def reads_page(
    session: Session,
    *,
    subject_member_ids: Collection[int] | None = None,
    actor_id: int | None = None,
    excluding_subject: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """Who looked at one person's data (under any of their member ids: a CRM merge leaves two), or whose
    data one account looked at (without `excluding_subject`, e.g. their own), and why, newest first."""
    if (subject_member_ids is None) == (actor_id is None):
        raise ValueError("reads_page reads by subject or by actor, one of the two")
    if subject_member_ids is not None:
        query = select(ReadAccess).where(ReadAccess.subject_member_id.in_(list(subject_member_ids)))
    else:
        query = select(ReadAccess).where(ReadAccess.actor_kind == "account", ReadAccess.actor_id == actor_id)
        if excluding_subject is not None:
            query = query.where(ReadAccess.subject_member_id != excluding_subject)
    if before is not None:
        query = query.where(ReadAccess.id < before)
    rows = list(session.scalars(query.order_by(ReadAccess.id.desc()).limit(size + 1)))
    older = rows[size - 1].id if len(rows) > size else None
    return Page(rows=rows[:size], older=older)


def count_matching(session: Session, wanted: LogFilter, *, cap: int = 10_000) -> tuple[int, bool]:
    """How many entries match, counted up to `cap` (a whole log of millions is not counted per page
    view); the flag says the cap was reached."""
    inner: Select[Any] = (
        select(literal_column("1")).select_from(AuditEntry).where(*wanted.conditions()).limit(cap + 1)
    )
    found = int(session.scalar(select(func.count()).select_from(inner.limit(cap + 1).subquery())) or 0)
    return min(found, cap), found > cap
