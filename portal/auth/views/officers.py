"""Why do I have these rights, and the yearly terms gate."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select

from portal.auth.forms import AcceptTermsForm
from portal.auth.guards import client_info, current_account, current_actor, officer_required, sign_in_required
from portal.auth.models import GrantSource
from portal.auth.scopes import current_grants, unit_ids_in_scope
from portal.auth.services.terms import accept_terms, terms_status, text_in
from portal.auth.views.web import blueprint, safe_next
from portal.core.clock import utcnow
from portal.core.errors import Conflict
from portal.core.extension import db_session, settings
from portal.members.models import Member, OrgUnit, OrgUnitKind, Position


def render_markdown(text: str) -> Markup:
    """Markdown with raw HTML and javascript:/data: links refused (markdown-it `js-default`)."""
    return Markup(MarkdownIt("js-default").render(text))  # noqa: S704 - js-default escapes raw HTML


@blueprint.get("/rights")
@sign_in_required
def rights() -> ResponseReturnValue:
    """Each current grant with where it comes from, and the state of the terms."""
    account = current_account()
    assert account is not None
    database = db_session()
    explained = []
    for grant in current_grants(database, account.member_id):
        position = database.get(Position, grant.source_position_id) if grant.source_position_id else None
        explained.append(
            {"grant": grant, "position": position, "explicit": grant.source is GrantSource.EXPLICIT}
        )
    status = terms_status(database, account.id, utcnow())
    return render_template("auth/rights.html", grants=explained, status=status, now=utcnow())


@blueprint.route("/terms", methods=["GET", "POST"])
@sign_in_required
def terms() -> ResponseReturnValue:
    """Read and accept the current terms (needed yearly for every officer function)."""
    account = current_account()
    assert account is not None
    database = db_session()
    status = terms_status(database, account.id, utcnow())
    form = AcceptTermsForm()
    next_path = safe_next(request.values.get("next")) or url_for("auth.rights")
    locale = get_locale()  # as configured in PORTAL_LOCALES ('en', or 'en_GB'), as the texts are stored
    page_language = str(locale) if locale is not None else settings().default_locale
    if status.current is not None and form.validate_on_submit():
        try:
            accept_terms(
                database,
                account=account,
                version_id=int(form.version_id.data or 0),
                client=client_info(),
                actor=current_actor(),
                now=utcnow(),
                language=form.language.data or page_language,  # the text the page showed
            )
        except (Conflict, ValueError):
            database.rollback()
            flash(_("These terms have been replaced. Read the current version."), "error")
            return redirect(url_for("auth.terms", next=next_path))
        database.commit()
        flash(_("Thank you. You have accepted the terms for one year."), "success")
        return redirect(next_path)
    if status.current is None:
        return render_template("auth/terms.html", form=form, status=status, next_path=next_path)
    form.version_id.data = str(status.current.id)
    text = text_in(status.current, page_language)
    form.language.data = text.language
    return render_template(
        "auth/terms.html",
        form=form,
        status=status,
        text=text,
        body=render_markdown(text.body_markdown),
        original_body=Markup("") if text.is_original else render_markdown(status.current.body_markdown),
        page_language=page_language,
        next_path=next_path,
        now=utcnow(),
    )


@blueprint.get("/rights/area")
@officer_required()
def working_area() -> ResponseReturnValue:
    """The branches an officer's grants reach, with their number of current members."""
    account = current_account()
    assert account is not None
    database = db_session()
    units = sorted(unit_ids_in_scope(database, account))
    counts = dict(
        database.execute(
            select(Member.branch_id, func.count(Member.id))
            .where(Member.branch_id.in_(units), Member.removed_at.is_(None))
            .group_by(Member.branch_id)
        ).all()
    )
    branches = database.scalars(
        select(OrgUnit)
        .where(OrgUnit.id.in_(units), OrgUnit.kind == OrgUnitKind.BRANCH)
        .order_by(OrgUnit.name)
    ).all()
    rows = [(branch, counts.get(branch.id, 0)) for branch in branches]
    return render_template("auth/working_area.html", rows=rows, total=sum(count for _branch, count in rows))
