"""The declarative policy files next to this module, read into plain, frozen values (no portal types)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLICY_FOLDER = Path(__file__).resolve().parent


class PolicyError(ValueError):
    """A policy file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class RoleRule:
    """Positions with one of `functions` in a unit of one of `unit_kinds` give `role` over `scope`."""

    functions: frozenset[str]
    unit_kinds: frozenset[str]
    role: str
    scope: str  # "unit" (the unit's subtree) or "everything"


@dataclass(frozen=True)
class FieldRule:
    """The member fields one role (or the member themself) may see and may change."""

    visible: frozenset[str]
    editable: frozenset[str]


@dataclass(frozen=True)
class FieldPolicy:
    """Field rules for the own record and per role name; `fields` lists every governed field."""

    fields: frozenset[str]
    own: FieldRule
    roles: dict[str, FieldRule]


def _read(name: str, folder: Path | None) -> dict[str, Any]:
    path = (folder or POLICY_FOLDER) / name
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load_role_policy(folder: Path | None = None) -> tuple[RoleRule, ...]:
    """The rules of `role_policy.toml`."""
    rules = []
    for number, raw in enumerate(_read("role_policy.toml", folder).get("rule", []), start=1):
        scope = raw.get("scope", "unit")
        if scope not in {"unit", "everything"} or not raw.get("role") or not raw.get("functions"):
            raise PolicyError(
                f"role_policy.toml rule {number}: needs functions, role and scope unit|everything"
            )
        rules.append(
            RoleRule(
                functions=frozenset(raw["functions"]),
                unit_kinds=frozenset(raw.get("unit_kinds", [])),
                role=raw["role"],
                scope=scope,
            )
        )
    return tuple(rules)


def _expand(names: list[str], groups: dict[str, list[str]], seen: tuple[str, ...] = ()) -> frozenset[str]:
    fields: set[str] = set()
    for name in names:
        if name in seen:
            raise PolicyError(f"field_policy.toml: group {name!r} contains itself")
        if name in groups:
            fields |= _expand(groups[name], groups, (*seen, name))
        else:
            fields.add(name)
    return frozenset(fields)


def load_field_policy(folder: Path | None = None) -> FieldPolicy:
    """The rules of `field_policy.toml`, with groups expanded to field names."""
    raw = _read("field_policy.toml", folder)
    groups: dict[str, list[str]] = raw.get("groups", {})
    every_field = _expand(["all"], groups)

    def rule(entry: dict[str, list[str]], where: str) -> FieldRule:
        visible = _expand(entry.get("visible", []), groups)
        editable = _expand(entry.get("editable", []), groups)
        unknown = (visible | editable) - every_field
        if unknown:
            raise PolicyError(f"field_policy.toml [{where}]: unknown fields {sorted(unknown)}")
        if editable - visible:
            raise PolicyError(
                f"field_policy.toml [{where}]: editable but not visible {sorted(editable - visible)}"
            )
        return FieldRule(visible=visible, editable=editable)

    return FieldPolicy(
        fields=every_field,
        own=rule(raw.get("own", {}), "own"),
        roles={name: rule(entry, f"roles.{name}") for name, entry in raw.get("roles", {}).items()},
    )
