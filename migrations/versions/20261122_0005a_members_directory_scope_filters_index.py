"""members directory: covering index for officers' searches without a name

Revision ID: 0005a
Revises: 0005
Create Date: 2026-11-22 15:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005a'
down_revision = '0005'
branch_labels = None
depends_on = None

CURRENT_ROWS = 'removed_at IS NULL'


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(
            'ix_members_scope_filters',
            ['branch_id', 'status', 'sort_name', 'id', 'birth_date', 'member_since', 'postcode', 'removed_at'],
            unique=False,
            postgresql_where=sa.text(CURRENT_ROWS),
            sqlite_where=sa.text(CURRENT_ROWS),
        )
    if op.get_bind().dialect.name == 'postgresql':
        # Fresh statistics for the planner (the index fill of 0005 may just have written 2 million rows).
        op.execute('ANALYZE members')
        op.execute('ANALYZE member_search_terms')


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_scope_filters', postgresql_where=sa.text(CURRENT_ROWS),
                            sqlite_where=sa.text(CURRENT_ROWS))
