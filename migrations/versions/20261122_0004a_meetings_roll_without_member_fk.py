"""meetings: the frozen voter roll keeps member_id without a foreign key to members

Revision ID: 0004a
Revises: 0004
Create Date: 2026-11-22 16:50:00

Read by hand. The roll is a snapshot: the freeze writes member ids it has just read from members in
the same transaction, members are never hard-deleted, and pseudonymisation sets member_id to NULL.
On PostgreSQL the per-row referential check cost ≈ 3.8 s of the 4.4 s COPY of a 400,000-member roll.
Lookups by (meeting, member) keep using uq_voter_roll_entries_meeting_member.
"""

from alembic import op


revision = "0004a"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voter_roll_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_voter_roll_entries_member_id_members", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("voter_roll_entries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_voter_roll_entries_member_id_members", "members", ["member_id"], ["id"]
        )
