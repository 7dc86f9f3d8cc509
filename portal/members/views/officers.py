"""Member search for officers: search in scope, a member's page, editing it, and exports."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from audit.services import record_read
from crm_sync.web import push_now
from portal.auth.guards import (
    current_account,
    current_actor,
    current_roles_of_account,
    fresh_sign_in_required,
    officer_required,
)
from portal.auth.roles import Role
from portal.auth.scopes import roles_over_unit, unit_ids_in_scope
from portal.auth.views.web import function_label
from portal.core.clock import today
from portal.core.downloads import download
from portal.core.errors import NotFound, ValidationFailed
from portal.core.extension import db_session
from portal.members import records
from portal.members.contact_details import InvalidValue
from portal.members.forms import MemberDetailsForm, MemberFormData, MemberSearchForm
from portal.members.models import Member, MembershipStatus, PositionFunction
from portal.members.services import update_member
from portal.members.services.member_search import (
    EXPORT_TOO_LARGE_FIELDS,
    MemberFilters,
    Scope,
    member_in_scope,
    members_for_export,
    search_members,
)
from portal.members.spreadsheets import csv_bytes, xlsx_bytes
from portal.members.views.labels import FIELD_LABELS, STATUS_LABELS
from portal.members.views.rate_limits import limit
from portal.members.views.responses import json_response, wants_json
from portal.members.visibility import Relation, editable_fields, visible_fields

log = logging.getLogger("portal.security")
blueprint = Blueprint("member_search", __name__, url_prefix="/members", template_folder="../templates")
SEARCH_ROLES = (Role.BRANCH_BOARD, Role.REGIONAL_OFFICER, Role.NATIONAL_ADMINISTRATOR)
EXPORT_LIMIT = 5000
#: Which field a filter reads; a filter is offered only when the officer may see that field.
FILTER_FIELDS = {
    "name": "family_name",
    "member_number": "member_number",
    "postcode_from": "postcode",
    "postcode_to": "postcode",
    "statuses": "status",
    "member_since_from": "member_since",
    "member_since_to": "member_since",
    "age_min": "birth_date",
    "age_max": "birth_date",
    "functions": "positions",
    "interests": "interests",
}


def _search_roles() -> frozenset[Role]:
    return current_roles_of_account() & frozenset(SEARCH_ROLES)


def _scope() -> Scope:
    account = current_account()
    assert account is not None
    session = db_session()
    return Scope.of(session, unit_ids_in_scope(session, account, *SEARCH_ROLES))


def _list_fields() -> frozenset[str]:
    """Fields every search role of the officer may see: what lists, filters and exports use."""
    roles = _search_roles()
    sets = [visible_fields(frozenset({role}), Relation.IN_SCOPE) for role in roles]
    return frozenset.intersection(*sets) if sets else frozenset()


def _search_form() -> MemberSearchForm:
    form = MemberSearchForm()
    form.statuses.choices = [
        SelectChoice(status.value, str(STATUS_LABELS[status.value])) for status in MembershipStatus
    ]
    form.functions.choices = [
        SelectChoice(function.value, function_label(function)) for function in PositionFunction
    ]
    allowed = _list_fields()
    form.keep_only(frozenset(name for name, field in FILTER_FIELDS.items() if field in allowed))
    return form


def _filters(form: MemberSearchForm) -> MemberFilters:
    def value(name: str) -> Any:
        return form[name].data if name in form else None

    return MemberFilters(
        name=value("name") or "",
        member_number=(value("member_number") or "").strip(),
        postcode_from=(value("postcode_from") or "").strip(),
        postcode_to=(value("postcode_to") or "").strip(),
        statuses=frozenset(MembershipStatus(item) for item in value("statuses") or []),
        member_since_from=value("member_since_from"),
        member_since_to=value("member_since_to"),
        age_min=value("age_min"),
        age_max=value("age_max"),
        functions=frozenset(PositionFunction(item) for item in value("functions") or []),
        interests=(value("interests").strip(),) if (value("interests") or "").strip() else (),
    )


def _rows(members: list[Member], allowed: frozenset[str]) -> list[dict[str, Any]]:
    on = today()
    return [
        records.visible_record({"id": member.id, **records.member_values(member, on=on)}, allowed)
        for member in members
    ]


@blueprint.route("", methods=["GET"])
@officer_required(*SEARCH_ROLES)
def index() -> ResponseReturnValue:
    """The empty search form."""
    return render_template(
        "members/search.html",
        form=_search_form(),
        page=None,
        allowed=_list_fields(),
        labels=FIELD_LABELS,
        status_labels=STATUS_LABELS,
    )


@blueprint.post("/search")
@officer_required(*SEARCH_ROLES)
def search() -> ResponseReturnValue:
    """Members in scope matching the filters; only fields the officer's roles may see are sent."""
    limit("member-search")
    form = _search_form()
    allowed = _list_fields()
    page = error = None
    if form.validate():
        try:
            page = search_members(
                db_session(), scope=_scope(), filters=_filters(form), page=form.page.data or 1, today=today()
            )
        except ValidationFailed as problem:
            error = _(problem.message)
    if wants_json():
        if page is None:
            return json_response({"error": "validation_failed", "message": error, "fields": form.errors}, 422)
        return json_response(
            {
                "members": _rows(page.members, allowed),
                "similar": _rows(page.similar, allowed),
                "page": page.page,
                "has_more": page.has_more,
            }
        )
    status = 200 if page is not None else 422
    return render_template(
        "members/search.html",
        form=form,
        page=page,
        error=error,
        allowed=allowed,
        labels=FIELD_LABELS,
        rows=_rows(page.members, allowed) if page else [],
        similar=_rows(page.similar, allowed) if page else [],
        status_labels=STATUS_LABELS,
    ), status


