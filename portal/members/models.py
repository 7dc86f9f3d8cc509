"""The replica of the CRM: org units, members and positions."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.database import Base
from portal.members import names

CURRENT_ROWS = "removed_at IS NULL"  # members the replica still holds (removal is a tombstone)


class OrgUnitKind(enum.Enum):
    """What kind of body an org unit is."""

    NATIONAL = "national"
    REGION = "region"
    BRANCH = "branch"  # afdeling
    FACTION = "faction"  # fractie (council, provincial states, parliament)
    KNOWLEDGE_GROUP = "knowledge_group"  # kennisgroep / thema-afdeling
    COMMITTEE = "committee"
    YOUTH_ORGANISATION = "youth_organisation"


class OrgLevel(enum.Enum):
    """The level at which an org unit works."""

    NATIONAL = "national"
    REGIONAL = "regional"
    LOCAL = "local"


class MembershipStatus(enum.Enum):
    """Membership status as the CRM keeps it."""

    NEW = "new"
    CURRENT = "current"
    GRACE = "grace"
    LAPSED = "lapsed"
    CANCELLED = "cancelled"
    DECEASED = "deceased"

    @property
    def is_member(self) -> bool:
        """Whether someone with this status counts as a member (voting rights are a separate rule)."""
        return self in {MembershipStatus.NEW, MembershipStatus.CURRENT, MembershipStatus.GRACE}


class PositionFunction(enum.Enum):
    """A member's function in an org unit."""

    CHAIR = "chair"
    SECRETARY = "secretary"
    TREASURER = "treasurer"
    BOARD_MEMBER = "board_member"
    COUNCIL_MEMBER = "council_member"
    FACTION_LEADER = "faction_leader"
    COORDINATOR = "coordinator"
    GROUP_MEMBER = "group_member"
    STEWARD = "steward"
    MEMBERSHIP_ADMINISTRATOR = "membership_administrator"
    REGIONAL_SECRETARY = "regional_secretary"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class OrgUnit(Base):
    """A body of the party: national, region, branch, faction, knowledge group, committee, youth."""

    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    code: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgUnitKind] = mapped_column(_enum(OrgUnitKind), index=True)
    level: Mapped[OrgLevel] = mapped_column(_enum(OrgLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    municipality: Mapped[str] = mapped_column(String(120), default="")
    province: Mapped[str] = mapped_column(String(120), default="")
    synced_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.kind.value} {self.name!r}>"


class Member(Base):
    """A person as the CRM knows them; written only by the pull and by portal edits."""

    __tablename__ = "members"
    __table_args__ = (
        Index("ix_members_sort_name", "sort_name"),
        Index("ix_members_branch_status", "branch_id", "status"),
        Index("ix_members_postcode", "postcode"),
        # An officer's search without a name: a region is ~110 branches whose 33,000 members lie on every
        # page of the table; this index holds every column those filters read, so the search reads the
        # index only (PostgreSQL: index-only scan, SQLite: covering index), never the member rows.
        # Status second: SQLite otherwise prefers (branch_id, status) above and reads 25,000 rows.
        Index(
            "ix_members_scope_filters",
            "branch_id",
            "status",
            "sort_name",
            "id",
            "birth_date",
            "member_since",
            "postcode",
            "removed_at",  # always NULL here, but SQLite counts an index as covering only with it
            postgresql_where=text(CURRENT_ROWS),
            sqlite_where=text(CURRENT_ROWS),
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    member_number: Mapped[str] = mapped_column(String(32), unique=True)  # lidnummer
    given_name: Mapped[str] = mapped_column(String(120), default="")
    infix: Mapped[str] = mapped_column(String(40), default="")  # tussenvoegsel: "de", "van der"
    family_name: Mapped[str] = mapped_column(String(160), default="")
    sort_name: Mapped[str] = mapped_column(String(320), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    mobile: Mapped[str] = mapped_column(String(32), default="")  # E.164 where it could be parsed
    phone: Mapped[str] = mapped_column(String(32), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    house_number: Mapped[int | None]
    house_number_suffix: Mapped[str] = mapped_column(String(16), default="")
    postcode: Mapped[str] = mapped_column(String(16), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    birth_date: Mapped[date | None]
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus), index=True)
    member_since: Mapped[date | None]
    member_until: Mapped[date | None]
    dues_paid_through: Mapped[date | None]
    do_not_call: Mapped[bool] = mapped_column(default=False)
    do_not_email: Mapped[bool] = mapped_column(default=False)
    directory_consent: Mapped[bool] = mapped_column(default=False)
    interests: Mapped[list[str]] = mapped_column(default=list)
    competences: Mapped[list[str]] = mapped_column(default=list)
    row_hash: Mapped[str] = mapped_column(String(64), default="")
    crm_modified_at: Mapped[datetime | None]
    synced_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None] = mapped_column(index=True)  # tombstone, never a hard delete
    version: Mapped[int] = mapped_column(default=1)

    branch: Mapped[OrgUnit | None] = relationship()
    positions: Mapped[list[Position]] = relationship(back_populates="member")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads a plain dict

    @property
    def display_name(self) -> str:
        """'Jan de Vries'."""
        return names.display_name(self.given_name, self.infix, self.family_name)

    @property
    def formal_name(self) -> str:
        """'Vries, Jan de'."""
        return names.formal_name(self.given_name, self.infix, self.family_name)

    def refresh_sort_name(self) -> None:
        """Recompute the stored sort key after a name change."""
        self.sort_name = names.sort_key(self.given_name, self.infix, self.family_name)

    def __repr__(self) -> str:
        return f"<Member {self.id} #{self.member_number}>"


class Position(Base):
    """A member's function in an org unit, with its period and whether it is public."""

    __tablename__ = "positions"
    __table_args__ = (
        Index("ix_positions_org_unit_function", "org_unit_id", "function"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crm_id: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    function: Mapped[PositionFunction] = mapped_column(_enum(PositionFunction))
    start_date: Mapped[date | None]
    end_date: Mapped[date | None]
    public: Mapped[bool] = mapped_column(default=True)
    synced_at: Mapped[datetime | None]
    removed_at: Mapped[datetime | None]

    member: Mapped[Member] = relationship(back_populates="positions")
    org_unit: Mapped[OrgUnit] = relationship()

    def is_current(self, on: date) -> bool:
        """Whether the position holds on the given day."""
        started = self.start_date is None or self.start_date <= on
        not_ended = self.end_date is None or self.end_date >= on
        return self.removed_at is None and started and not_ended
