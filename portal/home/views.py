"""Landing page, language switch and `/healthz`."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select, text

from crm_sync.models import SyncOutcome, SyncRun
from portal.core.clock import utcnow
from portal.core.extension import db_session, settings

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def landing():
    """What the portal is, and the way in."""
    return render_template("home/landing.html")


@blueprint.post("/language")
def choose_language():
    """Remember the chosen language in a cookie and go back where the person was."""
    language = request.form.get("language", "")
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for("home.landing")
    response = redirect(target)
    if language in settings().locales:
        response.set_cookie(
            "lang",
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=settings().is_production,
            httponly=True,
        )
    return response


@blueprint.get("/healthz")
def health():
    """Database reachable, and how old the last successful pull is (for monitoring)."""
    session = db_session()
    try:
        session.execute(text("SELECT 1"))
        database_ok = True
    except Exception:
        database_ok = False
    last_pull = None
    if database_ok:
        last_pull = session.scalar(
            select(SyncRun.finished_at)
            .where(SyncRun.outcome == SyncOutcome.SUCCEEDED)
            .order_by(SyncRun.finished_at.desc())
            .limit(1)
        )
    age = None if last_pull is None else round((utcnow() - last_pull).total_seconds())
    body = {
        "status": "ok" if database_ok else "unavailable",
        "database": "ok" if database_ok else "unreachable",
        "last_successful_pull_at": last_pull.isoformat() if last_pull else None,
        "last_successful_pull_age_seconds": age,
    }
    return jsonify(body), 200 if database_ok else 503


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(blueprint)
