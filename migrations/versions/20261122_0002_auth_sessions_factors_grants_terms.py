"""auth: accounts, server-side sessions, second factors, role grants, terms gate

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:33:07.607583

Read by hand: only the auth tables (autogenerate also saw tables of branches written in parallel).
Enums are stored by name (native_enum=False). The check constraints on role_grants keep explicit grants
with an end date and a reason, and derived grants tied to their position, in the database too.
"""

from alembic import op
import sqlalchemy as sa
import portal.core.database


revision = '0002'
down_revision = '0001'
branch_labels = ('auth',)
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttles',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_sign_in_throttles'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('password_changed_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('totp_secret_encrypted', sa.String(length=255), nullable=True),
    sa.Column('totp_enrolled_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('factor_failures', sa.Integer(), nullable=False),
    sa.Column('factor_locked_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('disabled_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=300), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.CheckConstraint('factor_failures >= 0', name=op.f('ck_accounts_factor_failures_positive')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_accounts_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('member_id', name=op.f('uq_accounts_member_id'))
    )
    op.create_table('password_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('ACTIVATE', 'RESET', name='linkpurpose', native_enum=False, length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_password_links_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_password_links_token_hash'))
    )
    with op.batch_alter_table('password_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_password_links_member_id'), ['member_id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('stage', sa.Enum('ANONYMOUS', 'PASSWORD_OK', 'ENROLLING', 'FULLY_AUTHENTICATED', name='sessionstage', native_enum=False, length=32), nullable=False),
    sa.Column('factor', sa.String(length=16), nullable=False),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.Column('authenticated_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=40), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('failed_codes', sa.Integer(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_login_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_login_sessions_token_hash'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_account_open', ['account_id', 'ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_ended_at'), ['ended_at'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('used_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_recovery_codes_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_account_id'), ['account_id'], unique=False)

    op.create_table('role_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('BRANCH_BOARD', 'REGIONAL_OFFICER', 'NATIONAL_ADMINISTRATOR', 'STEWARD', 'ADMIN', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('scope_unit_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('POSITION', 'EXPLICIT', name='grantsource', native_enum=False, length=32), nullable=False),
    sa.Column('source_position_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('granted_by_account_id', sa.Integer(), nullable=True),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source <> 'EXPLICIT' OR (ends_at IS NOT NULL AND length(reason) > 0)", name=op.f('ck_role_grants_explicit_has_end')),
    sa.CheckConstraint("source <> 'POSITION' OR source_position_id IS NOT NULL", name=op.f('ck_role_grants_derived_has_position')),
    sa.ForeignKeyConstraint(['granted_by_account_id'], ['accounts.id'], name=op.f('fk_role_grants_granted_by_account_id_accounts')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_role_grants_member_id_members')),
    sa.ForeignKeyConstraint(['scope_unit_id'], ['org_units.id'], name=op.f('fk_role_grants_scope_unit_id_org_units')),
    sa.ForeignKeyConstraint(['source_position_id'], ['positions.id'], name=op.f('fk_role_grants_source_position_id_positions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants'))
    )
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.create_index('ix_role_grants_member_ends', ['member_id', 'ends_at'], unique=False)

    op.create_table('terms_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('published_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('requires_reacceptance', sa.Boolean(), nullable=False),
    sa.Column('published_by_account_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_account_id'], ['accounts.id'], name=op.f('fk_terms_versions_published_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_versions')),
    sa.UniqueConstraint('version', name=op.f('uq_terms_versions_version'))
    )
    op.create_table('email_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('login_session_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('used_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.Column('superseded_at', portal.core.database.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_email_codes_account_id_accounts')),
    sa.ForeignKeyConstraint(['login_session_id'], ['login_sessions.id'], name=op.f('fk_email_codes_login_session_id_login_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_codes'))
    )
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_codes_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_codes_login_session_id'), ['login_session_id'], unique=False)

    op.create_table('terms_acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('terms_version_id', sa.Integer(), nullable=False),
    sa.Column('accepted_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', portal.core.database.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_terms_acceptances_account_id_accounts')),
    sa.ForeignKeyConstraint(['terms_version_id'], ['terms_versions.id'], name=op.f('fk_terms_acceptances_terms_version_id_terms_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terms_acceptances'))
    )
    with op.batch_alter_table('terms_acceptances', schema=None) as batch_op:
        batch_op.create_index('ix_terms_acceptances_account_expires', ['account_id', 'expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('terms_acceptances', schema=None) as batch_op:
        batch_op.drop_index('ix_terms_acceptances_account_expires')

    op.drop_table('terms_acceptances')
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_codes_login_session_id'))
        batch_op.drop_index(batch_op.f('ix_email_codes_account_id'))

    op.drop_table('email_codes')
    op.drop_table('terms_versions')
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_index('ix_role_grants_member_ends')

    op.drop_table('role_grants')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_account_id'))

    op.drop_table('recovery_codes')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_ended_at'))
        batch_op.drop_index('ix_login_sessions_account_open')

    op.drop_table('login_sessions')
    with op.batch_alter_table('password_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_password_links_member_id'))

    op.drop_table('password_links')
    op.drop_table('accounts')
    op.drop_table('sign_in_throttles')
