"""What the meetings pages say about reason codes, outcomes and rules (translated; views and exports)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.meetings.eligibility import Reason, UnitScope, decode
from portal.meetings.quorum import QuorumKind

REASONS = {
    Reason.DECEASED: _l("deceased"),
    Reason.CANCELLED: _l("membership cancelled"),
    Reason.LAPSED: _l("membership lapsed"),
    Reason.REMOVED: _l("no longer in the membership administration"),
    Reason.NOT_IN_UNIT: _l("not a member of this unit"),
    Reason.NOT_CURRENT_AT_CUTOFF: _l("not a member on the cut-off date"),
    Reason.DUES_UNPAID: _l("dues not paid through the meeting date"),
    Reason.MEMBERSHIP_TOO_SHORT: _l("member for too short a time"),
    Reason.SUSPENDED: _l("voting right suspended"),
    Reason.NOT_ON_ROLL: _l("not on the voter roll of this meeting"),
}

UNIT_SCOPES = {
    UnitScope.SUBTREE: _l("Members of this unit and the units below it"),
    UnitScope.UNIT: _l("Members of this unit only"),
    UnitScope.ANY: _l("Every member of the party"),
}

QUORUM_KINDS = {
    QuorumKind.NONE: _l("No quorum"),
    QuorumKind.SHARE_OF_ELIGIBLE: _l("A share of the members with a voting right"),
    QuorumKind.FIXED_NUMBER: _l("A fixed number of voters"),
}


STATUSES = {
    "new": _l("new member"),
    "current": _l("member"),
    "grace": _l("member (grace period)"),
    "lapsed": _l("lapsed"),
    "cancelled": _l("cancelled"),
    "deceased": _l("deceased"),
}

ATTEMPT_OUTCOMES = {
    "unknown": _l("unknown number"),
    "not_a_member": _l("not a member"),
    "already_present": _l("already checked in"),
    "invalid_card": _l("invalid card"),
    "no_match": _l("nobody found"),
}


def status_text(status: str) -> str:
    """A membership status in words."""
    return str(STATUSES.get(status, status))


def attempt_text(outcome: str) -> str:
    """A failed door look-up's outcome in words."""
    return str(ATTEMPT_OUTCOMES.get(outcome, outcome))


def codes_text(codes: str) -> str:
    """Stored reason codes in words."""
    return reasons_text(decode(codes))


def reason_text(reason: Reason) -> str:
    """One reason in words."""
    return str(REASONS[reason])


def reasons_text(reasons: tuple[Reason, ...] | list[Reason]) -> str:
    """Several reasons in words, joined."""
    return "; ".join(reason_text(reason) for reason in reasons)


def yes_no(value: bool) -> str:
    """'yes' or 'no' in the page's language."""
    return _("yes") if value else _("no")
