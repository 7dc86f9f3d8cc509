"""The who's-who: search people by name and filters, browse bodies, see a body's seats and a person."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from portal.auth.guards import sign_in_required
from portal.auth.views.web import function_label
from portal.core.clock import today
from portal.core.errors import NotFound, ValidationFailed
from portal.core.extension import db_session
from portal.members import directory_rules
from portal.members.forms import DirectorySearchForm
from portal.members.models import OrgLevel, OrgUnitKind, PositionFunction
from portal.members.services.directory import (
    DirectoryFilters,
    body_view,
    list_bodies,
    listed_person,
    search_people,
)
from portal.members.services.org_tree import subtree_ids, units_of_kind
from portal.members.views.labels import KIND_LABELS, LEVEL_LABELS
from portal.members.views.rate_limits import limit
from portal.members.views.responses import json_response, wants_json

blueprint = Blueprint("directory", __name__, url_prefix="/whos-who", template_folder="../templates")


def _any() -> SelectChoice:
    return SelectChoice("", _("Any"))


def _prepare(form: DirectorySearchForm) -> None:
    """Fill the choices (branches only of the chosen region, so the list stays short)."""
    session = db_session()
    form.level.choices = [_any()] + [
        SelectChoice(level.value, str(LEVEL_LABELS[level.value])) for level in OrgLevel
    ]
    form.kind.choices = [_any()] + [
        SelectChoice(kind.value, str(KIND_LABELS[kind.value])) for kind in OrgUnitKind
    ]
    form.role.choices = [_any()] + [
        SelectChoice(role.value, function_label(role)) for role in directory_rules.DIRECTORY_ROLES
    ]
    regions = units_of_kind(session, OrgUnitKind.REGION)
    form.region.choices = [_any()] + [SelectChoice(str(unit.id), unit.name) for unit in regions]
    region = form.region.data if form.region.data and form.region.data.isdigit() else ""
    branches = (
        units_of_kind(session, OrgUnitKind.BRANCH, within=subtree_ids(session, [int(region)]))
        if region
        else []
    )
    form.branch.choices = [_any()] + [SelectChoice(str(unit.id), unit.name) for unit in branches]


def _filters(form: DirectorySearchForm) -> DirectoryFilters:
    def number(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None

    return DirectoryFilters(
        level=OrgLevel(form.level.data) if form.level.data else None,
        region_id=number(form.region.data),
        branch_id=number(form.branch.data),
        kind=OrgUnitKind(form.kind.data) if form.kind.data else None,
        role=PositionFunction(form.role.data) if form.role.data else None,
    )


@blueprint.get("")
@sign_in_required
def index() -> ResponseReturnValue:
    """The search form and the list of bodies (bodies are browsed with plain links)."""
    limit("directory-page")
    form = DirectorySearchForm(formdata=None)
    form.region.data = request.args.get("region", "")
    _prepare(form)
    filters = DirectoryFilters(
        level=_enum(OrgLevel, request.args.get("level")),
        kind=_enum(OrgUnitKind, request.args.get("kind")),
        region_id=_number(request.args.get("region")),
    )
    page = _number(request.args.get("page")) or 1
    bodies, has_more = list_bodies(db_session(), filters=filters, page=min(page, 200))
    return render_template(
        "members/whos_who.html",
        form=form,
        results=None,
        bodies=bodies,
        has_more=has_more,
        page=page,
        browse=filters,
        kind_labels=KIND_LABELS,
        level_labels=LEVEL_LABELS,
    )


def _enum(kind: Any, value: str | None) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


@blueprint.post("/search")
@sign_in_required
def search() -> ResponseReturnValue:
    """People by name (prefix, typo-tolerant) and filters; the name travels in the POST body, not the URL."""
    limit("directory-search")
    form = DirectorySearchForm()
    _prepare(form)
    results = None
    error = ""
    if form.validate():
        try:
            results = search_people(
                db_session(),
                query_text=form.q.data or "",
                filters=_filters(form),
                page=form.page.data or 1,
                today=today(),
            )
        except ValidationFailed as problem:
            error = _(problem.message)
    elif wants_json():
        return json_response({"error": "validation_failed", "fields": form.errors}, 422)
    if wants_json():
        if results is None:
            return json_response({"error": "validation_failed", "message": error}, 422)
        return json_response(
            {
                "people": [person.as_dict() for person in results.people],
                "similar": [person.as_dict() for person in results.similar],
                "page": results.page,
                "has_more": results.has_more,
            }
        )
    status = 422 if error or form.errors else 200
    return render_template(
        "members/whos_who.html",
        form=form,
        results=results,
        error=error,
        bodies=None,
        kind_labels=KIND_LABELS,
        level_labels=LEVEL_LABELS,
    ), status


@blueprint.get("/bodies/<int:unit_id>")
@sign_in_required
def body(unit_id: int) -> ResponseReturnValue:
    """A body with its seats; seats nobody holds are shown as vacant."""
    limit("directory-page")
    try:
        view = body_view(db_session(), unit_id, today())
    except NotFound as missing:
        raise NotFound(_(missing.message)) from None
    if wants_json():
        return json_response(
            {
                "id": view.unit.id,
                "name": view.unit.name,
                "kind": view.unit.kind.value,
                "seats": [
                    {
                        "role": seat.function.value,
                        "vacant": seat.holder is None,
                        "person": seat.holder.as_dict() if seat.holder else None,
                    }
                    for seat in view.seats
                ],
            }
        )
    return render_template("members/body.html", view=view, kind_labels=KIND_LABELS)


@blueprint.get("/people/<int:member_id>")
@sign_in_required
def person(member_id: int) -> ResponseReturnValue:
    """One person's public positions and, with their consent, contact details."""
    limit("directory-page")
    try:
        found = listed_person(db_session(), member_id, today())
    except NotFound as missing:
        raise NotFound(_(missing.message)) from None
    if wants_json():
        return json_response(found.as_dict())
    return render_template("members/person.html", person=found, kind_labels=KIND_LABELS)
