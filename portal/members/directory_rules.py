"""Who's-who rules (pure): which seats a body should have, and what a listed person shows."""

from __future__ import annotations

from collections.abc import Iterable

from portal.members.models import OrgUnitKind, PositionFunction

_BOARD = (PositionFunction.CHAIR, PositionFunction.SECRETARY, PositionFunction.TREASURER)

#: Seats every body of a kind is meant to have; an empty one is shown as vacant.
EXPECTED_SEATS: dict[OrgUnitKind, tuple[PositionFunction, ...]] = {
    OrgUnitKind.NATIONAL: _BOARD,
    OrgUnitKind.REGION: _BOARD,
    OrgUnitKind.BRANCH: _BOARD,
    OrgUnitKind.YOUTH_ORGANISATION: _BOARD,
    OrgUnitKind.FACTION: (PositionFunction.FACTION_LEADER,),
    OrgUnitKind.KNOWLEDGE_GROUP: (PositionFunction.COORDINATOR,),
    OrgUnitKind.COMMITTEE: (PositionFunction.CHAIR,),
}

#: Order of roles within a body, most senior first.
ROLE_ORDER: tuple[PositionFunction, ...] = (
    PositionFunction.CHAIR,
    PositionFunction.FACTION_LEADER,
    PositionFunction.COORDINATOR,
    PositionFunction.SECRETARY,
    PositionFunction.REGIONAL_SECRETARY,
    PositionFunction.TREASURER,
    PositionFunction.BOARD_MEMBER,
    PositionFunction.COUNCIL_MEMBER,
    PositionFunction.GROUP_MEMBER,
    PositionFunction.MEMBERSHIP_ADMINISTRATOR,
    PositionFunction.STEWARD,
)

#: Roles the who's-who never lists, whatever the CRM's public flag says (internal functions).
INTERNAL_ROLES = frozenset({PositionFunction.STEWARD, PositionFunction.MEMBERSHIP_ADMINISTRATOR})

#: A listed person always shows these; the rest only with directory consent.
ALWAYS_SHOWN = ("display_name", "positions")
SHOWN_WITH_CONSENT = ("email", "mobile", "city")

DIRECTORY_ROLES = tuple(role for role in ROLE_ORDER if role not in INTERNAL_ROLES)


def vacant_seats(kind: OrgUnitKind, filled: Iterable[PositionFunction]) -> list[PositionFunction]:
    """The expected seats of a body that nobody holds now."""
    taken = set(filled)
    return [seat for seat in EXPECTED_SEATS.get(kind, ()) if seat not in taken]


def role_rank(function: PositionFunction) -> int:
    """Sort key of a role inside a body."""
    return ROLE_ORDER.index(function)


def published_fields(directory_consent: bool) -> tuple[str, ...]:
    """The fields of a listed person that may appear in the who's-who."""
    return ALWAYS_SHOWN + SHOWN_WITH_CONSENT if directory_consent else ALWAYS_SHOWN
