"""The member's security page: sessions, authenticator app, recovery codes, password, confirming identity."""

from __future__ import annotations

import segno
from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from portal.auth import totp
from portal.auth.forms import ActionForm, ChangePasswordForm, CodeForm, ConfirmIdentityForm
from portal.auth.guards import (
    client_info,
    current_account,
    fresh_sign_in_required,
    sign_in_flow,
    sign_in_required,
)
from portal.auth.mail import send_notices
from portal.auth.models import Account, LoginSession, SessionStage
from portal.auth.services import sessions as session_service
from portal.auth.services.accounts import change_password as change_password_service
from portal.auth.services.factors import (
    confirm_totp_enrolment,
    email_code_allowed,
    new_recovery_codes,
    remaining_recovery_codes,
    send_email_code,
)
from portal.auth.services.reauth import confirm_identity
from portal.auth.services.sign_in import Step, complete_sign_in
from portal.auth.views.account import password_message
from portal.auth.views.web import blueprint, keys, login_session_row, safe_next, web_session
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.extension import db_session, settings


@blueprint.get("/security")
@sign_in_required
def security() -> ResponseReturnValue:
    """Sessions, factors and recovery codes of the signed-in account."""
    account = current_account()
    assert account is not None
    database = db_session()
    return render_template(
        "auth/security.html",
        account=account,
        sessions=session_service.open_sessions(database, account.id, utcnow()),
        current_id=web_session().record_id,
        recovery_left=remaining_recovery_codes(database, account.id),
        action_form=ActionForm(),
    )


@blueprint.post("/security/sessions/<int:session_id>/end")
@fresh_sign_in_required
def end_session(session_id: int) -> ResponseReturnValue:
    """End one of the account's other sessions (after a fresh confirmation)."""
    account = current_account()
    database = db_session()
    row = database.get(LoginSession, session_id)
    if (
        account is None
        or row is None
        or row.account_id != account.id
        or not ActionForm().validate_on_submit()
    ):
        return redirect(url_for("auth.security"))
    session_service.end_session(database, row, reason="ended_by_member", now=utcnow())
    database.commit()
    if row.id == web_session().record_id:
        web_session().drop()
        return redirect(url_for("home.landing"))
    flash(_("The session has been ended."), "success")
    return redirect(url_for("auth.security"))


@blueprint.post("/security/sessions/end-others")
@fresh_sign_in_required
def end_other_sessions() -> ResponseReturnValue:
    """Sign out everywhere else."""
    account = current_account()
    if account is not None and ActionForm().validate_on_submit():
        session_service.end_account_sessions(
            db_session(), account.id, reason="ended_by_member", now=utcnow(), keep_id=web_session().record_id
        )
        db_session().commit()
        flash(_("All your other sessions have been ended."), "success")
    return redirect(url_for("auth.security"))


def _enrolling_account() -> tuple[Account | None, bool]:
    """The account that may enrol now, and whether it came through an activation link."""
    row = login_session_row()
    now = utcnow()
    if row is not None and row.stage is SessionStage.ENROLLING and row.is_open(now) and row.account_id:
        return db_session().get(Account, row.account_id), True
    return current_account(), False


@blueprint.route("/security/authenticator", methods=["GET", "POST"])
@sign_in_flow
def enrol_totp() -> ResponseReturnValue:
    """Set up (or replace) the authenticator app: QR code, then a code from the app to confirm."""
    account, via_link = _enrolling_account()
    if account is None:
        return redirect(url_for("auth.sign_in"))
    if not via_link and not session_service.is_fresh_at(web_session().authenticated_at, utcnow()):
        return redirect(url_for("auth.reauthenticate", next=request.path))
    if "auth_pending_seed" not in web_session():
        web_session()["auth_pending_seed"] = keys().encrypt_seed(totp.new_seed())
    sealed = web_session()["auth_pending_seed"]
    seed = keys().decrypt_seed(sealed)
    form = CodeForm()
    if form.validate_on_submit():
        database = db_session()
        actor = Actor.account(account.id, account.member.member_number)
        try:
            codes, notices = confirm_totp_enrolment(
                database,
                account=account,
                encrypted_seed=sealed,
                code=form.code.data or "",
                keys=keys(),
                actor=actor,
                keep_session_id=web_session().record_id,
                now=utcnow(),
            )
            outcome = None
            if via_link:
                row = login_session_row()
                assert row is not None
                outcome = complete_sign_in(
                    database, account=account, pending=row, factor="totp", client=client_info(), now=utcnow()
                )
        except ValidationFailed:
            database.rollback()
            form.code.errors = [
                _("This code does not match. Check the time on your phone and try the next code.")
            ]
        else:
            database.commit()
            send_notices(notices)
            web_session().pop("auth_pending_seed", None)
            if outcome is not None and outcome.step is Step.SIGNED_IN and outcome.login_session is not None:
                web_session().adopt(outcome.login_session, outcome.raw_token)
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=True)
    uri = totp.provisioning_uri(seed, account_name=account.member.member_number)
    qr = Markup(segno.make(uri, error="m").svg_inline(scale=5, title=_("QR code for your authenticator app")))  # noqa: S704 - segno's own SVG
    allowed = email_code_allowed(db_session(), account, setting=settings().email_code_allowed, now=utcnow())
    return render_template(
        "auth/enrol_totp.html",
        form=form,
        qr=qr,
        seed=" ".join(seed[i : i + 4] for i in range(0, len(seed), 4)),
        via_link=via_link,
        can_skip=via_link and allowed,
        skip_form=ActionForm(),
    )


