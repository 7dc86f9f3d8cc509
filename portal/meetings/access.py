"""Who may do what with a meeting: pure predicates the views' guards call (deny by default)."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime


class StewardAccess(enum.Enum):
    """What a steward assignment allows right now."""

    NONE = "none"  # not a steward of this meeting (or revoked)
    ACTIVE = "active"
    ENDED = "ended"  # the meeting is over: the right ended with it


def can_manage_meeting(meeting_unit_id: int, scope_unit_ids: Collection[int] | None) -> bool:
    """An officer manages meetings of units in their scope; `None` is an unlimited scope (admins)."""
    return scope_unit_ids is None or meeting_unit_id in scope_unit_ids


def grants_reach(unit_lineage: Collection[int], grant_scopes: Collection[int | None]) -> bool:
    """Whether a grant reaches a unit: its scope is the unit or an ancestor (`None`: everything)."""
    return any(scope is None or scope in unit_lineage for scope in grant_scopes)


def steward_access(
    *, assigned: bool, ends_at: datetime | None, revoked_at: datetime | None, now: datetime
) -> StewardAccess:
    """Whether a steward assignment lets its holder work the door at `now`."""
    if not assigned or ends_at is None or revoked_at is not None:
        return StewardAccess.NONE
    return StewardAccess.ACTIVE if now < ends_at else StewardAccess.ENDED


def door_is_open(*, roll_frozen: bool, pseudonymised: bool, now: datetime, ends_at: datetime) -> bool:
    """Check-in needs a frozen roll and a meeting that has not ended or been pseudonymised."""
    return roll_frozen and not pseudonymised and now < ends_at
