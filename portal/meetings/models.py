"""Meeting tables: meetings, stewards, the frozen voter roll, presence intervals and the door log."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.database import Base
from portal.meetings.eligibility import UnitScope
from portal.meetings.quorum import QuorumKind
from portal.members.models import OrgUnit

ACTIVE = text("checked_out_at IS NULL")
ACTIVE_WITH_CARD = text("checked_out_at IS NULL AND voting_card_number IS NOT NULL")
PENDING = text("state = 'PENDING'")


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class AttendeeKind(enum.Enum):
    """A member of the party, or a guest (press, observer, non-member) without a voting right."""

    MEMBER = "member"
    GUEST = "guest"


class CheckInMethod(enum.Enum):
    """How the steward found the person."""

    NUMBER = "number"
    QR = "qr"
    SEARCH = "search"
    GUEST = "guest"


class DifferenceState(enum.Enum):
    """A change in the replica after the freeze, waiting for the chair."""

    PENDING = "pending"
    APPLIED = "applied"
    DISMISSED = "dismissed"


class Meeting(Base):
    """A general meeting of an org unit with its voting-rights rule, cut-off date and quorum rule."""

    __tablename__ = "meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="period"),
        CheckConstraint("quorum_denominator >= 1 AND quorum_numerator >= 0", name="quorum"),
        CheckConstraint("rule_min_membership_days >= 0", name="min_membership_days"),
        CheckConstraint("retention_days >= 1", name="retention_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200), default="")
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    cutoff_date: Mapped[date]  # peildatum
    rule_unit_scope: Mapped[UnitScope] = mapped_column(_enum(UnitScope), default=UnitScope.SUBTREE)
    rule_current_at_cutoff: Mapped[bool] = mapped_column(default=True)
    rule_dues_paid: Mapped[bool] = mapped_column(default=False)
    rule_min_membership_days: Mapped[int] = mapped_column(default=0)
    rule_exclude_suspended: Mapped[bool] = mapped_column(default=True)
    quorum_kind: Mapped[QuorumKind] = mapped_column(_enum(QuorumKind), default=QuorumKind.NONE)
    quorum_numerator: Mapped[int] = mapped_column(default=0)
    quorum_denominator: Mapped[int] = mapped_column(default=1)
    retention_days: Mapped[int] = mapped_column(default=90)
    roll_frozen_at: Mapped[datetime | None]
    roll_frozen_by: Mapped[str] = mapped_column(String(200), default="")
    eligible_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    pseudonymised_at: Mapped[datetime | None] = mapped_column(index=True)

    org_unit: Mapped[OrgUnit] = relationship()

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.title!r}>"


class StewardAssignment(Base):
    """A member who may work the door of one meeting; the right ends with the meeting."""

    __tablename__ = "meeting_stewards"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", name="uq_meeting_stewards_meeting_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    ends_at: Mapped[datetime]
    assigned_at: Mapped[datetime]
    assigned_by: Mapped[str] = mapped_column(String(200), default="")
    revoked_at: Mapped[datetime | None]


class VoterRollEntry(Base):
    """One member on the roll frozen at the cut-off: may they vote, and if not, why not."""

    __tablename__ = "voter_roll_entries"
    __table_args__ = (
        UniqueConstraint("meeting_id", "member_id", name="uq_voter_roll_entries_meeting_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    # No foreign key to members on purpose (migration 0004a): the roll is a frozen snapshot written
    # by the freeze from the members it read in its own transaction, members are never hard-deleted,
    # and pseudonymisation sets this to NULL. PostgreSQL's per-row RI check cost ≈ 3.8 s of the 4.4 s
    # COPY of a national roll. Lookups go through uq_voter_roll_entries_meeting_member.
    member_id: Mapped[int | None]  # NULL once pseudonymised
    member_number: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(320), default="")  # formal name at the freeze
    may_vote: Mapped[bool]
    reasons: Mapped[str] = mapped_column(String(200), default="")  # comma-separated reason codes
    changed_at: Mapped[datetime | None]  # when the chair applied a later difference


class RollDifference(Base):
    """A replica change after the freeze that would change a verdict; applied only by the chair."""

    __tablename__ = "voter_roll_differences"
    __table_args__ = (
        Index(
            "uq_voter_roll_differences_pending",
            "meeting_id",
            "member_id",
            unique=True,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    member_number: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(320), default="")
    on_roll: Mapped[bool]  # False: the member was not on the roll at all
    frozen_may_vote: Mapped[bool]
    frozen_reasons: Mapped[str] = mapped_column(String(200), default="")
    current_may_vote: Mapped[bool]
    current_reasons: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[DifferenceState] = mapped_column(_enum(DifferenceState), default=DifferenceState.PENDING)
    detected_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str] = mapped_column(String(200), default="")


class Attendance(Base):
    """One presence interval at a meeting: checked in, and later checked out (re-entry is a new row)."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("meeting_id", "check_in_nonce", name="uq_attendances_check_in_nonce"),
        UniqueConstraint("meeting_id", "check_out_nonce", name="uq_attendances_check_out_nonce"),
        # Exactly one active presence per member per meeting, enforced by the database.
        Index(
            "uq_attendances_active_member",
            "meeting_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        Index(
            "uq_attendances_active_card",
            "meeting_id",
            "voting_card_number",
            unique=True,
            sqlite_where=ACTIVE_WITH_CARD,
            postgresql_where=ACTIVE_WITH_CARD,
        ),
        Index("ix_attendances_meeting_open", "meeting_id", "checked_out_at"),
        Index("ix_attendances_member", "member_id"),
        CheckConstraint("checked_out_at IS NULL OR checked_out_at >= checked_in_at", name="interval"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    kind: Mapped[AttendeeKind] = mapped_column(_enum(AttendeeKind))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # NULL: guest, or pseudonymised
    member_number: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(320), default="")
    guest_note: Mapped[str] = mapped_column(String(200), default="")  # "press", "observer", …
    pseudonym: Mapped[str] = mapped_column(String(16), default="")
    may_vote: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[CheckInMethod] = mapped_column(_enum(CheckInMethod))
    check_in_nonce: Mapped[str] = mapped_column(String(64))
    checked_in_at: Mapped[datetime]
    checked_in_by_id: Mapped[int | None]
    checked_in_by: Mapped[str] = mapped_column(String(200), default="")
    check_out_nonce: Mapped[str | None] = mapped_column(String(64))
    checked_out_at: Mapped[datetime | None]
    checked_out_by: Mapped[str] = mapped_column(String(200), default="")
    is_override: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str] = mapped_column(String(500), default="")
    override_by: Mapped[str] = mapped_column(String(200), default="")
    voting_card_number: Mapped[str | None] = mapped_column(String(32))


