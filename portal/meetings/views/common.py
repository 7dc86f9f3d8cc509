"""The meetings blueprint and what several pages share: local times, door answers, exports."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request
from flask_babel import format_date, format_datetime, format_time
from flask_babel import gettext as _

from portal.core.extension import settings
from portal.meetings import texts
from portal.meetings.services import DoorResult, Outcome, Signal

blueprint = Blueprint("meetings", __name__, template_folder="../templates", url_prefix="/meetings")


def new_nonce() -> str:
    """A client nonce for a form the server renders (the page's JavaScript makes its own)."""
    return uuid.uuid4().hex


def wants_json() -> bool:
    """The door's JavaScript asks for JSON; a plain form post gets the page back."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def local_to_utc(moment: datetime) -> datetime:
    """A wall-clock time typed in the portal's time zone, as UTC."""
    return moment.replace(tzinfo=ZoneInfo(settings().timezone)).astimezone(UTC)


def utc_to_local(moment: datetime) -> datetime:
    """A stored UTC time on the portal's wall clock (naive, for form fields)."""
    return moment.astimezone(ZoneInfo(settings().timezone)).replace(tzinfo=None)


def clock(moment: datetime | None) -> str:
    """'19:42' in the portal's time zone."""
    return format_time(moment, "HH:mm") if moment else ""


def when(moment: datetime | None) -> str:
    """A date and time in the portal's time zone."""
    return format_datetime(moment, "d MMM yyyy HH:mm") if moment else ""


def day(value: date | None) -> str:
    """A date for people."""
    return format_date(value, "d MMMM yyyy") if value else ""


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


def download(body: bytes, filename: str, mimetype: str) -> Response:
    """A file for the browser to save, never to show inline."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
