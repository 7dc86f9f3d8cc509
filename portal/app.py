"""The application factory: composes settings, database, mailer and every feature's `init_app`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from babel import Locale
from flask import Flask, Response, request
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from audit import cli as audit_cli
from config import Settings, load_settings
from crm_sync import cli as crm_cli
from portal import jobs
from portal.admin import views as admin_views
from portal.auth import views as auth_views
from portal.core import cli as db_cli
from portal.core import clock, context, error_pages, input_guard, security_headers
from portal.core.database import Database
from portal.core.events import EventBus
from portal.core.extension import PortalState, install
from portal.core.mailer import SmtpMailer
from portal.home import views as home_views
from portal.meetings import views as meeting_views
from portal.members import views as members_views

PACKAGE_ROOT = Path(__file__).resolve().parent
csrf = CSRFProtect()


def _locale_selector(settings: Settings) -> Callable[[], Locale]:
    """The request's language: the `lang` cookie, else the browser's choice, else the default. Answers
    with `Locale`s parsed once: given a code, flask-babel parses it (with a file lookup) on every request."""
    known = {code: Locale.parse(code) for code in settings.locales}
    fallback = known.get(settings.default_locale) or Locale.parse(settings.default_locale)

    def select() -> Locale:
        chosen = request.cookies.get("lang", "")
        if chosen in known:
            return known[chosen]
        return known.get(request.accept_languages.best_match(settings.locales) or "", fallback)

    return select


def create_app(settings: Settings | None = None) -> Flask:
    """Build a portal app; tests pass their own `Settings`, everything else reads the environment."""
    settings = settings or load_settings()
    clock.use_local_zone(settings.timezone)  # a meeting's day is its day on the portal's wall clock
    app = Flask(
        "portal",
        instance_path=str(settings.instance_path),
        root_path=str(PACKAGE_ROOT),
        template_folder="templates",
        static_folder="static",
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        TESTING=settings.environment == "test",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="__Host-portal" if settings.is_production else "portal",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=settings.is_production,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_ROOT / "translations"),
    )
    if settings.trusted_proxy_count:
        count = settings.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]
    settings.instance_path.mkdir(parents=True, exist_ok=True)

    state = PortalState(
        settings=settings,
        database=Database(settings.database_url),
        events=EventBus(),
        mailer=SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        ),
    )
    install(app, state)

    @app.before_request
    def start_request() -> None:
        context.request_id.set(request.headers.get("X-Request-Id", "")[:32] or context.new_request_id())

    @app.after_request
    def tag_response(response: Response) -> Response:
        response.headers["X-Request-Id"] = context.request_id.get()
        return response

    @app.context_processor
    def inject_settings() -> dict[str, object]:
        return {"portal_settings": settings}

    app.jinja_env.globals["url_for_known"] = lambda endpoint: endpoint in app.view_functions
    app.jinja_env.globals["get_locale"] = get_locale

    Babel(app, locale_selector=_locale_selector(settings))
    csrf.init_app(app)
    security_headers.init_app(app, production=settings.is_production)
    error_pages.init_app(app)
    input_guard.init_app(app)

    for feature in (
        db_cli,
        audit_cli,
        crm_cli,
        auth_views,
        home_views,
        meeting_views,
        members_views,
        admin_views,
        jobs,
    ):
        feature.init_app(app)

    logging.getLogger("portal").setLevel(logging.INFO)
    return app