class CheckInAttempt(Base):
    """A door look-up that did not admit anyone: unknown number, bad QR code, non-member, duplicate."""

    __tablename__ = "check_in_attempts"
    __table_args__ = (Index("ix_check_in_attempts_meeting", "meeting_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    occurred_at: Mapped[datetime]
    steward_id: Mapped[int | None]
    steward: Mapped[str] = mapped_column(String(200), default="")
    method: Mapped[CheckInMethod] = mapped_column(_enum(CheckInMethod))
    query: Mapped[str] = mapped_column(String(64), default="")  # what was typed or scanned (cut short)
    outcome: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class PresenceSnapshot(Base):
    """Who was present at one moment (before a vote), frozen with its counts."""

    __tablename__ = "presence_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[datetime]
    taken_by: Mapped[str] = mapped_column(String(200), default="")
    present_count: Mapped[int]
    voting_count: Mapped[int]
    guest_count: Mapped[int]


class PresenceSnapshotEntry(Base):
    """One presence interval that was open when the snapshot was taken."""

    __tablename__ = "presence_snapshot_entries"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("presence_snapshots.id"), primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("attendances.id"), primary_key=True)
    may_vote: Mapped[bool]


class VotingSuspension(Base):
    """A member's voting right suspended by a party body (schorsing) for a period."""

    __tablename__ = "voting_suspensions"
    __table_args__ = (CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(String(500), default="")
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200), default="")
