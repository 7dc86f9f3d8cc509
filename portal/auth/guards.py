"""Who is signed in, and the decorators that guard every route (deny by default).

Each decorator marks the view with `portal_access` (an `Access`), so a test can walk `app.url_map`
and prove that every endpoint was given a rule.
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar, cast

from flask import abort, g, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from portal.auth.models import Account
from portal.auth.roles import OFFICER_ROLES, Role
from portal.auth.scopes import current_grants
from portal.auth.services.sessions import ClientInfo, is_fresh_at
from portal.auth.services.terms import accepted_until
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.error_pages import wants_json
from portal.core.extension import db_session

log = logging.getLogger("portal.security")
View = TypeVar("View", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "portal_access"
STRONG_FACTORS = frozenset({"totp", "recovery_code"})  # officers never work on a mailed code


class Access(enum.Enum):
    """The rule a view was declared with."""

    PUBLIC = "public"  # anyone, signed in or not
    SIGN_IN_FLOW = "sign_in_flow"  # the steps of signing in; each checks its own stage
    SELF_SERVICE = "self_service"  # signed in (both factors); no terms gate
    OFFICER = "officer"  # a role, a strong factor and accepted terms
    ADMIN = "admin"


def _mark(view: View, access: Access, **extra: Any) -> View:
    setattr(view, ACCESS_ATTRIBUTE, access)
    for name, value in extra.items():
        setattr(view, f"portal_{name}", value)
    return view


def access_of(view: Callable[..., Any]) -> Access | None:
    """The rule a view function was declared with, None when it has none."""
    return cast(Access | None, getattr(view, ACCESS_ATTRIBUTE, None))


def public(view: View) -> View:
    """Declare a view open to everyone."""
    return _mark(view, Access.PUBLIC)


def sign_in_flow(view: View) -> View:
    """Declare a step of the sign-in flow (it checks the session stage itself)."""
    return _mark(view, Access.SIGN_IN_FLOW)


def client_info() -> ClientInfo:
    """The client's IP (as the trusted proxy reported it, see ProxyFix) and user agent."""
    return ClientInfo(ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")[:300])


def current_account() -> Account | None:
    """The account signed in with both factors in this request, or None."""
    if "auth_account" in g:
        return cast(Account | None, g.auth_account)
    account = None
    if getattr(session, "is_signed_in", False):
        account = db_session().get(Account, session.account_id)  # type: ignore[attr-defined]
        if account is not None and account.disabled_at is not None:
            account = None
    g.auth_account = account
    return account


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, without loading their account: the ids the session row carried."""

    account_id: int
    member_id: int


def signed_in() -> SignedIn | None:
    """The account signed in with both factors, as ids; no query when the session row carried its
    account's state (every request that opened a stored session). Same answer as `current_account()`."""
    if "auth_signed_in" in g:
        return cast(SignedIn | None, g.auth_signed_in)
    g.auth_signed_in = _signed_in_now()
    return cast(SignedIn | None, g.auth_signed_in)


def _signed_in_now() -> SignedIn | None:
    if not getattr(session, "is_signed_in", False):
        return None
    state = getattr(session, "account_usable", None)
    if state is None or "auth_account" in g:  # not loaded with the row (a session adopted this request)
        account = current_account()
        return None if account is None else SignedIn(account.id, account.member_id)
    return SignedIn(session.account_id, session.member_id) if state else None  # type: ignore[attr-defined]


def current_actor() -> Actor:
    """The acting party for services: the signed-in account, or an anonymous visitor."""
    account = current_account()
    if account is None:
        return Actor.system("anonymous")
    return Actor.account(account.id, account.member.member_number)


class HeldRole(NamedTuple):
    """A role the signed-in account holds now, over an org unit's subtree (None: over everything)."""

    role: Role
    scope_unit_id: int | None


def current_grants_of_account() -> tuple[HeldRole, ...]:
    """The signed-in account's grants that hold now, as plain values loaded once per request (the
    officer gate's roles and a feature's scope check share them)."""
    if "auth_grants" not in g:
        who = signed_in()
        g.auth_grants = (
            ()
            if who is None
            else tuple(
                HeldRole(grant.role, grant.scope_unit_id)
                for grant in current_grants(db_session(), who.member_id)
            )
        )
    return cast(tuple[HeldRole, ...], g.auth_grants)


def current_roles_of_account() -> frozenset[Role]:
    """The roles of the signed-in account (from the request's grants)."""
    return frozenset(grant.role for grant in current_grants_of_account())


def terms_accepted_until() -> datetime | None:
    """Until when the signed-in account's terms acceptance holds (None: the gate is shut); loaded with
    the session row (or one query), once per request."""
    if "auth_terms_until" not in g:
        who = signed_in()
        if who is None:
            g.auth_terms_until = None
        elif getattr(session, "terms_known", False):  # loaded with the session row this request
            g.auth_terms_until = session.terms_until  # type: ignore[attr-defined]
        else:
            g.auth_terms_until = accepted_until(db_session(), who.account_id, utcnow())
    return cast(datetime | None, g.auth_terms_until)


def officer_gate(*, terms: bool = True) -> ResponseReturnValue | None:
    """The checks an officer passes after their role (other features' guards use this): signed in with
    an authenticator app or recovery code, never a mailed code, and (unless `terms` is False) terms
    accepted. None when they hold; else the answer to give (a redirect for pages, a 403 with a reason
    for JSON)."""
    if getattr(session, "factor", "") not in STRONG_FACTORS:
        if wants_json():
            return jsonify({"error": "authenticator_app_required"}), 403
        return redirect(url_for("auth.need_authenticator", next=request.path))
    if terms and terms_accepted_until() is None:
        if wants_json():
            return jsonify({"error": "terms_not_accepted"}), 403
        return redirect(url_for("auth.terms", next=request.path))
    return None


def _to_sign_in() -> ResponseReturnValue:
    if wants_json():
        return jsonify({"error": "sign_in_required", "message": "Sign in first."}), 401
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.sign_in", next=target if request.method == "GET" else None))


def sign_in_required(view: View) -> View:
    """Signed in with password and second factor; self-service pages (no terms gate)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if signed_in() is None:
            return _to_sign_in()
        return view(*args, **kwargs)

    return _mark(cast(View, guarded), Access.SELF_SERVICE)


def fresh_sign_in_required(view: View) -> View:
    """Signed in, and the last sign-in or confirmation is at most 10 minutes old (sensitive changes)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if signed_in() is None:
            return _to_sign_in()
        if not is_fresh_at(getattr(session, "authenticated_at", None), utcnow()):
            if wants_json():
                return jsonify({"error": "confirmation_required"}), 401
            return redirect(url_for("auth.reauthenticate", next=request.path))
        return view(*args, **kwargs)

    return _mark(cast(View, guarded), Access.SELF_SERVICE, fresh=True)


def _deny(reason: str) -> None:
    who = signed_in()
    log.warning(
        "access denied: %s account=%s endpoint=%s ip=%s",
        reason,
        who.account_id if who else None,
        request.endpoint,
        request.remote_addr,
    )
    abort(403)


def officer_required(*roles: Role, terms_gate: bool = True) -> Callable[[View], View]:
    """Signed in with TOTP, holding a current grant with one of `roles` (any if none), terms accepted."""
    wanted = frozenset(roles) or OFFICER_ROLES
    access = Access.ADMIN if wanted == {Role.ADMIN} else Access.OFFICER

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if signed_in() is None:
                return _to_sign_in()
            if not current_roles_of_account() & wanted:
                _deny("role")
            gate = officer_gate(terms=terms_gate)
            if gate is not None:
                return gate
            return view(*args, **kwargs)

        return _mark(cast(View, guarded), access, roles=wanted, terms_gate=terms_gate)

    return decorate


def admin_required(view: View) -> View:
    """An explicit admin grant (with its end date), TOTP and accepted terms."""
    return officer_required(Role.ADMIN)(view)
