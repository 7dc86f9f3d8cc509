"""The CRM port in our own words: what the portal reads from and writes to any CRM."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, TypeVar

from portal.members.models import MembershipStatus, OrgLevel, OrgUnitKind, PositionFunction


@dataclass(frozen=True)
class CrmOrgUnit:
    """A body of the party as the CRM has it."""

    crm_id: str
    parent_crm_id: str | None
    name: str
    kind: OrgUnitKind
    level: OrgLevel
    code: str = ""
    municipality: str = ""
    province: str = ""


@dataclass(frozen=True)
class CrmMember:
    """A person with their contact details and membership, as the CRM has them."""

    crm_id: str
    member_number: str
    given_name: str
    infix: str
    family_name: str
    status: MembershipStatus
    branch_crm_id: str | None = None
    email: str = ""
    mobile: str = ""
    phone: str = ""
    street: str = ""
    house_number: int | None = None
    house_number_suffix: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NL"
    birth_date: date | None = None
    member_since: date | None = None
    member_until: date | None = None
    dues_paid_through: date | None = None
    do_not_call: bool = False
    do_not_email: bool = False
    directory_consent: bool = False
    interests: tuple[str, ...] = ()
    competences: tuple[str, ...] = ()
    modified_at: datetime | None = None
    is_trashed: bool = False


@dataclass(frozen=True)
class CrmPosition:
    """A person's function in a body, with its period."""

    crm_id: str
    member_crm_id: str
    org_unit_crm_id: str
    function: PositionFunction
    start_date: date | None
    end_date: date | None
    public: bool = True
    modified_at: datetime | None = None


@dataclass(frozen=True)
class InvalidRecord:
    """A CRM record that failed validation: reported with its CRM id and skipped, never half-applied."""

    entity: str
    crm_id: str
    errors: dict[str, object]


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of valid records plus the ones that failed validation."""

    records: list[T]
    invalid: list[InvalidRecord] = field(default_factory=list)
    cursor: str = ""  # opaque resume position after this page (a watermark candidate)


@dataclass(frozen=True)
class CrmMembershipState:
    """What a member's memberships say, compactly (the nightly scan of a child without timestamps)."""

    member_crm_id: str
    status: MembershipStatus
    member_since: date | None
    member_until: date | None
    dues_paid_through: date | None


@dataclass(frozen=True)
class MemberChange:
    """A portal edit to deliver: absolute new values plus the values the portal saw before the edit.

    Values use the replica's field names in JSON form (dates as ISO text). Delivering the same change
    twice is harmless: fields that already hold the new value are not written again.
    """

    key: str
    member_crm_id: str
    values: Mapping[str, Any]
    previous: Mapping[str, Any]
    force: bool = False  # an admin replay that overrides a conflict


class PushResult(enum.Enum):
    """How the CRM took one change."""

    DELIVERED = "delivered"
    ALREADY_APPLIED = "already_applied"  # the CRM already held every new value: nothing written
    CONFLICT = "conflict"  # the CRM changed a field since the edit (or the concurrency token moved)
    REJECTED = "rejected"  # refused for good (validation, contact gone): dead letter at once
    UNCERTAIN = "uncertain"  # failed without saying why; worth a few more tries


@dataclass(frozen=True)
class FieldConflict:
    """One field where the CRM holds neither the value before the edit nor the edited value."""

    field: str
    crm_value: Any
    portal_value: Any
    base_value: Any


@dataclass(frozen=True)
class PushOutcome:
    """The CRM's answer to one `MemberChange`."""

    key: str
    result: PushResult
    detail: str = ""
    conflicts: tuple[FieldConflict, ...] = ()


class CrmError(Exception):
    """The CRM refused or failed a request; `retryable` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class CrmUnavailable(CrmError):
    """The CRM could not be reached, timed out, is in maintenance or asks us to slow down."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=True, retry_after=retry_after)


class CrmCredentialsRefused(CrmError):
    """The CRM refused our credentials: a configuration problem. Wait long; never hammer the login."""

    def __init__(self, message: str, *, retry_after: float = 300.0) -> None:
        super().__init__(message, retryable=False, retry_after=retry_after)


class CrmPort(Protocol):
    """What the pull and the push need from a CRM; one adapter per CRM product."""

    name: str

    def fetch_org_units(self) -> Iterator[Page[CrmOrgUnit]]:
        """Every current org unit, parents before children not guaranteed."""

    def fetch_members(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmMember]]:
        """Members (trashed ones flagged), all of them or those changed since a moment."""

    def fetch_members_by_id(self, crm_ids: Sequence[str]) -> Iterator[Page[CrmMember]]:
        """The named members (trashed ones flagged); unknown ids are left out."""

    def fetch_memberships(self) -> Iterator[Page[CrmMembershipState]]:
        """Every person's membership state, compactly, for the nightly scan."""

    def fetch_positions(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmPosition]]:
        """Positions, all or those changed since a moment."""

    def fetch_position_ids(self) -> Iterator[list[str]]:
        """Ids of every position the CRM holds (for reconciliation)."""

    def fetch_member_ids(self) -> Iterator[list[str]]:
        """Ids of every person the CRM holds and has not trashed (for guards and reconciliation)."""

    def find_survivor(self, crm_id: str) -> str | None:
        """The contact a trashed or vanished contact was merged into, if any."""

    def push_member_changes(
        self, changes: Sequence[MemberChange], *, timeout: float | None = None
    ) -> list[PushOutcome]:
        """Deliver changes (at most one per member); raises `CrmUnavailable` when nothing could be tried."""

    def close(self) -> None:
        """Release connections."""
