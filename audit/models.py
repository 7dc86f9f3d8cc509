"""Audit tables: the hash-chained mutation log and the read-access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import Table

from portal.core.database import Base

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One change: who did what to which record, as a `{field: [old, new]}` diff; never updated."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_target", "target_type", "target_id"),
        # One action's entries in chain order: the log page reads the newest of them without a sort.
        Index("ix_audit_entries_action_seq", "action", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)  # position in the hash chain
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str] = mapped_column(String(80))
    target_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str] = mapped_column(String(32), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """A single row holding the chain's last sequence number and hash; its row lock orders writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    # The hash before last_hash: an append's UPDATE … RETURNING hands it to the entry it inserts.
    prev_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH, server_default=GENESIS_HASH)
    # Entries from this seq on are linked by `chain.link_hash`; earlier ones (written before migration
    # 0006) by `chain.entry_digest`.
    linked_from: Mapped[int] = mapped_column(default=1, server_default="1")


@event.listens_for(AuditChainHead.__table__, "after_create")
def _insert_head_row(target: Table, connection: Connection, **_kw: Any) -> None:
    connection.execute(target.insert().values(id=1, seq=0, last_hash=GENESIS_HASH))


class ReadAccess(Base):
    """One look at another person's record or export: who, whose, when and why."""

    __tablename__ = "read_accesses"
    __table_args__ = (Index("ix_read_accesses_subject", "subject_member_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    subject_member_id: Mapped[int]
    purpose: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[str] = mapped_column(String(32), default="")
