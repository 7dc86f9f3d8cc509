"""The quorum rule: how many voters must be present, and whether that many are (no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class QuorumKind(enum.Enum):
    """How the quorum is stated (stored on `Meeting`)."""

    NONE = "none"
    SHARE_OF_ELIGIBLE = "share_of_eligible"  # at least numerator/denominator of the members with a vote
    FIXED_NUMBER = "fixed_number"  # at least `numerator` voters present


@dataclass(frozen=True)
class QuorumRule:
    """A quorum rule as the meeting states it."""

    kind: QuorumKind = QuorumKind.NONE
    numerator: int = 0
    denominator: int = 1


@dataclass(frozen=True)
class QuorumState:
    """The rule applied to the current counts."""

    required: int | None  # None: the meeting has no quorum rule
    present_voters: int

    @property
    def is_reached(self) -> bool | None:
        """True or False; None when there is no rule."""
        return None if self.required is None else self.present_voters >= self.required


def required_voters(rule: QuorumRule, eligible: int) -> int | None:
    """The number of voters that must be present; a share is rounded up (2/3 of 100 → 67)."""
    if rule.kind is QuorumKind.NONE:
        return None
    if rule.kind is QuorumKind.FIXED_NUMBER:
        return max(rule.numerator, 0)
    denominator = max(rule.denominator, 1)
    return -(-eligible * max(rule.numerator, 0) // denominator)


def assess(rule: QuorumRule, *, eligible: int, present_voters: int) -> QuorumState:
    """Whether `present_voters` meets the rule for a roll with `eligible` voters."""
    return QuorumState(required=required_voters(rule, eligible), present_voters=present_voters)


def validate(rule: QuorumRule) -> dict[str, str]:
    """Problems with a rule as field → English message (empty: fine)."""
    problems: dict[str, str] = {}
    if rule.kind is QuorumKind.SHARE_OF_ELIGIBLE:
        if rule.denominator < 1:
            problems["quorum_denominator"] = "The share needs a denominator of at least 1."
        elif not 0 < rule.numerator <= rule.denominator:
            problems["quorum_numerator"] = "The share must lie between 0 and 1, for example 1/2 or 2/3."
    elif rule.kind is QuorumKind.FIXED_NUMBER and rule.numerator < 1:
        problems["quorum_numerator"] = "The fixed number must be at least 1."
    return problems
