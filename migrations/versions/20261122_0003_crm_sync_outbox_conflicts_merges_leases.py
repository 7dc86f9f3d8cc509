"""crm sync: outbox, sync conflicts, member merges, job leases

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 12:28:45.143846
"""

from alembic import op
import sqlalchemy as sa
import portal.core.database


revision = '0003'
down_revision = '0001'
branch_labels = ('crm_sync',)
depends_on = None


def upgrade() -> None:
    op.create_table('job_leases',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=False),
    sa.Column('expires_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_leases'))
    )
    op.create_table('member_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merged_member_id', sa.Integer(), nullable=False),
    sa.Column('survivor_member_id', sa.Integer(), nullable=False),
    sa.Column('detected_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_member_id'], ['members.id'], name=op.f('fk_member_merges_merged_member_id_members')),
    sa.ForeignKeyConstraint(['survivor_member_id'], ['members.id'], name=op.f('fk_member_merges_survivor_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_merges')),
    sa.UniqueConstraint('merged_member_id', name=op.f('uq_member_merges_merged_member_id'))
    )
    with op.batch_alter_table('member_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_merges_survivor_member_id'), ['survivor_member_id'], unique=False)

    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=36), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('operation', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'DELIVERED', 'CONFLICT', 'DEAD', 'DISCARDED', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('first_failed_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=64), nullable=False),
    sa.Column('delivered_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_outbox_messages_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_messages_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_member', ['member_id', 'status'], unique=False)

    op.create_table('sync_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('detected_by', sa.String(length=16), nullable=False),
    sa.Column('portal_value', sa.JSON(), nullable=True),
    sa.Column('crm_value', sa.JSON(), nullable=True),
    sa.Column('base_value', sa.JSON(), nullable=True),
    sa.Column('detected_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_sync_conflicts_member_id_members')),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_sync_conflicts_outbox_message_id_outbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_conflicts'))
    )
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_conflicts_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_sync_conflicts_open', ['resolved_at', 'detected_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sync_conflicts_outbox_message_id'), ['outbox_message_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sync_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_outbox_message_id'))
        batch_op.drop_index('ix_sync_conflicts_open')
        batch_op.drop_index(batch_op.f('ix_sync_conflicts_member_id'))

    op.drop_table('sync_conflicts')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_member')
        batch_op.drop_index('ix_outbox_messages_due')

    op.drop_table('outbox_messages')
    with op.batch_alter_table('member_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_merges_survivor_member_id'))

    op.drop_table('member_merges')
    op.drop_table('job_leases')
