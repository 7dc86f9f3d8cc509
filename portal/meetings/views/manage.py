"""Officers in scope: meetings, their rule and quorum, the frozen roll, stewards and roll differences."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.auth.guards import current_account, current_roles_of_account, officer_required, sign_in_required
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.extension import db_session
from portal.meetings import services
from portal.meetings.eligibility import UnitScope
from portal.meetings.forms import ConfirmForm, DecisionForm, MeetingForm, StewardForm
from portal.meetings.guards import MANAGER_ROLES, actor, manager_required, manager_scope
from portal.meetings.models import Meeting
from portal.meetings.quorum import QuorumKind
from portal.meetings.views.local_time import local_to_utc, utc_to_local
from portal.meetings.views.web import blueprint
from portal.members.models import OrgUnit

FIELD_MESSAGES = {
    "title": _l("Give the meeting a title of at most 200 characters."),
    "place": _l("The place may have at most 200 characters."),
    "ends_at": _l("The meeting must end after it starts."),
    "cutoff_date": _l("The cut-off date cannot lie after the meeting."),
    "rule_min_membership_days": _l("Enter a whole number."),
    "retention_days": _l("Keep attendance between 1 and 3650 days."),
    "quorum_numerator": _l("Check the quorum: a share between 0 and 1, or a fixed number of at least 1."),
    "quorum_denominator": _l("Check the quorum: a share between 0 and 1, or a fixed number of at least 1."),
}


def _is_officer() -> bool:
    return bool(current_roles_of_account() & set(MANAGER_ROLES))


@blueprint.get("")
@sign_in_required
def index() -> ResponseReturnValue:
    """Meetings the account manages, and meetings whose door it may work now."""
    account = current_account()
    assert account is not None
    session = db_session()
    officer = _is_officer()
    managed = services.meetings_in_scope(session, manager_scope(account)) if officer else []
    at_door = services.steward_meetings(session, member_id=account.member_id, now=utcnow())
    if not officer and not at_door:
        abort(403)
    return render_template("meetings/index.html", managed=managed, at_door=at_door, can_create=officer)


def _unit_choices() -> list[SelectChoice]:
    account = current_account()
    assert account is not None
    scope = manager_scope(account)
    units = db_session().scalars(
        select(OrgUnit)
        .where(OrgUnit.id.in_(sorted(scope)), OrgUnit.removed_at.is_(None))
        .order_by(OrgUnit.name)
    )
    return [SelectChoice(str(unit.id), unit.name) for unit in units]


def _draft(form: MeetingForm) -> services.MeetingDraft:
    kind = QuorumKind(form.quorum_kind.data)
    return services.MeetingDraft(
        org_unit_id=form.org_unit_id.data,
        title=(form.title.data or "").strip(),
        place=(form.place.data or "").strip(),
        starts_at=local_to_utc(form.starts_at.data),
        ends_at=local_to_utc(form.ends_at.data),
        cutoff_date=form.cutoff_date.data,
        rule_unit_scope=UnitScope(form.rule_unit_scope.data),
        rule_current_at_cutoff=bool(form.rule_current_at_cutoff.data),
        rule_dues_paid=bool(form.rule_dues_paid.data),
        rule_min_membership_days=form.rule_min_membership_days.data or 0,
        rule_exclude_suspended=bool(form.rule_exclude_suspended.data),
        quorum_kind=kind,
        quorum_numerator=form.quorum_numerator.data or 0,
        quorum_denominator=form.quorum_denominator.data or 1,
        retention_days=form.retention_days.data or 90,
    )


def _save(form: MeetingForm, meeting: Meeting | None) -> ResponseReturnValue | None:
    """Validate and save; None when the form must be shown again (with its errors)."""
    if not form.validate_on_submit():
        return None
    draft = _draft(form)
    try:
        if meeting is None:
            meeting = services.create_meeting(db_session(), draft=draft, actor=actor())
        else:
            services.update_meeting(db_session(), meeting=meeting, draft=draft, actor=actor())
    except ValidationFailed as error:
        for name in error.fields:
            getattr(form, name).errors = [
                *getattr(form, name).errors,
                str(FIELD_MESSAGES.get(name, _("Check this field."))),
            ]
        return None
    except Conflict:
        form.cutoff_date.errors = [
            _("The voter roll is frozen: the voting-rights rule and cut-off date can no longer change.")
        ]
        return None
    db_session().commit()
    flash(_("The meeting has been saved."), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@blueprint.route("/new", methods=["GET", "POST"])
@officer_required(*MANAGER_ROLES)
def new() -> ResponseReturnValue:
    """Create a meeting for a unit in scope."""
    form = MeetingForm()
    form.org_unit_id.choices = _unit_choices()
    if form.retention_days.data is None:
        form.retention_days.data = 90
    return _save(form, None) or (
        render_template("meetings/form.html", form=form, meeting=None),
        200 if not form.errors else 422,
    )


@blueprint.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@manager_required
def edit(meeting: Meeting) -> ResponseReturnValue:
    """Change a meeting (its rule only while the roll is not frozen)."""
    form = MeetingForm(obj=None if _submitted() else meeting)
    form.org_unit_id.choices = [SelectChoice(str(meeting.org_unit_id), meeting.org_unit.name)]
    if not _submitted():
        form.starts_at.data, form.ends_at.data = (
            utc_to_local(meeting.starts_at),
            utc_to_local(meeting.ends_at),
        )
        form.rule_unit_scope.data, form.quorum_kind.data = (
            meeting.rule_unit_scope.value,
            meeting.quorum_kind.value,
        )
    return _save(form, meeting) or (
        render_template("meetings/form.html", form=form, meeting=meeting),
        200 if not form.errors else 422,
    )


def _submitted() -> bool:
    return request.method == "POST"


@blueprint.get("/<int:meeting_id>")
@manager_required
def detail(meeting: Meeting) -> ResponseReturnValue:
    """The meeting: rule, roll status, stewards, differences waiting for the chair, lists to take away."""
    session = db_session()
    return render_template(
        "meetings/detail.html",
        meeting=meeting,
        stewards=services.stewards_of(session, meeting),
        differences=services.pending_differences(session, meeting),
        steward_form=StewardForm(),
        confirm_form=ConfirmForm(),
        decision_form=DecisionForm(),
        now=utcnow(),
    )


@blueprint.post("/<int:meeting_id>/freeze")
@manager_required
def freeze(meeting: Meeting) -> ResponseReturnValue:
    """Freeze the voter roll now (the nightly job does it after the cut-off date anyway)."""
    if ConfirmForm().validate_on_submit():
        try:
            voters = services.freeze_roll(db_session(), meeting=meeting, actor=actor())
        except Conflict:
            flash(_("The voter roll of this meeting is already frozen."), "warning")
        else:
            db_session().commit()
            flash(_("The voter roll is frozen: %(count)s members may vote.", count=voters), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@blueprint.post("/<int:meeting_id>/stewards")
@manager_required
def add_steward(meeting: Meeting) -> ResponseReturnValue:
    """Let a member work this meeting's door until it ends."""
    form = StewardForm()
    if form.validate_on_submit():
        try:
            services.assign_steward(
                db_session(), meeting=meeting, member_number=form.member_number.data or "", actor=actor()
            )
        except NotFound:
            flash(_("No member has this member number."), "error")
        else:
            db_session().commit()
            flash(_("The steward may use the door page until the meeting ends."), "success")
    else:
        flash(_("Type the member number of the steward."), "error")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@blueprint.post("/<int:meeting_id>/stewards/<int:assignment_id>/revoke")
