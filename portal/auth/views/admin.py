"""Administration: terms versions and who has not accepted them, explicit grants, accounts."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from portal.auth.forms import (
    AccountLookupForm,
    ActionForm,
    GrantForm,
    ProofingForm,
    ReasonForm,
    publish_terms_form,
)
from portal.auth.guards import admin_required, current_actor, officer_required
from portal.auth.mail import send_notices
from portal.auth.models import Account, GrantSource, RoleGrant, TermsVersion
from portal.auth.roles import Role
from portal.auth.services import accounts as account_service
from portal.auth.services.factors import reset_second_factor
from portal.auth.services.grants import end_grant, grant_role
from portal.auth.services.sessions import end_account_sessions
from portal.auth.services.terms import acceptances_per_version, publish_terms, unaccepted_by_branch
from portal.auth.views.web import blueprint, language_name, role_label
from portal.core.clock import local_midnight, utcnow
from portal.core.errors import DomainError
from portal.core.extension import db_session, settings
from portal.members.models import Member, OrgUnit, OrgUnitKind


@blueprint.route("/admin/terms", methods=["GET", "POST"])
@officer_required(Role.ADMIN, terms_gate=False)  # publishing the first version cannot wait for its acceptance
def admin_terms() -> ResponseReturnValue:
    """Terms versions, newest first, and a form to publish the next one."""
    database = db_session()
    original = settings().default_locale  # the party's own language: its text is the binding one
    languages = settings().locales
    form = publish_terms_form(original, languages, {code: language_name(code) for code in languages})
    if form.validate_on_submit():
        try:
            publish_terms(
                database,
                version=form.version.data or "",
                title=form.title.data or "",
                body_markdown=form.body_markdown.data or "",
                requires_reacceptance=bool(form.requires_reacceptance.data),
                actor=current_actor(),
                now=utcnow(),
                language=original,
                translations=form.translations(),
            )
        except DomainError as refused:
            database.rollback()
            for name, problem in refused.fields.items():
                getattr(form, name).errors = [_(problem)]
        else:
            database.commit()
            flash(_("The new terms have been published."), "success")
            return redirect(url_for("auth.admin_terms"))
    versions = database.scalars(select(TermsVersion).order_by(TermsVersion.published_at.desc())).all()
    return render_template(
        "auth/admin_terms.html",
        form=form,
        versions=versions,
        accepted=acceptances_per_version(database),
        original=original,
    )


@blueprint.get("/admin/terms/overview")
@admin_required
def admin_terms_overview() -> ResponseReturnValue:
    """Per org unit: officers who have not (re-)accepted the current terms."""
    return render_template(
        "auth/admin_terms_overview.html", pending=unaccepted_by_branch(db_session(), utcnow())
    )


def _grant_form(form: GrantForm) -> GrantForm:
    form.role.choices = [(role.value, role_label(role)) for role in Role]
    units = db_session().execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.kind)
        .where(
            OrgUnit.removed_at.is_(None),
            OrgUnit.kind.in_([OrgUnitKind.NATIONAL, OrgUnitKind.REGION, OrgUnitKind.BRANCH]),
        )
        .order_by(OrgUnit.kind, OrgUnit.name)
    )
    form.scope_unit_id.choices = [("", "—")] + [
        (str(unit_id), f"{name} ({kind.value})") for unit_id, name, kind in units
    ]
    return form


@blueprint.route("/admin/grants", methods=["GET", "POST"])
@admin_required
def admin_grants() -> ResponseReturnValue:
    """Explicit grants (with end date and reason) and a form to add one."""
    database = db_session()
    form = _grant_form(GrantForm())
    if form.validate_on_submit():
        member = database.scalar(
            select(Member).where(Member.member_number == (form.member_number.data or "").strip())
        )
        if member is None:
            form.member_number.errors = [_("No member has this number.")]
        else:
            ends_on = form.ends_on.data
            assert ends_on is not None
            try:
                grant_role(
                    database,
                    member=member,
                    role=Role(form.role.data),
                    scope_unit_id=int(form.scope_unit_id.data) if form.scope_unit_id.data else None,
                    ends_at=local_midnight(ends_on),
                    reason=form.reason.data or "",
                    actor=current_actor(),
                    now=utcnow(),
                )
            except DomainError as refused:
                database.rollback()
                flash(
                    " ".join([_(refused.message), *(_(problem) for problem in refused.fields.values())]),
                    "error",
                )
            else:
                database.commit()
                flash(_("The role has been granted."), "success")
                return redirect(url_for("auth.admin_grants"))
    now = utcnow()
    grants = database.execute(
        select(RoleGrant, Member)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(
            RoleGrant.source == GrantSource.EXPLICIT,
            RoleGrant.open_at(now),
        )
        .order_by(RoleGrant.ends_at)
    ).all()
    return render_template("auth/admin_grants.html", form=form, grants=grants, end_form=ReasonForm())


@blueprint.post("/admin/grants/<int:grant_id>/end")
@admin_required
def admin_end_grant(grant_id: int) -> ResponseReturnValue:
    """End an explicit grant now."""
    database = db_session()
    grant = database.get(RoleGrant, grant_id)
    form = ReasonForm()
    if grant is not None and form.validate_on_submit():
        try:
            end_grant(
                database, grant=grant, reason=form.reason.data or "", actor=current_actor(), now=utcnow()
            )
        except DomainError as refused:
            database.rollback()
            flash(_(refused.message), "error")
        else:
            database.commit()
            flash(_("The grant has ended."), "success")
    return redirect(url_for("auth.admin_grants"))


@blueprint.route("/admin/accounts", methods=["GET", "POST"])
@admin_required
def admin_accounts() -> ResponseReturnValue:
    """Find an account by member number (posted, so the number stays out of URLs and logs)."""
    form = AccountLookupForm()
    account = None
    if form.validate_on_submit():
        account = db_session().scalar(
            select(Account)
            .join(Member, Member.id == Account.member_id)
            .where(Member.member_number == (form.member_number.data or "").strip())
        )
        if account is None:
            form.member_number.errors = [_("No account has this member number.")]
    return render_template(
        "auth/admin_accounts.html",
        form=form,
        account=account,
        reason_form=ReasonForm(),
        proofing_form=ProofingForm(),
        action_form=ActionForm(),
    )


@blueprint.post("/admin/accounts/<int:account_id>/<action>")
@admin_required
def admin_account_action(account_id: int, action: str) -> ResponseReturnValue:
    """Disable, enable, end sessions or reset the second factor of an account."""
    database = db_session()
    account = database.get(Account, account_id)
    if account is None or action not in {"disable", "enable", "end-sessions", "reset-factor"}:
        return redirect(url_for("auth.admin_accounts"))
    notices = []
    try:
        if action == "disable" and (form := ReasonForm()).validate_on_submit():
            notices = account_service.disable_account(
                database, account=account, reason=form.reason.data or "", actor=current_actor(), now=utcnow()
            )
        elif action == "enable" and ActionForm().validate_on_submit():
            account_service.enable_account(database, account=account, actor=current_actor(), now=utcnow())
        elif action == "end-sessions" and ActionForm().validate_on_submit():
            end_account_sessions(database, account.id, reason="ended_by_admin", now=utcnow())
        elif action == "reset-factor" and (proof := ProofingForm()).validate_on_submit():
            notices = reset_second_factor(
                database,
                account=account,
                proofing=proof.proofing.data or "",
                actor=current_actor(),
                now=utcnow(),
            )
        else:
            flash(_("Fill in the form completely."), "error")
            return redirect(url_for("auth.admin_accounts"))
    except DomainError as refused:
        database.rollback()
        flash(_(refused.message), "error")
        return redirect(url_for("auth.admin_accounts"))
    database.commit()
    send_notices(notices)
    flash(_("Done."), "success")
    return redirect(url_for("auth.admin_accounts"))
