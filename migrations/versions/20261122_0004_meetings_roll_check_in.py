"""meetings: meetings, stewards, frozen voter roll, differences, presence intervals, door log, snapshots

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22 13:00:00.000000

Read by hand. The partial unique index uq_attendances_active_member is the database's guarantee of
exactly one active presence per member per meeting (SQLite and PostgreSQL both support partial indexes).
"""

from alembic import op
import sqlalchemy as sa
import portal.core.database


revision = "0004"
down_revision = "0001"
branch_labels = ("meetings",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("starts_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("cutoff_date", sa.Date(), nullable=False),
        sa.Column(
            "rule_unit_scope",
            sa.Enum("ANY", "UNIT", "SUBTREE", name="unitscope", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rule_current_at_cutoff", sa.Boolean(), nullable=False),
        sa.Column("rule_dues_paid", sa.Boolean(), nullable=False),
        sa.Column("rule_min_membership_days", sa.Integer(), nullable=False),
        sa.Column("rule_exclude_suspended", sa.Boolean(), nullable=False),
        sa.Column(
            "quorum_kind",
            sa.Enum(
                "NONE", "SHARE_OF_ELIGIBLE", "FIXED_NUMBER", name="quorumkind", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("quorum_numerator", sa.Integer(), nullable=False),
        sa.Column("quorum_denominator", sa.Integer(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("roll_frozen_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.Column("roll_frozen_by", sa.String(length=200), nullable=False),
        sa.Column("eligible_count", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("pseudonymised_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_meetings_period")),
        sa.CheckConstraint(
            "quorum_denominator >= 1 AND quorum_numerator >= 0", name=op.f("ck_meetings_quorum")
        ),
        sa.CheckConstraint("retention_days >= 1", name=op.f("ck_meetings_retention_days")),
        sa.CheckConstraint("rule_min_membership_days >= 0", name=op.f("ck_meetings_min_membership_days")),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_meetings_org_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_org_unit_id"), ["org_unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_pseudonymised_at"), ["pseudonymised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("MEMBER", "GUEST", name="attendeekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("member_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("guest_note", sa.String(length=200), nullable=False),
        sa.Column("pseudonym", sa.String(length=16), nullable=False),
        sa.Column("may_vote", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.String(length=200), nullable=False),
        sa.Column(
            "method",
            sa.Enum("NUMBER", "QR", "SEARCH", "GUEST", name="checkinmethod", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("check_in_nonce", sa.String(length=64), nullable=False),
        sa.Column("checked_in_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("checked_in_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_in_by", sa.String(length=200), nullable=False),
        sa.Column("check_out_nonce", sa.String(length=64), nullable=True),
        sa.Column("checked_out_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.Column("checked_out_by", sa.String(length=200), nullable=False),
        sa.Column("is_override", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.String(length=500), nullable=False),
        sa.Column("override_by", sa.String(length=200), nullable=False),
        sa.Column("voting_card_number", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= checked_in_at", name=op.f("ck_attendances_interval")
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_attendances_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_attendances_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendances")),
        sa.UniqueConstraint("meeting_id", "check_in_nonce", name="uq_attendances_check_in_nonce"),
        sa.UniqueConstraint("meeting_id", "check_out_nonce", name="uq_attendances_check_out_nonce"),
    )
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.create_index("ix_attendances_meeting_open", ["meeting_id", "checked_out_at"], unique=False)
        batch_op.create_index("ix_attendances_member", ["member_id"], unique=False)
        batch_op.create_index(
            "uq_attendances_active_card",
            ["meeting_id", "voting_card_number"],
            unique=True,
            sqlite_where=sa.text("checked_out_at IS NULL AND voting_card_number IS NOT NULL"),
            postgresql_where=sa.text("checked_out_at IS NULL AND voting_card_number IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_attendances_active_member",
            ["meeting_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("checked_out_at IS NULL"),
            postgresql_where=sa.text("checked_out_at IS NULL"),
        )

    op.create_table(
        "check_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("steward_id", sa.Integer(), nullable=True),
        sa.Column("steward", sa.String(length=200), nullable=False),
        sa.Column(
            "method",
            sa.Enum("NUMBER", "QR", "SEARCH", "GUEST", name="checkinmethod", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("query", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_check_in_attempts_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_check_in_attempts_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_in_attempts")),
    )
    with op.batch_alter_table("check_in_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_check_in_attempts_meeting", ["meeting_id", "occurred_at"], unique=False)

    op.create_table(
        "meeting_stewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("ends_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_meeting_stewards_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_meeting_stewards_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_stewards")),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_meeting_stewards_meeting_member"),
    )
    with op.batch_alter_table("meeting_stewards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_stewards_member_id"), ["member_id"], unique=False)

    op.create_table(
        "presence_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("taken_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("taken_by", sa.String(length=200), nullable=False),
        sa.Column("present_count", sa.Integer(), nullable=False),
        sa.Column("voting_count", sa.Integer(), nullable=False),
        sa.Column("guest_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_presence_snapshots_meeting_id_meetings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_snapshots")),
    )
    with op.batch_alter_table("presence_snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_presence_snapshots_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "voter_roll_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("member_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("on_roll", sa.Boolean(), nullable=False),
        sa.Column("frozen_may_vote", sa.Boolean(), nullable=False),
        sa.Column("frozen_reasons", sa.String(length=200), nullable=False),
        sa.Column("current_may_vote", sa.Boolean(), nullable=False),
        sa.Column("current_reasons", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum("PENDING", "APPLIED", "DISMISSED", name="differencestate", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("detected_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_voter_roll_differences_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_voter_roll_differences_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_roll_differences")),
    )
    with op.batch_alter_table("voter_roll_differences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_voter_roll_differences_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(
            "uq_voter_roll_differences_pending",
            ["meeting_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("state = 'PENDING'"),
            postgresql_where=sa.text("state = 'PENDING'"),
        )

    op.create_table(
        "voter_roll_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("member_number", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.Column("may_vote", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.String(length=200), nullable=False),
        sa.Column("changed_at", portal.core.database.UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"], ["meetings.id"], name=op.f("fk_voter_roll_entries_meeting_id_meetings")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_voter_roll_entries_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_roll_entries")),
        sa.UniqueConstraint("meeting_id", "member_id", name="uq_voter_roll_entries_meeting_member"),
    )

    op.create_table(
        "voting_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("recorded_at", portal.core.database.UtcDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_voting_suspensions_period")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_voting_suspensions_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_suspensions")),
    )
    with op.batch_alter_table("voting_suspensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voting_suspensions_member_id"), ["member_id"], unique=False)

    op.create_table(
        "presence_snapshot_entries",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("attendance_id", sa.Integer(), nullable=False),
        sa.Column("may_vote", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendance_id"],
            ["attendances.id"],
            name=op.f("fk_presence_snapshot_entries_attendance_id_attendances"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["presence_snapshots.id"],
            name=op.f("fk_presence_snapshot_entries_snapshot_id_presence_snapshots"),
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "attendance_id", name=op.f("pk_presence_snapshot_entries")),
    )


def downgrade() -> None:
    op.drop_table("presence_snapshot_entries")
    with op.batch_alter_table("voting_suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voting_suspensions_member_id"))

    op.drop_table("voting_suspensions")

    op.drop_table("voter_roll_entries")
    with op.batch_alter_table("voter_roll_differences", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_voter_roll_differences_pending",
            sqlite_where=sa.text("state = 'PENDING'"),
            postgresql_where=sa.text("state = 'PENDING'"),
        )
        batch_op.drop_index(batch_op.f("ix_voter_roll_differences_meeting_id"))

    op.drop_table("voter_roll_differences")
    with op.batch_alter_table("presence_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_presence_snapshots_meeting_id"))

    op.drop_table("presence_snapshots")
    with op.batch_alter_table("meeting_stewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_stewards_member_id"))

    op.drop_table("meeting_stewards")
    with op.batch_alter_table("check_in_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_check_in_attempts_meeting")

    op.drop_table("check_in_attempts")
    with op.batch_alter_table("attendances", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_attendances_active_member",
            sqlite_where=sa.text("checked_out_at IS NULL"),
            postgresql_where=sa.text("checked_out_at IS NULL"),
        )
        batch_op.drop_index(
            "uq_attendances_active_card",
            sqlite_where=sa.text("checked_out_at IS NULL AND voting_card_number IS NOT NULL"),
            postgresql_where=sa.text("checked_out_at IS NULL AND voting_card_number IS NOT NULL"),
        )
        batch_op.drop_index("ix_attendances_member")
        batch_op.drop_index("ix_attendances_meeting_open")

    op.drop_table("attendances")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_starts_at"))
        batch_op.drop_index(batch_op.f("ix_meetings_pseudonymised_at"))
        batch_op.drop_index(batch_op.f("ix_meetings_org_unit_id"))

    op.drop_table("meetings")
