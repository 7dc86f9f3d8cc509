"""My page: one's own record, editing it, the membership card and "download my data"."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from crm_sync.push.state import delivery_state
from crm_sync.web import push_now
from portal.auth.guards import current_account, current_actor, current_roles_of_account, sign_in_required
from portal.core.clock import today
from portal.core.downloads import download
from portal.core.errors import ValidationFailed
from portal.core.extension import db_session, settings
from portal.members import card, records
from portal.members.contact_details import InvalidValue, phone_display
from portal.members.forms import MemberDetailsForm, MemberFormData
from portal.members.models import Member, Position
from portal.members.personal_data import registry
from portal.members.services import update_member
from portal.members.services.my_data import collect_personal_data, flatten, log_own_export
from portal.members.spreadsheets import csv_bytes
from portal.members.views.labels import FIELD_LABELS
from portal.members.views.rate_limits import limit
from portal.members.views.responses import json_response, wants_json
from portal.members.visibility import Relation, editable_fields, visible_fields

blueprint = Blueprint("my_page", __name__, url_prefix="/my-page", template_folder="../templates")


def _own_member() -> Member:
    """The signed-in member with positions, their bodies and the branch loaded in one go."""
    account = current_account()
    assert account is not None  # the guard ran
    member = db_session().get(
        Member,
        account.member_id,
        options=[selectinload(Member.positions).joinedload(Position.org_unit), joinedload(Member.branch)],
    )
    assert member is not None
    return member


@blueprint.get("")
@sign_in_required
def show() -> ResponseReturnValue:
    """The member's record as the CRM knows it, when it was last synced, and where edits stand."""
    member = _own_member()
    values = records.member_values(member, on=today())
    allowed = visible_fields(current_roles_of_account(), Relation.OWN)
    record = records.visible_record(values, allowed)
    if wants_json():
        return json_response(
            {"member": record, "synced_at": member.synced_at.isoformat() if member.synced_at else None}
        )
    delivery = delivery_state(db_session(), member.id)
    return render_template(
        "members/my_page.html",
        member=member,
        record=record,
        labels=FIELD_LABELS,
        delivery=delivery,
        phone_display=phone_display,
        has_card=member.status.is_member,
    )


@blueprint.route("/edit", methods=["GET", "POST"])
@sign_in_required
def edit() -> ResponseReturnValue:
    """Change contact details, address, interests and preferences; the change goes to the CRM at once."""
    member = _own_member()
    allowed = editable_fields(current_roles_of_account(), Relation.OWN)
    form = MemberDetailsForm(obj=None if request.method == "POST" else MemberFormData(member))
    form.keep_only(allowed)
    if request.method == "POST" and form.validate():
        try:
            result = update_member(
                db_session(),
                actor=current_actor(),
                member=member,
                changes=form.changes(),
                expected_version=form.version.data,
            )
        except (InvalidValue, ValidationFailed) as error:
            db_session().rollback()
            flash(str(getattr(error, "message", error)), "error")
        else:
            db_session().commit()
            if result.message_ids:
                push_now(result.message_ids)
                flash(_("Your changes are saved."), "success")
            else:
                flash(_("Nothing was changed."), "success")
            return redirect(url_for("my_page.show"))
    return render_template("members/my_page_edit.html", form=form, member=member)


@blueprint.get("/card")
@sign_in_required
def membership_card() -> ResponseReturnValue:
    """The digital membership card with its signed QR code, only while the membership is current."""
    member = _own_member()
    if not member.status.is_member:
        return render_template("members/card.html", member=member, qr=None), 404
    token = card.card_token(member.member_number, secret_key=settings().secret_key, issued_on=today())
    qr = card.qr_svg(card.card_payload(token), title=_("Membership card QR code"))
    return render_template("members/card.html", member=member, qr=qr, issued_on=today())


@blueprint.post("/data")
@sign_in_required
def download_data() -> ResponseReturnValue:
    """GDPR art. 15: all the portal holds about the member, as JSON or CSV; every download is logged."""
    limit("own-data")
    file_format = request.form.get("format", "json")
    if file_format not in {"json", "csv"}:
        raise ValidationFailed(_("Choose JSON or CSV."), fields={"format": "choice"})
    member = _own_member()
    session = db_session()
    viewer = current_actor()
    log_own_export(session, actor=viewer, member=member, file_format=file_format)
    data = collect_personal_data(session, member, registry(current_app.extensions).all(), viewer=viewer)
    session.commit()
    stamp = today().isoformat()
    if file_format == "csv":
        body = csv_bytes(["section", "item", "field", "value"], flatten(data))
        return download(body, filename=f"my-data-{stamp}.csv", mimetype="text/csv")
    response = json_response(data)
    response.headers["Content-Disposition"] = f'attachment; filename="my-data-{stamp}.json"'
    return response
