"""The auth blueprint and `init_app`: server-side sessions, Flask-Login glue, limits, role sync on pulls."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import LoginManager

from portal.auth import cli, demo, guards, merges, ratelimits, sync_alerts
from portal.auth.crypto import AuthKeys
from portal.auth.services.grants import recompute_grants
from portal.auth.services.terms import expires_soon
from portal.auth.views import account, admin, officers, security, sign_in
from portal.auth.views.web import blueprint
from portal.auth.web_session import ServerSessionInterface
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.events import MembersMerged, MembersPulled, PullAborted
from portal.core.extension import PortalState

__all__ = ["account", "admin", "blueprint", "init_app", "officers", "security", "sign_in"]
PULL_ROLES_ACTOR = Actor.system("role-sync")


def _nav_context() -> dict[str, Any]:
    """What nav.html needs: who is signed in, their roles, and a terms warning 30 days ahead."""
    who = guards.signed_in()  # ids only: every page renders the menu, so no account query
    if who is None:
        return {"auth_account": None, "auth_roles": frozenset(), "auth_terms_warning": None}
    roles = guards.current_roles_of_account()
    warning = False
    if roles:
        valid_until = guards.terms_accepted_until()
        warning = valid_until is None or expires_soon(valid_until, utcnow())
    return {
        "auth_account": who,
        "auth_roles": frozenset(role.value for role in roles),
        "auth_terms_warning": warning,
    }


def init_app(app: Flask) -> None:
    """Register the blueprint and everything signing in needs."""
    portal_state: PortalState = app.extensions["portal"]
    settings = portal_state.settings
    if settings.is_production:
        demo.refuse_demo_accounts_in_production(portal_state.database)
    app.session_interface = ServerSessionInterface()
    app.extensions["auth_keys"] = AuthKeys.from_secret(settings.secret_key)
    ratelimits.install(app, settings.ratelimit_storage_url)

    login_manager = LoginManager()
    login_manager.session_protection = None  # the server-side session is the protection
    login_manager.user_loader(lambda _user_id: None)  # no remember-me cookie: nothing restores a session
    login_manager.request_loader(lambda _request: guards.current_account())
    login_manager.init_app(app)

    app.register_blueprint(blueprint)
    app.context_processor(_nav_context)
    cli.init_app(app)
    app.extensions.setdefault("demo_setup", []).append(demo.create_demo_accounts)

    database = portal_state.database

    def on_members_pulled(_event: MembersPulled) -> None:
        with database.transaction() as session:
            recompute_grants(session, now=utcnow(), actor=PULL_ROLES_ACTOR)

    portal_state.events.subscribe(MembersPulled, on_members_pulled)
    portal_state.events.subscribe(MembersMerged, merges.members_merged_handler(database))
    portal_state.events.subscribe(
        PullAborted,
        sync_alerts.pull_aborted_handler(database, portal_state.mailer, locale=settings.default_locale),
    )
