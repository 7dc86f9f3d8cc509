"""The door's answer to a check-in, check-out or override: HTTP status and words (never colour alone)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from portal.meetings import texts
from portal.meetings.services import DoorResult, Outcome, Signal
from portal.meetings.views.local_time import clock

STATUS = {Outcome.CHECKED_IN: 201, Outcome.ALREADY_PRESENT: 409, Outcome.CHECKED_OUT: 200,
          Outcome.NOT_PRESENT: 409, Outcome.UNKNOWN: 404, Outcome.NOT_A_MEMBER: 404}  # fmt: skip


def describe(result: DoorResult) -> dict[str, Any]:
    """The door's answer in words: a title that says it all, and details (never colour alone)."""
    reasons = [texts.reason_text(reason) for reason in result.reasons]
    if result.outcome is Outcome.ALREADY_PRESENT:
        title = _(
            "Already checked in by %(steward)s at %(time)s",
            steward=result.checked_in_by,
            time=clock(result.checked_in_at),
        )
    elif result.outcome is Outcome.CHECKED_OUT:
        title = _("Checked out at %(time)s", time=clock(result.checked_out_at))
    elif result.outcome is Outcome.NOT_PRESENT:
        title = _("Not checked in: there is nothing to check out")
    elif result.outcome is Outcome.NOT_A_MEMBER:
        title = _("Not a member — no admission as a member")
    elif result.outcome is Outcome.UNKNOWN:
        title = (
            _("Unknown — this card is not valid")
            if result.extra.get("invalid_card")
            else _("Unknown — not a member")
        )
    elif result.extra.get("guest"):
        title = _("Guest registered — no voting right")
    elif result.signal is Signal.VOTE:
        title = _("Voting right — hand out a voting card")
    else:
        title = _("Present without voting right")
    return {
        "outcome": result.outcome.value,
        "signal": result.signal.value,
        "title": title,
        "name": result.name,
        "member_number": result.member_number,
        "reasons": reasons,
        "attendance_id": result.attendance_id,
        "checked_in_by": result.checked_in_by,
        "checked_in_at": clock(result.checked_in_at),
        "is_override": result.is_override,
        "voting_card_number": result.voting_card_number,
        "replayed": result.replayed,
        "present": result.outcome in (Outcome.CHECKED_IN, Outcome.ALREADY_PRESENT),
    }
