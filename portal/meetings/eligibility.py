"""Who may vote at a meeting: plain values in, a verdict with reason codes out (no I/O).

The roll is judged at the cut-off date (peildatum) with the replica as it stood at the freeze; the
door never re-judges, it reads the frozen verdict.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# How long after a membership ended the person still appears on a roll, so the door can say why.
ROLL_LOOKBACK_DAYS = 366

MEMBER_STATUSES = frozenset({"new", "current", "grace"})


class Reason(enum.Enum):
    """Why someone may not vote; the value is the code stored on the roll and in exports."""

    DECEASED = "deceased"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"
    REMOVED = "removed"  # no longer in the CRM
    NOT_IN_UNIT = "not_in_unit"
    NOT_CURRENT_AT_CUTOFF = "not_current_at_cutoff"
    DUES_UNPAID = "dues_unpaid"
    MEMBERSHIP_TOO_SHORT = "membership_too_short"
    SUSPENDED = "suspended"
    NOT_ON_ROLL = "not_on_roll"  # door only: a member who is not on this meeting's roll


class UnitScope(enum.Enum):
    """Whose home branch must lie where for the voting right (stored on `Meeting`)."""

    ANY = "any"  # every member of the party
    UNIT = "unit"  # home branch is the meeting's own unit
    SUBTREE = "subtree"  # home branch is the unit or lies below it


@dataclass(frozen=True)
class VotingRule:
    """The options a meeting combines; every option that is off is simply not checked."""

    unit_scope: UnitScope = UnitScope.SUBTREE
    current_at_cutoff: bool = True
    dues_paid: bool = False
    min_membership_days: int = 0
    exclude_suspended: bool = True


@dataclass(frozen=True)
class MeetingFacts:
    """The meeting as the rule sees it: its dates and the org units that count as 'in the unit'."""

    cutoff_date: date
    meeting_date: date
    unit_ids: frozenset[int]  # the unit itself (UNIT) or the unit and its subtree (SUBTREE)


@dataclass(frozen=True)
class MemberFacts:
    """A member as the replica holds them at the freeze."""

    status: str  # MembershipStatus value: new, current, grace, lapsed, cancelled, deceased
    branch_id: int | None
    member_since: date | None
    member_until: date | None
    dues_paid_through: date | None
    is_suspended: bool = False
    is_removed: bool = False


@dataclass(frozen=True)
class Verdict:
    """May this person vote; if not, every reason that applies, in a fixed order."""

    reasons: tuple[Reason, ...]

    @property
    def may_vote(self) -> bool:
        """True when no reason stands in the way."""
        return not self.reasons

    @property
    def codes(self) -> str:
        """The reasons as stored: 'dues_unpaid,membership_too_short'."""
        return encode(self.reasons)


def encode(reasons: Iterable[Reason]) -> str:
    """Reason codes joined by commas."""
    return ",".join(reason.value for reason in reasons)


def decode(codes: str) -> tuple[Reason, ...]:
    """The stored codes back as reasons; unknown codes are skipped."""
    known = {reason.value: reason for reason in Reason}
    return tuple(known[code] for code in codes.split(",") if code in known)


def judge(member: MemberFacts, meeting: MeetingFacts, rule: VotingRule) -> Verdict:
    """Every reason why `member` may not vote at `meeting` under `rule` (none: they may vote)."""
    reasons: list[Reason] = []
    if member.is_removed:
        reasons.append(Reason.REMOVED)
    if member.status == "deceased":
        reasons.append(Reason.DECEASED)
    elif member.status == "cancelled":
        reasons.append(Reason.CANCELLED)
    elif member.status == "lapsed":
        reasons.append(Reason.LAPSED)
    if rule.unit_scope is not UnitScope.ANY and member.branch_id not in meeting.unit_ids:
        reasons.append(Reason.NOT_IN_UNIT)
    if rule.current_at_cutoff and not _current_on(member, meeting.cutoff_date):
        reasons.append(Reason.NOT_CURRENT_AT_CUTOFF)
    if rule.dues_paid and (
        member.dues_paid_through is None or member.dues_paid_through < meeting.meeting_date
    ):
        reasons.append(Reason.DUES_UNPAID)
    if rule.min_membership_days > 0 and not _member_long_enough(member, meeting, rule.min_membership_days):
        reasons.append(Reason.MEMBERSHIP_TOO_SHORT)
    if rule.exclude_suspended and member.is_suspended:
        reasons.append(Reason.SUSPENDED)
    return Verdict(tuple(reasons))


def _current_on(member: MemberFacts, day: date) -> bool:
    started = member.member_since is not None and member.member_since <= day
    not_ended = member.member_until is None or member.member_until >= day
    return started and not_ended  # the status has its own reason codes


def _member_long_enough(member: MemberFacts, meeting: MeetingFacts, days: int) -> bool:
    """Member for at least `days` days on the day of the meeting."""
    if member.member_since is None:
        return False
    return (meeting.meeting_date - member.member_since).days >= days


def belongs_on_roll(member: MemberFacts, meeting: MeetingFacts, rule: VotingRule) -> bool:
    """Whether the member is listed on the roll at all (with or without a voting right).

    In-scope members are listed unless removed, deceased, or gone for longer than the look-back,
    so a recently lapsed member at the door hears why they may not vote.
    """
    if member.is_removed or member.status == "deceased":
        return False
    if rule.unit_scope is not UnitScope.ANY and member.branch_id not in meeting.unit_ids:
        return False
    if member.status in MEMBER_STATUSES:
        return True
    return member.member_until is None or member.member_until >= meeting.cutoff_date - timedelta(
        days=ROLL_LOOKBACK_DAYS
    )


def subtree(unit_id: int, parent_of: dict[int, int | None]) -> frozenset[int]:
    """The unit and every unit below it, from a child → parent map."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_of.items():
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [unit_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue  # a cycle in bad data must not hang the freeze
        found.add(current)
        stack.extend(children.get(current, ()))
    return frozenset(found)


RawJudge = Callable[
    [str, "int | None", "date | None", "date | None", "date | None", bool, bool], "tuple[bool, str]"
]


def compile_rule(meeting: MeetingFacts, rule: VotingRule) -> RawJudge:
    """`judge` and `belongs_on_roll` for many members at once: plain values in, `(listed, codes)` out.

    Same answers as the dataclass path (a test proves it on random facts); used when a whole replica
    is frozen, where building two small objects per member would cost more than the rule itself.
    Arguments: status value, branch id, member since, member until, dues paid through, suspended, removed.
    """
    cutoff, meeting_day = meeting.cutoff_date, meeting.meeting_date
    units = meeting.unit_ids
    scoped = rule.unit_scope is not UnitScope.ANY
    lookback = cutoff - timedelta(days=ROLL_LOOKBACK_DAYS)
    minimum = rule.min_membership_days
    latest_start = meeting_day - timedelta(days=minimum)
    members = MEMBER_STATUSES
    status_code = {"deceased": "deceased", "cancelled": "cancelled", "lapsed": "lapsed"}
    check_current, check_dues, check_suspended = (
        rule.current_at_cutoff,
        rule.dues_paid,
        rule.exclude_suspended,
    )

    def raw_judge(
        status: str,
        branch_id: int | None,
        since: date | None,
        until: date | None,
        dues: date | None,
        suspended: bool,
        removed: bool,
    ) -> tuple[bool, str]:
        codes: list[str] = []
        if removed:
            codes.append("removed")
        if status in status_code:
            codes.append(status_code[status])
        in_unit = not scoped or branch_id in units
        if not in_unit:
            codes.append("not_in_unit")
        if check_current and (since is None or since > cutoff or (until is not None and until < cutoff)):
            codes.append("not_current_at_cutoff")
        if check_dues and (dues is None or dues < meeting_day):
            codes.append("dues_unpaid")
        if minimum > 0 and (since is None or since > latest_start):
            codes.append("membership_too_short")
        if check_suspended and suspended:
            codes.append("suspended")
        listed = (
            not removed
            and status != "deceased"
            and in_unit
            and (status in members or until is None or until >= lookback)
        )
        return listed, ",".join(codes)

    return raw_judge
