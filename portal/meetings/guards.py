"""Route guards for meetings: officers in scope manage a meeting; its stewards (and those officers) work
its door. Composed on top of `portal.auth.guards`; deny by default."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, g, request

from portal.auth.guards import (
    current_account,
    current_actor,
    current_grants_of_account,
    officer_gate,
    officer_required,
    sign_in_required,
    signed_in,
)
from portal.auth.models import Account
from portal.auth.roles import Role
from portal.auth.scopes import unit_ids_in_scope
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.extension import db_session
from portal.meetings import access
from portal.meetings.access import StewardAccess
from portal.meetings.models import Meeting
from portal.meetings.services import door_context, unit_lineage
from portal.meetings.services.meetings import AnyMeeting

log = logging.getLogger("portal.security")
View = TypeVar("View", bound=Callable[..., Any])
MANAGER_ROLES = (Role.BRANCH_BOARD, Role.REGIONAL_OFFICER, Role.NATIONAL_ADMINISTRATOR, Role.ADMIN)


def actor() -> Actor:
    """The signed-in person as the meetings feature records them: name and member number."""
    known: Actor | None = g.get("meetings_actor")
    if known is not None:
        return known
    account = current_account()
    if account is None:
        return current_actor()
    return Actor.account(account.id, f"{account.member.display_name} ({account.member.member_number})")


def manager_scope(account: Account) -> frozenset[int]:
    """The org units whose meetings this account manages."""
    return unit_ids_in_scope(db_session(), account, *MANAGER_ROLES)


def may_manage(meeting: AnyMeeting) -> bool:
    """Whether the signed-in person holds a manager grant whose scope reaches the meeting's unit."""
    scopes = [
        None if grant.role.covers_everything or grant.scope_unit_id is None else grant.scope_unit_id
        for grant in current_grants_of_account()
        if grant.role in MANAGER_ROLES
    ]
    return bool(scopes) and access.grants_reach(unit_lineage(db_session(), meeting.org_unit_id), scopes)


def load_meeting(meeting_id: int) -> Meeting:
    """The meeting named in the URL, or 404."""
    meeting = db_session().get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def _deny(reason: str, status: int = 403) -> None:
    who = signed_in()
    log.warning(
        "meetings access denied: %s account=%s endpoint=%s ip=%s",
        reason, who.account_id if who else None, request.endpoint, request.remote_addr,
    )  # fmt: skip
    abort(status)


def manager_required(view: View) -> View:
    """An officer (TOTP, terms) whose scope holds the meeting in the URL (`meeting_id`)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        meeting = load_meeting(kwargs.pop("meeting_id"))
        if not may_manage(meeting):
            _deny("meeting out of scope")
        return view(*args, meeting=meeting, **kwargs)

    return officer_required(*MANAGER_ROLES)(cast(View, guarded))


def steward_required(view: View) -> View:
    """A steward of the meeting in the URL while it lasts (J12), or an officer managing it; TOTP and terms."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        who = signed_in()
        assert who is not None  # sign_in_required ran first
        found = door_context(
            db_session(), meeting_id=kwargs.pop("meeting_id"), member_id=who.member_id, now=utcnow()
        )
        if found is None:
            abort(404)
        meeting = found.meeting
        if found.access is not StewardAccess.ACTIVE and not may_manage(meeting):
            if found.access is StewardAccess.ENDED:
                _deny("steward access ended with the meeting", 401)
            _deny("not a steward of this meeting")
        g.meetings_actor = Actor.account(who.account_id, f"{found.steward_name} ({found.steward_number})")
        gate = officer_gate()
        if gate is not None:
            return gate
        return view(*args, meeting=meeting, **kwargs)

    return sign_in_required(cast(View, guarded))
