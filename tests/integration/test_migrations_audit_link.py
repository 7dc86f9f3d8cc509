"""Migration 0006: entries written before it keep their first-format hashes and still verify; new ones
are linked by `chain.link_hash`, and going back below 0006 is refused once such entries exist."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text, update

from audit.chain import content, entry_digest
from audit.models import GENESIS_HASH, AuditChainHead, AuditEntry
from audit.services import record_change, verify_chain
from portal.core import schema
from portal.core.actors import Actor
from portal.core.database import Database

ALICE = Actor.account(7, "Alice Officer")


def _write_first_format_entries(url: str, count: int) -> None:
    """What the code before 0006 wrote: `entry_digest` over the entry including its number."""
    database = Database(url)
    prev_hash = GENESIS_HASH
    with database.engine.begin() as connection:
        for seq in range(1, count + 1):
            row = {
                "seq": seq,
                "occurred_at": datetime(2026, 11, 1, 12, seq, tzinfo=UTC),
                "actor_kind": "account",
                "actor_id": 7,
                "actor_label": "Alice Officer",
                "action": "member.updated",
                "target_type": "members",
                "target_id": str(seq),
                "changes": {"phone": [None, f"+3161234567{seq}"]},
                "request_id": "",
                "prev_hash": prev_hash,
            }
            row["entry_hash"] = entry_digest(
                prev_hash,
                seq,
                content(
                    occurred_at=row["occurred_at"],
                    actor=("account", 7, "Alice Officer"),
                    action="member.updated",
                    target=("members", str(seq)),
                    changes=row["changes"],
                    request_id="",
                ),
            )
            connection.execute(insert(AuditEntry.__table__), row)
            prev_hash = row["entry_hash"]
        connection.execute(
            text("UPDATE audit_chain_head SET seq = :seq, last_hash = :hash"),
            {"seq": count, "hash": prev_hash},
        )
    database.dispose()


def test_first_format_entries_still_verify_and_new_ones_are_linked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    schema.upgrade(url, "0005a")
    _write_first_format_entries(url, 3)

    schema.upgrade(url)

    database = Database(url)
    try:
        with database.transaction() as session:
            for index in (4, 5):
                record_change(
                    session,
                    actor=ALICE,
                    action="member.updated",
                    target=("members", index),
                    changes={"x": [1, 2]},
                )
        with database.session() as session:
            assert session.get(AuditChainHead, 1).linked_from == 4  # type: ignore[union-attr]
            report = verify_chain(session)
            assert report.is_intact, report
            assert report.checked == 5
        with database.transaction() as session:  # an old entry is still checked with the old formula
            session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor_label="Mallory"))
        with database.session() as session:
            report = verify_chain(session)
            assert (report.broken_seq, report.reason) == (2, "its content was changed after it was written")
            assert session.scalar(select(AuditEntry.prev_hash).where(AuditEntry.seq == 4)) == session.scalar(
                select(AuditEntry.entry_hash).where(AuditEntry.seq == 3)
            )
    finally:
        database.dispose()
    with pytest.raises(RuntimeError, match="2 audit entries use the linked format"):
        schema.downgrade(url, "0005a")
