"""The auth blueprint and what its views share about requests: keys, the login session row, safe `next`
targets, and the role, function and time labels its templates use."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError
from flask import Blueprint, current_app, session
from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l

from portal.auth.crypto import AuthKeys
from portal.auth.models import LoginSession
from portal.auth.ratelimits import IpLimits
from portal.auth.web_session import ServerSession
from portal.core.extension import db_session

blueprint = Blueprint("auth", __name__, template_folder="../templates")


def keys() -> AuthKeys:
    """This app's derived keys."""
    return cast(AuthKeys, current_app.extensions["auth_keys"])


def ip_limits() -> IpLimits:
    """This app's per-IP limits."""
    return cast(IpLimits, current_app.extensions["auth_ip_limits"])


def web_session() -> ServerSession:
    """The request's server-side session."""
    return cast(ServerSession, session)


def login_session_row() -> LoginSession | None:
    """The `LoginSession` row behind this request, loaded in the request's database session."""
    record_id = web_session().record_id
    return db_session().get(LoginSession, record_id) if record_id else None


def safe_next(target: str | None) -> str | None:
    """A same-site path to continue to, or None (no `//host`, backslashes, schemes or control characters)."""
    if not target or len(target) > 500 or not target.startswith("/") or target.startswith("//"):
        return None
    if any(char in target for char in "\\") or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


ROLE_LABELS = {
    "branch_board": _l("Branch board"),
    "regional_officer": _l("Regional officer"),
    "national_administrator": _l("National membership administration"),
    "steward": _l("Steward"),
    "admin": _l("Administrator"),
}
FUNCTION_LABELS = {
    "chair": _l("chair"),
    "secretary": _l("secretary"),
    "treasurer": _l("treasurer"),
    "board_member": _l("board member"),
    "council_member": _l("council member"),
    "faction_leader": _l("faction leader"),
    "coordinator": _l("coordinator"),
    "group_member": _l("group member"),
    "steward": _l("steward"),
    "membership_administrator": _l("membership administrator"),
    "regional_secretary": _l("regional secretary"),
}


def _name(value: object) -> str:
    return str(getattr(value, "value", value))


@blueprint.app_template_global("auth_role_label")
def role_label(role: object) -> str:
    """A role's name for people."""
    return str(ROLE_LABELS.get(_name(role), _name(role)))


@blueprint.app_template_global("auth_function_label")
def function_label(function: object) -> str:
    """A position function's name for people."""
    return str(FUNCTION_LABELS.get(_name(function), _name(function)))


@blueprint.app_template_global("auth_language_name")
def language_name(code: str) -> str:
    """A language code as the page's reader calls the language: 'en' → 'Engels' on a Dutch page."""
    try:
        return Locale.parse(code).get_display_name(get_locale()) or code
    except (ValueError, UnknownLocaleError):
        return code


@blueprint.app_template_filter("auth_lang")
def language_tag(code: str) -> str:
    """A configured locale as an HTML `lang` value (BCP 47): 'en_GB' → 'en-GB'."""
    return code.replace("_", "-")


@blueprint.app_template_filter("auth_time")
def local_time(moment: datetime | str | None) -> str:
    """A moment (or its ISO text, as the sync status has it) in the portal's time zone, e.g. '3 dec. 2026
    14:05'."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment) if moment else None
    return "" if moment is None else format_datetime(moment, "d MMM yyyy HH:mm")
