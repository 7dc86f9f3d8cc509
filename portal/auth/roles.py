"""Portal roles and the pure rule that derives them from CRM positions (policy: config/role_policy.toml)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from config.policies import RoleRule, load_role_policy


class Role(enum.Enum):
    """What an account may do beyond being a member (plain members need no grant)."""

    BRANCH_BOARD = "branch_board"
    REGIONAL_OFFICER = "regional_officer"
    NATIONAL_ADMINISTRATOR = "national_administrator"
    STEWARD = "steward"
    ADMIN = "admin"

    @property
    def covers_everything(self) -> bool:
        """Roles whose scope is the whole party, whatever unit the grant names."""
        return self in {Role.NATIONAL_ADMINISTRATOR, Role.ADMIN}


OFFICER_ROLES = frozenset(Role)  # every role is an officer function: terms gate, TOTP, 15 min idle
DERIVABLE_ROLES = frozenset(Role) - {Role.ADMIN}


@dataclass(frozen=True)
class PositionFacts:
    """What the rule needs to know about one position (plain values, no database rows)."""

    position_id: int
    function: str
    unit_id: int
    unit_kind: str
    start_date: date | None
    end_date: date | None
    removed: bool = False

    def holds_on(self, day: date) -> bool:
        """Whether the position is current on `day`."""
        started = self.start_date is None or self.start_date <= day
        not_ended = self.end_date is None or self.end_date >= day
        return not self.removed and started and not_ended


@dataclass(frozen=True)
class DerivedGrant:
    """A grant the policy gives for one position: role, scope unit (None = everything), source."""

    role: Role
    scope_unit_id: int | None
    position_id: int
    ends_on: date | None


def derive_grants(
    positions: Iterable[PositionFacts],
    *,
    is_member: bool,
    today: date,
    rules: tuple[RoleRule, ...] | None = None,
) -> frozenset[DerivedGrant]:
    """The grants a person's current positions give; none when their membership is not current."""
    if not is_member:
        return frozenset()
    rules = load_role_policy() if rules is None else rules
    grants = set()
    for position in positions:
        if not position.holds_on(today):
            continue
        for rule in rules:
            if position.function in rule.functions and position.unit_kind in rule.unit_kinds:
                role = Role(rule.role)
                if role not in DERIVABLE_ROLES:
                    continue  # admin comes only from an explicit grant, whatever the file says
                scope = None if rule.scope == "everything" else position.unit_id
                grants.add(DerivedGrant(role, scope, position.position_id, position.end_date))
    return frozenset(grants)
