"""audit chain head: the previous hash and where link_hash starts, for one-statement appends

Revision ID: 0006
Revises: 0005a
Create Date: 2026-11-22 21:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005a"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prev_hash", sa.String(length=64), server_default=GENESIS_HASH, nullable=False)
        )
        batch_op.add_column(sa.Column("linked_from", sa.Integer(), server_default="1", nullable=False))
    # The entries written so far keep their first-format hashes; the next one is linked the new way.
    op.execute(sa.text("UPDATE audit_chain_head SET linked_from = seq + 1"))


def downgrade() -> None:
    # Entries linked the new way would no longer verify under the first format: refuse rather than
    # leave a chain that reports itself broken.
    linked = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT COUNT(*) FROM audit_entries, audit_chain_head WHERE audit_entries.seq >= audit_chain_head.linked_from"
            )
        )
        .scalar()
    )
    if linked:
        raise RuntimeError(f"{linked} audit entries use the linked format of 0006; cannot go below 0006.")
    with op.batch_alter_table("audit_chain_head", schema=None) as batch_op:
        batch_op.drop_column("linked_from")
        batch_op.drop_column("prev_hash")
