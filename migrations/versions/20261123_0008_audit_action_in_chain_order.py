"""audit entries: the action index carries the chain's order, for the admins' log page

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-23 06:30:00

On a large PostgreSQL log, build the new index first by hand with CREATE INDEX CONCURRENTLY under the same
name; this migration then only drops the old one.
"""

from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0006"  # the audit branch
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    existing = {index["name"] for index in sa.inspect(bind).get_indexes("audit_entries")}
    if bind.dialect.name == "postgresql" and "ix_audit_entries_action_seq" in existing:
        # A CREATE INDEX CONCURRENTLY that failed leaves an invalid index under the name: build it again.
        valid = bind.execute(
            sa.text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = 'ix_audit_entries_action_seq'"
            )
        ).scalar()
        if not valid:
            op.drop_index("ix_audit_entries_action_seq", table_name="audit_entries")
            existing.discard("ix_audit_entries_action_seq")
    if "ix_audit_entries_action_seq" not in existing:
        op.create_index("ix_audit_entries_action_seq", "audit_entries", ["action", "seq"], unique=False)
    op.drop_index("ix_audit_entries_action", table_name="audit_entries")


def downgrade() -> None:
    op.create_index("ix_audit_entries_action", "audit_entries", ["action"], unique=False)
    op.drop_index("ix_audit_entries_action_seq", table_name="audit_entries")