@blueprint.post("/security/authenticator/skip")
@sign_in_flow
def skip_enrolment() -> ResponseReturnValue:
    """Plain members may go without an app (codes by e-mail) where the settings allow."""
    row = login_session_row()
    if row is not None and row.stage is SessionStage.ENROLLING and ActionForm().validate_on_submit():
        session_service.end_session(db_session(), row, reason="enrolment_skipped", now=utcnow())
        db_session().commit()
        web_session().drop()
        flash(_("Your password has been set. Sign in with it; we will send you a code by e-mail."), "success")
    return redirect(url_for("auth.sign_in"))


@blueprint.post("/security/recovery-codes")
@fresh_sign_in_required
def regenerate_recovery_codes() -> ResponseReturnValue:
    """Ten new recovery codes, shown once; the old ones stop working."""
    account = current_account()
    if account is None or not ActionForm().validate_on_submit():
        return redirect(url_for("auth.security"))
    codes, notices = new_recovery_codes(
        db_session(),
        account=account,
        actor=Actor.account(account.id, account.member.member_number),
        now=utcnow(),
    )
    db_session().commit()
    send_notices(notices)
    return render_template("auth/recovery_codes.html", codes=codes, enrolled=False)


@blueprint.route("/security/password", methods=["GET", "POST"])
@sign_in_required
def change_password() -> ResponseReturnValue:
    """Change the password (the current one is needed); other sessions end."""
    account = current_account()
    assert account is not None
    form = ChangePasswordForm()
    if form.validate_on_submit():
        database = db_session()
        try:
            notices = change_password_service(
                database,
                account=account,
                current=form.current_password.data or "",
                new=form.password.data or "",
                keep_session_id=web_session().record_id,
                now=utcnow(),
            )
        except ValidationFailed as refused:
            database.rollback()
            if "current_password" in refused.fields:
                form.current_password.errors = [_("This is not your current password.")]
            else:
                form.password.errors = [password_message(refused.fields.get("password", ""))]
            return render_template("auth/change_password.html", form=form), 422
        database.commit()
        send_notices(notices)
        flash(_("Your password has been changed. Your other sessions were ended."), "success")
        return redirect(url_for("auth.security"))
    return render_template("auth/change_password.html", form=form)


@blueprint.route("/security/confirm", methods=["GET", "POST"])
@sign_in_required
def reauthenticate() -> ResponseReturnValue:
    """Confirm it is you (password and a code) before a sensitive change."""
    account = current_account()
    row = login_session_row()
    assert account is not None
    assert row is not None
    form = ConfirmIdentityForm()
    next_path = safe_next(request.values.get("next")) or url_for("auth.security")
    error = ""
    if form.validate_on_submit():
        database = db_session()
        outcome = confirm_identity(
            database,
            account=account,
            current=row,
            password=form.password.data or "",
            code=form.code.data or "",
            keys=keys(),
            client=client_info(),
            now=utcnow(),
        )
        database.commit()
        send_notices(outcome.notices)
        if outcome.step is Step.SIGNED_IN and outcome.login_session is not None:
            web_session().adopt(outcome.login_session, outcome.raw_token)
            return redirect(next_path)
        if outcome.step in {Step.VOIDED, Step.LOCKED}:
            web_session().drop()
            flash(_("Too many wrong attempts. Sign in again."), "error")
            return redirect(url_for("auth.sign_in"))
        error = (
            _("The password or the code is not correct.")
            if outcome.step is not Step.WAIT
            else _("Too many attempts. Try again later.")
        )
    return render_template(
        "auth/reauthenticate.html",
        form=form,
        error=error,
        next_path=next_path,
        has_totp=account.has_totp,
        send_form=ActionForm(),
    )


@blueprint.post("/security/confirm/send-code")
@sign_in_required
def reauth_send_code() -> ResponseReturnValue:
    """Mail a code to confirm identity (accounts without an authenticator app)."""
    account = current_account()
    row = login_session_row()
    if account is None or row is None or not ActionForm().validate_on_submit():
        return redirect(url_for("auth.security"))
    database = db_session()
    allowed = email_code_allowed(database, account, setting=settings().email_code_allowed, now=utcnow())
    try:
        notices = send_email_code(
            database, account=account, login_session=row, keys=keys(), allowed=allowed, now=utcnow()
        )
    except PermissionDenied as refused:
        flash(_(refused.message), "error")
        return redirect(url_for("auth.reauthenticate"))
    database.commit()
    send_notices(notices)
    flash(_("We have sent a code to your e-mail address. It works for 10 minutes."), "success")
    return redirect(url_for("auth.reauthenticate", next=safe_next(request.form.get("next"))))


@blueprint.get("/security/authenticator-required")
@sign_in_required
def need_authenticator() -> ResponseReturnValue:
    """Officer functions need the authenticator app (a mailed code is not enough)."""
    account = current_account()
    assert account is not None
    return render_template("auth/need_authenticator.html", has_totp=account.has_totp), 403
