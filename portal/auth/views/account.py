"""Activation and password links: ask for one (same answer whether or not the member exists), use it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.auth.forms import LinkRequestForm, NewPasswordForm
from portal.auth.guards import client_info, public, sign_in_flow
from portal.auth.mail import send_notices
from portal.auth.services.accounts import find_password_link, request_password_link, set_password_from_link
from portal.auth.views.web import blueprint, ip_limits, login_session_row, web_session
from portal.core.clock import utcnow
from portal.core.errors import NotFound, ValidationFailed
from portal.core.extension import db_session

PASSWORD_PROBLEMS = {
    "too_short": _l("Use at least 12 characters. A sentence of a few words is easy to remember."),
    "too_long": _l("Use at most 1024 characters."),
    "common": _l("This password is on the list of most used passwords. Choose another one."),
    "guessable": _l(
        "This password is easy to guess: it leans on a common word, a name, a place or the party. A "
        "sentence of a few unrelated words works better."
    ),
}


def password_message(code: str) -> str:
    """The explanation for a refused password."""
    return str(PASSWORD_PROBLEMS.get(code, _("This password cannot be used.")))


def _request_link(template: str) -> ResponseReturnValue:
    form = LinkRequestForm()
    if form.validate_on_submit():
        ip = client_info().ip
        wait = ip_limits().seconds_to_wait("link", ip)
        if wait:
            return (
                render_template(
                    template, form=form, sent=False, error=_("Too many requests. Try again later.")
                ),
                429,
                {"Retry-After": str(wait)},
            )
        ip_limits().count("link", ip)
        database = db_session()
        notices = request_password_link(database, identifier=form.identifier.data or "", now=utcnow())
        database.commit()
        send_notices(notices)
        return render_template(template, form=form, sent=True, error="")
    return render_template(template, form=form, sent=False, error="")


@blueprint.route("/activate", methods=["GET", "POST"])
@public
def activate() -> ResponseReturnValue:
    """Ask for an activation link."""
    return _request_link("auth/activate.html")


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@public
def forgot_password() -> ResponseReturnValue:
    """Ask for a new-password link."""
    return _request_link("auth/forgot_password.html")


@blueprint.get("/set-password/<token>")
@public
def password_link(token: str) -> ResponseReturnValue:
    """The link from the mail: remember the token server-side and continue on an address without it."""
    try:
        find_password_link(db_session(), token, utcnow())
    except NotFound:
        return render_template("auth/link_invalid.html"), 404
    web_session()["auth_link_token"] = token
    return redirect(url_for("auth.set_password"))


@blueprint.route("/set-password", methods=["GET", "POST"])
@sign_in_flow
def set_password() -> ResponseReturnValue:
    """Choose a password with the link's token."""
    token = web_session().get("auth_link_token", "")
    if not token:
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        database = db_session()
        try:
            result = set_password_from_link(
                database,
                raw_token=token,
                password=form.password.data or "",
                client=client_info(),
                previous=login_session_row(),
                now=utcnow(),
            )
        except NotFound:
            web_session().pop("auth_link_token", None)
            return render_template("auth/link_invalid.html"), 404
        except ValidationFailed as refused:
            database.rollback()
            form.password.errors = [password_message(refused.fields.get("password", ""))]
            return render_template("auth/set_password.html", form=form), 422
        database.commit()
        send_notices(result.notices)
        web_session().pop("auth_link_token", None)
        if result.enrolling is not None:
            web_session().adopt(result.enrolling, result.raw_token)
            return redirect(url_for("auth.enrol_totp"))
        flash(_("Your password has been set. Sign in with it and your authenticator app."), "success")
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/set_password.html", form=form)
