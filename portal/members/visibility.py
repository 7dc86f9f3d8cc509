"""Which member fields a viewer sees and may change (pure; policy in config/field_policy.toml).

Everything that shows or exports member data asks `visible_fields` and passes the values through
`redact`; everything that writes asks `editable_fields`.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from typing import Any

from config.policies import FieldPolicy, load_field_policy
from portal.auth.roles import Role


class Relation(enum.Enum):
    """How a member's record relates to the one looking at it."""

    OWN = "own"
    IN_SCOPE = "in_scope"  # a grant of the viewer covers the member's branch
    OUT_OF_SCOPE = "out_of_scope"


@functools.cache
def field_policy() -> FieldPolicy:
    """The field policy file, read once."""
    return load_field_policy()


def all_fields() -> frozenset[str]:
    """Every field the policy governs."""
    return field_policy().fields


def visible_fields(roles: frozenset[Role], relation: Relation) -> frozenset[str]:
    """Fields shown to a viewer holding `roles` over the member (deny by default)."""
    policy = field_policy()
    fields: set[str] = set()
    if relation is Relation.OWN:
        fields |= policy.own.visible
    if relation is not Relation.OUT_OF_SCOPE:
        for role in roles:
            rule = policy.roles.get(role.value)
            if rule is not None:
                fields |= rule.visible
    return frozenset(fields)


def editable_fields(roles: frozenset[Role], relation: Relation) -> frozenset[str]:
    """Fields a viewer holding `roles` over the member may change."""
    policy = field_policy()
    fields: set[str] = set()
    if relation is Relation.OWN:
        fields |= policy.own.editable
    if relation is not Relation.OUT_OF_SCOPE:
        for role in roles:
            rule = policy.roles.get(role.value)
            if rule is not None:
                fields |= rule.editable
    return frozenset(fields)


def redact(values: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Only the allowed keys; anything else (also unknown keys) is left out, not blanked."""
    return {name: value for name, value in values.items() if name in allowed}