def _member_or_404(member_id: int) -> tuple[Member, frozenset[Role]]:
    session = db_session()
    account = current_account()
    assert account is not None
    try:
        member = member_in_scope(session, member_id, _scope())
    except NotFound as missing:
        log.warning("member outside scope requested: account=%s member=%s", account.id, member_id)
        raise NotFound(_(missing.message)) from None
    roles = roles_over_unit(session, account, member.branch_id) & frozenset(SEARCH_ROLES)
    if not roles and member.id != account.member_id:
        log.warning("member outside scope requested: account=%s member=%s", account.id, member_id)
        abort(404)
    return member, roles


@blueprint.route("/<int:member_id>", methods=["GET", "POST"])
@officer_required(*SEARCH_ROLES)
def detail(member_id: int) -> ResponseReturnValue:
    """A member's page for an officer in scope (read-access log); edit what the policy allows."""
    limit("member-detail")
    member, roles = _member_or_404(member_id)
    session = db_session()
    allowed = visible_fields(roles, Relation.IN_SCOPE)
    may_edit = editable_fields(roles, Relation.IN_SCOPE)
    form = MemberDetailsForm(obj=None if request.method == "POST" else MemberFormData(member))
    form.keep_only(may_edit)
    if request.method == "POST" and may_edit and form.validate():
        try:
            result = update_member(
                session,
                actor=current_actor(),
                member=member,
                changes=form.changes(),
                expected_version=form.version.data,
            )
        except (InvalidValue, ValidationFailed) as problem:
            session.rollback()
            flash(str(getattr(problem, "message", problem)), "error")
        else:
            session.commit()
            if result.message_ids:
                push_now(result.message_ids)
            flash(_("The changes are saved and sent to the membership administration."), "success")
            return redirect(url_for("member_search.detail", member_id=member.id))
    elif request.method == "POST" and not may_edit:
        abort(403)
    record_read(
        session, actor=current_actor(), subject_member_id=member.id, purpose="member detail (officer)"
    )
    session.commit()
    record = records.visible_record({"id": member.id, **records.member_values(member, on=today())}, allowed)
    if wants_json():
        return json_response({"member": record})
    return render_template(
        "members/member.html",
        member=member,
        record=record,
        labels=FIELD_LABELS,
        form=form,
        may_edit=bool(may_edit),
        status_labels=STATUS_LABELS,
    )


def _export_refused(
    form: MemberSearchForm, allowed: frozenset[str], problem: ValidationFailed
) -> ResponseReturnValue:
    """The search form again, with why nothing was exported (and nothing logged as read)."""
    message = _(problem.message, limit=format_number(EXPORT_LIMIT))
    if wants_json():
        if problem.fields == EXPORT_TOO_LARGE_FIELDS:
            body = {"error": "export_too_large", "message": message, "limit": EXPORT_LIMIT}
        else:
            body = {"error": "validation_failed", "message": message, "fields": problem.fields}
        return json_response(body, 422)
    return render_template(
        "members/search.html",
        form=form,
        page=None,
        error=message,
        allowed=allowed,
        labels=FIELD_LABELS,
        status_labels=STATUS_LABELS,
    ), 422


@blueprint.post("/export")
@officer_required(*SEARCH_ROLES)
@fresh_sign_in_required
def export() -> ResponseReturnValue:
    """The search's members as CSV or XLSX (fresh sign-in; each exported member is logged as read)."""
    limit("export")
    form = _search_form()
    if not form.validate() or form.export_format.data not in {"csv", "xlsx"}:
        return json_response({"error": "validation_failed", "fields": form.errors}, 422)
    session = db_session()
    allowed = _list_fields()
    try:
        members = members_for_export(
            session, scope=_scope(), filters=_filters(form), today=today(), limit=EXPORT_LIMIT
        )
    except ValidationFailed as problem:
        return _export_refused(form, allowed, problem)
    columns = records.export_columns(allowed)
    headers = [str(FIELD_LABELS[name]) for name in columns]
    on = today()
    rows = [records.export_row(records.member_values(member, on=on), columns) for member in members]
    actor = current_actor()
    for member in members:
        record_read(
            session, actor=actor, subject_member_id=member.id, purpose=f"export {form.export_format.data}"
        )
    session.commit()
    stamp = on.isoformat()
    if form.export_format.data == "xlsx":
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return download(
            xlsx_bytes(headers, rows, sheet=_("Members")), filename=f"members-{stamp}.xlsx", mimetype=mimetype
        )
    return download(csv_bytes(headers, rows), filename=f"members-{stamp}.csv", mimetype="text/csv")
