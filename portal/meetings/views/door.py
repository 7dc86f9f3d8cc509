"""The door page for stewards: member number, QR card, name search; check-in, check-out, override, cards."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.core.extension import database, db_session, settings
from portal.meetings import services
from portal.meetings.forms import CardForm, CheckInForm, CheckOutForm, GuestForm, OverrideForm, SearchForm
from portal.meetings.guards import actor, may_manage, steward_required
from portal.meetings.models import CheckInMethod
from portal.meetings.services import DoorResult
from portal.meetings.services.meetings import DoorMeeting
from portal.meetings.views.answer_fragment import answer_fragment
from portal.meetings.views.door_answers import STATUS, describe
from portal.meetings.views.web import blueprint, new_nonce, wants_json
from portal.members.card import verify_card_token

METHODS = {"number": CheckInMethod.NUMBER, "qr": CheckInMethod.QR, "search": CheckInMethod.SEARCH}


def _page(
    meeting: DoorMeeting, *, answer: dict[str, Any] | None = None, status: int = 200, **extra: Any
) -> tuple[str, int]:
    context = {
        "meeting": meeting,
        "answer": answer,
        "check_in_form": CheckInForm(formdata=None, nonce=new_nonce()),
        "check_out_form": CheckOutForm(formdata=None, nonce=new_nonce()),
        "guest_form": GuestForm(formdata=None, nonce=new_nonce()),
        "search_form": extra.pop("search_form", None) or SearchForm(formdata=None),
        "is_manager": may_manage(meeting),
        "candidates": None,
        "guests": services.guests_inside(db_session(), meeting),
        "form_errors": None,
        **extra,
    }
    return render_template("meetings/door.html", **context), status


def _respond(meeting: DoorMeeting, result: DoorResult) -> ResponseReturnValue:
    db_session().commit()
    answer = describe(result)
    status = STATUS[result.outcome]
    if wants_json():
        # The answer alone, without the page's context processors (the menu's queries): the door's hot
        # path. Its forms carry no CSRF token: the door's script adds the one the page holds.
        return jsonify({**answer, "html": answer_fragment(answer, meeting=meeting)}), status
    return _page(meeting, answer=answer, status=status)


def _invalid(meeting: DoorMeeting, form: Any) -> ResponseReturnValue:
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    if wants_json():
        return jsonify({"error": "validation_failed", "message": _("Check the form."), "fields": fields}), 422
    return _page(meeting, status=422, form_errors=fields)


@blueprint.get("/<int:meeting_id>/door")
@steward_required
def door(meeting: DoorMeeting) -> ResponseReturnValue:
    """The steward's page; with `q` it also shows name-search results."""
    search_form = SearchForm(request.args)
    candidates = None
    if request.args.get("q") is not None and search_form.validate():
        # A search that finds no one is logged (J10): a write, so its own write transaction.
        with database().transaction() as session:
            candidates = services.search_members(
                session,
                meeting=meeting,
                query=search_form.q.data or "",
                postcode=search_form.postcode.data or "",
                birth_year=search_form.birth_year.data,
                actor=actor(),
            )
    return _page(meeting, search_form=search_form, candidates=candidates)


@blueprint.post("/<int:meeting_id>/door/check-in")
@steward_required
def check_in(meeting: DoorMeeting) -> ResponseReturnValue:
    """Check a member in by number, scanned card or search pick."""
    # The door's hot path reads the fields directly (CSRFProtect has already checked the token);
    # WTForms only builds the error messages when something is wrong.
    fields = request.form
    number, card = fields.get("member_number", "").strip(), fields.get("card", "").strip()
    nonce, method = fields.get("nonce", ""), fields.get("method", "")
    if not nonce or len(nonce) > 64 or len(number) > 64 or len(card) > 200 or not (number or card):
        form = CheckInForm()
        if form.validate():
            form.member_number.errors = [_("Type a member number or scan a card.")]
        return _invalid(meeting, form)
    if card:
        secret = settings().secret_key
        result = services.check_in_by_card(
            db_session(),
            meeting=meeting,
            payload=card,
            verify=lambda payload: verify_card_token(payload, secret_key=secret),
            actor=actor(),
            nonce=nonce,
        )
    else:
        result = services.check_in_member(
            db_session(),
            meeting=meeting,
            member_number=number,
            actor=actor(),
            nonce=nonce,
            method=METHODS.get(method, CheckInMethod.NUMBER),
        )
    return _respond(meeting, result)


@blueprint.post("/<int:meeting_id>/door/check-out")
@steward_required
def check_out(meeting: DoorMeeting) -> ResponseReturnValue:
    """Check out by member number, or a listed presence (a guest) by its id."""
    form = CheckOutForm()
    if not form.validate() or not (form.member_number.data or form.attendance_id.data):
        return _invalid(meeting, form)
    if form.attendance_id.data:
        result = services.check_out_attendance(
            db_session(),
            meeting=meeting,
            attendance_id=form.attendance_id.data,
            actor=actor(),
            nonce=form.nonce.data or "",
        )
    else:
        result = services.check_out_member(
            db_session(),
            meeting=meeting,
            member_number=form.member_number.data or "",
            actor=actor(),
            nonce=form.nonce.data or "",
        )
    return _respond(meeting, result)


@blueprint.post("/<int:meeting_id>/door/override")
@steward_required
def override(meeting: DoorMeeting) -> ResponseReturnValue:
    """Give a voting right against the roll, with a reason (reported to the chair)."""
    form = OverrideForm()
    if not form.validate():
        return _invalid(meeting, form)
    result = services.override_voting_right(
        db_session(),
        meeting=meeting,
        member_number=form.member_number.data or "",
        reason=form.reason.data or "",
        actor=actor(),
        nonce=form.nonce.data or "",
    )
    return _respond(meeting, result)


@blueprint.post("/<int:meeting_id>/door/card")
@steward_required
def voting_card(meeting: DoorMeeting) -> ResponseReturnValue:
    """Record the voting card handed to a present voter."""
    form = CardForm()
    if not form.validate() or not (form.attendance_id.data or "").isdigit():
        return _invalid(meeting, form)
    result = services.record_voting_card(
        db_session(),
        meeting=meeting,
        attendance_id=int(form.attendance_id.data or 0),
        card_number=form.card_number.data or "",
        actor=actor(),
    )
    return _respond(meeting, result)


@blueprint.post("/<int:meeting_id>/door/guest")
@steward_required
def guest(meeting: DoorMeeting) -> ResponseReturnValue:
    """Register a guest without a voting right."""
    form = GuestForm()
    if not form.validate():
        return _invalid(meeting, form)
    result = services.register_guest(
        db_session(),
        meeting=meeting,
        name=form.name.data or "",
        note=form.note.data or "",
        actor=actor(),
        nonce=form.nonce.data or "",
    )
    return _respond(meeting, result)