@manager_required
def revoke_steward(meeting: Meeting, assignment_id: int) -> ResponseReturnValue:
    """End a steward's access now."""
    if ConfirmForm().validate_on_submit():
        services.revoke_steward(db_session(), meeting=meeting, assignment_id=assignment_id, actor=actor())
        db_session().commit()
        flash(_("The steward's access has ended."), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


@blueprint.post("/<int:meeting_id>/differences/check")
@manager_required
def check_differences(meeting: Meeting) -> ResponseReturnValue:
    """Compare the frozen roll with the membership administration now."""
    if ConfirmForm().validate_on_submit():
        count = services.flag_differences(db_session(), meeting=meeting)
        db_session().commit()
        flash(_("%(count)s differences wait for a decision.", count=count), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#differences")


@blueprint.post("/<int:meeting_id>/differences/<int:difference_id>")
@manager_required
def decide(meeting: Meeting, difference_id: int) -> ResponseReturnValue:
    """Apply a difference to the roll, or leave the roll as frozen."""
    form = DecisionForm()
    if form.validate_on_submit() and form.decision.data in ("apply", "dismiss"):
        try:
            services.decide_difference(
                db_session(),
                meeting=meeting,
                difference_id=difference_id,
                apply=form.decision.data == "apply",
                actor=actor(),
            )
        except Conflict:
            flash(_("This difference has already been decided."), "warning")
        else:
            db_session().commit()
            flash(_("The decision has been recorded."), "success")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#differences")
