"""foundation: replica, audit, sync runs

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 12:19:50.020503
"""

from alembic import op
import sqlalchemy as sa
import portal.core.database


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    # The chain's single head row; every audit writer updates it (see audit.services.record_change).
    op.execute(sa.text("INSERT INTO audit_chain_head (id, seq, last_hash) VALUES (1, 0, :genesis)")
               .bindparams(genesis="0" * 64))
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('occurred_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('target_type', sa.String(length=80), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_entries_seq'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index('ix_audit_entries_target', ['target_type', 'target_id'], unique=False)

    op.create_table('org_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('NATIONAL', 'REGION', 'BRANCH', 'FACTION', 'KNOWLEDGE_GROUP', 'COMMITTEE', 'YOUTH_ORGANISATION', name='orgunitkind', native_enum=False, length=32), nullable=False),
    sa.Column('level', sa.Enum('NATIONAL', 'REGIONAL', 'LOCAL', name='orglevel', native_enum=False, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('municipality', sa.String(length=120), nullable=False),
    sa.Column('province', sa.String(length=120), nullable=False),
    sa.Column('synced_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('removed_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('crm_id', name=op.f('uq_org_units_crm_id'))
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_units_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_org_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('read_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('subject_member_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=80), nullable=False),
    sa.Column('request_id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_read_accesses'))
    )
    with op.batch_alter_table('read_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_read_accesses_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_read_accesses_subject', ['subject_member_id', 'occurred_at'], unique=False)

    op.create_table('sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('PULL_FULL', 'PULL_INCREMENTAL', 'RECONCILE', name='synckind', native_enum=False, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', name='syncoutcome', native_enum=False, length=32), nullable=False),
    sa.Column('adapter', sa.String(length=32), nullable=False),
    sa.Column('started_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_runs'))
    )
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_runs_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_runs_started_at'), ['started_at'], unique=False)

    op.create_table('sync_watermarks',
    sa.Column('stream', sa.String(length=64), nullable=False),
    sa.Column('position', sa.String(length=200), nullable=False),
    sa.Column('updated_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('stream', name=op.f('pk_sync_watermarks'))
    )
    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('member_number', sa.String(length=32), nullable=False),
    sa.Column('given_name', sa.String(length=120), nullable=False),
    sa.Column('infix', sa.String(length=40), nullable=False),
    sa.Column('family_name', sa.String(length=160), nullable=False),
    sa.Column('sort_name', sa.String(length=320), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('mobile', sa.String(length=32), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('street', sa.String(length=200), nullable=False),
    sa.Column('house_number', sa.Integer(), nullable=True),
    sa.Column('house_number_suffix', sa.String(length=16), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('NEW', 'CURRENT', 'GRACE', 'LAPSED', 'CANCELLED', 'DECEASED', name='membershipstatus', native_enum=False, length=32), nullable=False),
    sa.Column('member_since', sa.Date(), nullable=True),
    sa.Column('member_until', sa.Date(), nullable=True),
    sa.Column('dues_paid_through', sa.Date(), nullable=True),
    sa.Column('do_not_call', sa.Boolean(), nullable=False),
    sa.Column('do_not_email', sa.Boolean(), nullable=False),
    sa.Column('directory_consent', sa.Boolean(), nullable=False),
    sa.Column('interests', sa.JSON(), nullable=False),
    sa.Column('competences', sa.JSON(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('crm_modified_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('synced_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('removed_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_members_version_positive')),
    sa.ForeignKeyConstraint(['branch_id'], ['org_units.id'], name=op.f('fk_members_branch_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('crm_id', name=op.f('uq_members_crm_id')),
    sa.UniqueConstraint('member_number', name=op.f('uq_members_member_number'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_branch_status', ['branch_id', 'status'], unique=False)
        batch_op.create_index('ix_members_postcode', ['postcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_removed_at'), ['removed_at'], unique=False)
        batch_op.create_index('ix_members_sort_name', ['sort_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_members_status'), ['status'], unique=False)

    op.create_table('positions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crm_id', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('function', sa.Enum('CHAIR', 'SECRETARY', 'TREASURER', 'BOARD_MEMBER', 'COUNCIL_MEMBER', 'FACTION_LEADER', 'COORDINATOR', 'GROUP_MEMBER', 'STEWARD', 'MEMBERSHIP_ADMINISTRATOR', 'REGIONAL_SECRETARY', name='positionfunction', native_enum=False, length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('synced_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('removed_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_positions_period')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_positions_member_id_members')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_positions_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_positions')),
    sa.UniqueConstraint('crm_id', name=op.f('uq_positions_crm_id'))
    )
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_positions_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_positions_org_unit_function', ['org_unit_id', 'function'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('positions', schema=None) as batch_op:
        batch_op.drop_index('ix_positions_org_unit_function')
        batch_op.drop_index(batch_op.f('ix_positions_member_id'))

    op.drop_table('positions')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_members_status'))
        batch_op.drop_index('ix_members_sort_name')
        batch_op.drop_index(batch_op.f('ix_members_removed_at'))
        batch_op.drop_index('ix_members_postcode')
        batch_op.drop_index('ix_members_branch_status')

    op.drop_table('members')
    op.drop_table('sync_watermarks')
    with op.batch_alter_table('sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_runs_started_at'))
        batch_op.drop_index(batch_op.f('ix_sync_runs_outcome'))

    op.drop_table('sync_runs')
    with op.batch_alter_table('read_accesses', schema=None) as batch_op:
        batch_op.drop_index('ix_read_accesses_subject')
        batch_op.drop_index(batch_op.f('ix_read_accesses_actor_id'))

    op.drop_table('read_accesses')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_units_parent_id'))
        batch_op.drop_index(batch_op.f('ix_org_units_kind'))

    op.drop_table('org_units')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_target')
        batch_op.drop_index(batch_op.f('ix_audit_entries_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))

    op.drop_table('audit_entries')
    op.drop_table('audit_chain_head')
