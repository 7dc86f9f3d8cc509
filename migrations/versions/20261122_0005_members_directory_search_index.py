"""members directory: name-search index

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 12:40:00
"""

from alembic import op
import sqlalchemy as sa
import portal.core.database
from portal.members.name_search import member_terms


revision = '0005'
down_revision = '0001'
branch_labels = ('members_directory',)
depends_on = None

TERM = sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql')


def upgrade() -> None:
    op.create_table('member_search_terms',
    sa.Column('term', TERM, nullable=False),
    sa.Column('sort_name', TERM, nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_member_search_terms_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'sort_name', 'member_id', name=op.f('pk_member_search_terms')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('member_search_terms', schema=None) as batch_op:
        batch_op.create_index('ix_member_search_terms_member_term', ['member_id', 'term'], unique=False)
        batch_op.create_index('ix_member_search_terms_interest_branch', ['term', 'branch_id', 'member_id'],
                              unique=False, postgresql_where=sa.text("term < '0'"), sqlite_where=sa.text("term < '0'"))
    _fill_index()


def _fill_index() -> None:
    """Index the members already in the replica (a new install has none; `flask members reindex` redoes it)."""
    connection = op.get_bind()
    members = sa.table('members', sa.column('id'), sa.column('given_name'), sa.column('infix'),
                       sa.column('family_name'), sa.column('interests', sa.JSON()), sa.column('removed_at'),
                       sa.column('branch_id'), sa.column('sort_name'))
    terms = sa.table('member_search_terms', sa.column('term'), sa.column('sort_name'), sa.column('member_id'),
                     sa.column('branch_id'))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(members.c.id, members.c.given_name, members.c.infix, members.c.family_name,
                      members.c.interests, members.c.branch_id, members.c.sort_name)
            .where(members.c.id > last_id, members.c.removed_at.is_(None))
            .order_by(members.c.id).limit(5000)
        ).all()
        if not rows:
            return
        batch = [
            {'term': term, 'sort_name': row.sort_name[:64], 'member_id': row.id, 'branch_id': row.branch_id}
            for row in rows
            for term in member_terms(row.given_name, row.infix, row.family_name, row.interests or [])
        ]
        if batch:
            connection.execute(terms.insert(), batch)
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table('member_search_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_member_search_terms_interest_branch')
        batch_op.drop_index('ix_member_search_terms_member_term')

    op.drop_table('member_search_terms')
