"""Sign in: password, then TOTP, a recovery code or (plain members) a mailed code; sign out."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.auth.forms import ActionForm, CodeForm, RecoveryCodeForm, SignInForm
from portal.auth.guards import client_info, current_account, sign_in_flow
from portal.auth.mail import send_notices
from portal.auth.models import Account
from portal.auth.services.factors import (
    email_code_allowed,
    send_email_code,
    sign_in_with_email_code,
    sign_in_with_recovery_code,
    sign_in_with_totp,
)
from portal.auth.services.sessions import end_session
from portal.auth.services.sign_in import Outcome, Step, pending_account, sign_in_with_password
from portal.auth.views.web import blueprint, ip_limits, keys, login_session_row, safe_next, web_session
from portal.core.clock import utcnow
from portal.core.errors import PermissionDenied
from portal.core.extension import db_session, settings


def _too_many(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return _("Too many attempts. Try again in %(minutes)s minutes.", minutes=minutes)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@sign_in_flow
def sign_in() -> ResponseReturnValue:
    """E-mail address or member number, and password."""
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET" and current_account() is not None:
        return redirect(next_path or url_for("home.landing"))
    form = SignInForm()
    error = ""
    status = 200
    if form.validate_on_submit():
        ip = client_info().ip
        wait = ip_limits().seconds_to_wait("sign-in", ip)
        outcome = Outcome(Step.WAIT, retry_after=wait) if wait else None
        database = db_session()
        if outcome is None:
            outcome = sign_in_with_password(
                database,
                identifier=form.identifier.data or "",
                password=form.password.data or "",
                keys=keys(),
                client=client_info(),
                previous=login_session_row(),
                now=utcnow(),
            )
        if outcome.step is Step.SECOND_FACTOR and outcome.login_session is not None:
            web_session().adopt(outcome.login_session, outcome.raw_token)
            web_session()["auth_next"] = next_path or ""
            web_session().store_in(outcome.login_session)
        database.commit()
        send_notices(outcome.notices)
        if outcome.step is Step.SECOND_FACTOR:
            return redirect(url_for("auth.second_factor"))
        if outcome.step is Step.WAIT:
            error, status = _too_many(outcome.retry_after), 429
        else:
            ip_limits().count("sign-in", ip)
            g.auth_failure = True
            error = _("The e-mail address or member number and password do not match.")
    response = render_template("auth/sign_in.html", form=form, error=error, next_path=next_path or "")
    if status == 429:
        return response, 429, {"Retry-After": str(outcome.retry_after if outcome else 60)}
    return response, status


def _pending() -> Account | None:
    return pending_account(db_session(), login_session_row(), utcnow()) if web_session().record_id else None


def _finish(outcome: Outcome, template: str, form: object, account: Account) -> ResponseReturnValue:
    """Shared ending of the second-factor steps."""
    if outcome.step is Step.SIGNED_IN and outcome.login_session is not None:
        next_path = safe_next(web_session().get("auth_next")) or url_for("home.landing")
        web_session().adopt(outcome.login_session, outcome.raw_token)
        web_session().pop("auth_next", None)
        web_session().store_in(outcome.login_session)
        db_session().commit()
        send_notices(outcome.notices)
        return redirect(next_path)
    db_session().commit()
    send_notices(outcome.notices)
    if outcome.step in {Step.VOIDED, Step.LOCKED}:
        web_session().drop()
        flash(
            _("Too many wrong codes. Sign in again.")
            if outcome.step is Step.VOIDED
            else _(
                "Your second factor is locked after too many wrong codes. Ask for a new password link to "
                "unlock it."
            ),
            "error",
        )
        return redirect(url_for("auth.sign_in"))
    ip_limits().count("sign-in", client_info().ip)
    error = _("This code is not correct, or it has already been used. Wait for the next code and try again.")
    return render_template(template, form=form, error=error, **_choices(account)), 200


def _choices(account: Account) -> dict[str, bool]:
    allowed = email_code_allowed(db_session(), account, setting=settings().email_code_allowed, now=utcnow())
    return {"has_totp": account.has_totp, "email_allowed": allowed}


def _wait_response(template: str, form: object, account: Account) -> ResponseReturnValue | None:
    wait = ip_limits().seconds_to_wait("sign-in", client_info().ip)
    if not wait:
        return None
    return (
        render_template(template, form=form, error=_too_many(wait), **_choices(account)),
        429,
        {"Retry-After": str(wait)},
    )


@blueprint.route("/sign-in/code", methods=["GET", "POST"])
@sign_in_flow
def second_factor() -> ResponseReturnValue:
    """The code from the authenticator app."""
    account = _pending()
    if account is None:
        return redirect(url_for("auth.sign_in"))
    if not account.has_totp and request.method == "GET":
        return redirect(url_for("auth.email_code_sign_in"))
    form = CodeForm()
    if form.validate_on_submit():
        blocked = _wait_response("auth/second_factor.html", form, account)
        if blocked:
            return blocked
        pending = login_session_row()
        assert pending is not None
        outcome = sign_in_with_totp(
            db_session(),
            account=account,
            pending=pending,
            code=form.code.data or "",
            keys=keys(),
            client=client_info(),
            now=utcnow(),
        )
        return _finish(outcome, "auth/second_factor.html", form, account)
    return render_template("auth/second_factor.html", form=form, error="", **_choices(account))


@blueprint.route("/sign-in/recovery-code", methods=["GET", "POST"])
@sign_in_flow
def recovery_sign_in() -> ResponseReturnValue:
    """One of the recovery codes instead of the app."""
    account = _pending()
    if account is None:
        return redirect(url_for("auth.sign_in"))
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        blocked = _wait_response("auth/recovery_sign_in.html", form, account)
        if blocked:
            return blocked
        pending = login_session_row()
        assert pending is not None
        outcome = sign_in_with_recovery_code(
            db_session(),
            account=account,
            pending=pending,
            code=form.code.data or "",
            client=client_info(),
            now=utcnow(),
        )
        return _finish(outcome, "auth/recovery_sign_in.html", form, account)
    return render_template("auth/recovery_sign_in.html", form=form, error="", **_choices(account))


@blueprint.route("/sign-in/email-code", methods=["GET", "POST"])
@sign_in_flow
def email_code_sign_in() -> ResponseReturnValue:
    """A six-digit code by mail, for plain members where the settings allow it."""
    account = _pending()
    if account is None:
        return redirect(url_for("auth.sign_in"))
    choices = _choices(account)
    form = CodeForm()
    if not choices["email_allowed"]:
        return render_template(
            "auth/email_code.html", form=form, error="", send_form=ActionForm(), **choices
        ), 403
    if form.validate_on_submit():
        blocked = _wait_response("auth/email_code.html", form, account)
        if blocked:
            return blocked
        pending = login_session_row()
        assert pending is not None
        outcome = sign_in_with_email_code(
            db_session(),
            account=account,
            pending=pending,
            code=form.code.data or "",
            keys=keys(),
            client=client_info(),
            allowed=True,
            now=utcnow(),
        )
        if outcome.step is Step.WRONG:
            db_session().commit()
            ip_limits().count("sign-in", client_info().ip)
            error = _("This code is not correct or no longer valid. Ask for a new code if needed.")
            return render_template(
                "auth/email_code.html", form=form, error=error, send_form=ActionForm(), **choices
            )
        return _finish(outcome, "auth/email_code.html", form, account)
    return render_template("auth/email_code.html", form=form, error="", send_form=ActionForm(), **choices)


@blueprint.post("/sign-in/email-code/send")
@sign_in_flow
def send_sign_in_code() -> ResponseReturnValue:
    """Mail a new code for this pending sign-in (the previous one stops working)."""
    account = _pending()
    if account is None or not ActionForm().validate_on_submit():
        return redirect(url_for("auth.sign_in"))
    pending = login_session_row()
    assert pending is not None
    database = db_session()
    allowed = email_code_allowed(database, account, setting=settings().email_code_allowed, now=utcnow())
    try:
        notices = send_email_code(
            database, account=account, login_session=pending, keys=keys(), allowed=allowed, now=utcnow()
        )
    except PermissionDenied as refused:
        flash(_(refused.message), "error")
        return redirect(url_for("auth.email_code_sign_in"))
    database.commit()
    send_notices(notices)
    flash(_("We have sent a code to your e-mail address. It works for 10 minutes."), "success")
    return redirect(url_for("auth.email_code_sign_in"))


@blueprint.post("/sign-out")
@sign_in_flow
def sign_out() -> ResponseReturnValue:
    """End this session on the server and in the browser."""
    form = ActionForm()
    row = login_session_row()
    if form.validate_on_submit() and row is not None:
        end_session(db_session(), row, reason="signed_out", now=utcnow())
        db_session().commit()
    web_session().drop()
    response = redirect(url_for("home.landing"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
