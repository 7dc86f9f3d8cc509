"""The chair's dashboard (live counts, quorum, snapshots) and the lists for the minutes (CSV, PDF)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from portal.auth.services.sessions import is_fresh_at
from portal.core.clock import utcnow
from portal.core.downloads import download
from portal.core.errors import ValidationFailed
from portal.core.extension import db_session
from portal.meetings import exports, services, texts
from portal.meetings.eligibility import decode
from portal.meetings.forms import ConfirmForm, SnapshotForm
from portal.meetings.guards import actor, manager_required
from portal.meetings.models import Attendance, AttendeeKind, Meeting, PresenceSnapshot
from portal.meetings.views.local_time import clock, day, utc_to_local, when
from portal.meetings.views.web import blueprint

PDF, CSV = "application/pdf", "text/csv; charset=utf-8"


def _counts_body(meeting: Meeting) -> dict[str, Any]:
    counts = services.live_counts(db_session(), meeting)
    reached = counts.quorum.is_reached
    return {
        "present": counts.present,
        "present_voters": counts.present_voters,
        "present_members": counts.present_members,
        "guests": counts.guests,
        "eligible": counts.eligible,
        "overrides": counts.overrides,
        "failed_lookups": counts.failed_lookups,
        "pending_differences": counts.pending_differences,
        "quorum_required": counts.quorum.required,
        "quorum_reached": reached,
        "quorum_text": (
            _("No quorum rule")
            if reached is None
            else _(
                "Quorum reached: %(present)s of %(required)s voters present",
                present=counts.present_voters,
                required=counts.quorum.required,
            )
            if reached
            else _(
                "Quorum not reached: %(present)s of %(required)s voters present",
                present=counts.present_voters,
                required=counts.quorum.required,
            )
        ),
        "at": clock(counts.at) + format_seconds(counts.at),
    }


def format_seconds(moment: Any) -> str:
    """':SS' so the chair sees the refresh tick."""
    return f":{moment.second:02d}"


@blueprint.get("/<int:meeting_id>/dashboard")
@manager_required
def dashboard(meeting: Meeting) -> ResponseReturnValue:
    """Live counts and quorum, snapshots, overrides and failed look-ups."""
    db = db_session()
    return render_template(
        "meetings/dashboard.html",
        meeting=meeting,
        counts=_counts_body(meeting),
        snapshots=services.snapshots(db, meeting),
        overrides=services.overrides(db, meeting),
        attempts=services.recent_attempts(db, meeting),
        snapshot_form=SnapshotForm(),
        texts=texts,
        clock=clock,
        when=when,
    )


@blueprint.get("/<int:meeting_id>/dashboard/counts")
@manager_required
def counts(meeting: Meeting) -> ResponseReturnValue:
    """The counts as JSON for the dashboard's polling script."""
    return jsonify(_counts_body(meeting))


@blueprint.post("/<int:meeting_id>/snapshots")
@manager_required
def snapshot(meeting: Meeting) -> ResponseReturnValue:
    """Freeze who is present now, before a vote."""
    form = SnapshotForm()
    if form.validate_on_submit():
        try:
            services.take_snapshot(db_session(), meeting=meeting, label=form.label.data or "", actor=actor())
        except ValidationFailed:
            flash(_("Name the moment, for example the vote it is for."), "error")
        else:
            db_session().commit()
            flash(_("The list of who is present now has been frozen."), "success")
    else:
        flash(_("Name the moment, for example the vote it is for."), "error")
    return redirect(url_for("meetings.dashboard", meeting_id=meeting.id) + "#snapshots")


def _fresh_or_redirect() -> ResponseReturnValue | None:
    """Lists of people leave the portal only after a recent sign-in (≤ 10 minutes)."""
    if is_fresh_at(getattr(session, "authenticated_at", None), utcnow()):
        return None
    return redirect(url_for("auth.reauthenticate", next=request.full_path))


def _attendance_cells(row: Attendance) -> list[Any]:
    who = row.name or row.pseudonym
    return [
        row.member_number or (_("guest") if row.kind is AttendeeKind.GUEST else ""),
        who,
        row.guest_note,
        texts.yes_no(row.may_vote),
        texts.reasons_text(decode(row.reasons)),
        when(row.checked_in_at),
        row.checked_in_by,
        when(row.checked_out_at),
        row.checked_out_by,
        texts.yes_no(row.is_override),
        row.override_reason,
        row.voting_card_number or "",
    ]


def _attendance_headings() -> list[str]:
    return [
        _("Member number"), _("Name"), _("Guest note"), _("Voting right"), _("Reason"), _("Checked in"),
        _("By"), _("Checked out"), _("By"), _("Override"), _("Override reason"), _("Voting card"),
    ]  # fmt: skip


def _file(
    meeting: Meeting, what: str, file_format: str, headings: list[str], rows: list[list[Any]], title: str
) -> ResponseReturnValue:
    services.record_export(
        db_session(), meeting=meeting, what=what, file_format=file_format, rows=len(rows), actor=actor()
    )
    db_session().commit()
    name = f"{what}-{meeting.id}-{utc_to_local(utcnow()):%Y%m%d-%H%M}"  # the chair's wall clock
    if file_format == "csv":
        return download(exports.to_csv(headings, rows), filename=f"{name}.csv", mimetype=CSV)
    lines = [
        f"{meeting.title} · {meeting.place} · {when(meeting.starts_at)}",
        _("Cut-off date: %(date)s", date=day(meeting.cutoff_date)),
    ]
    pdf = exports.to_pdf(
        title=title, lines=lines, headings=headings, rows=rows, footer=f"Ledenportaal · {when(utcnow())}"
    )
    return download(pdf, filename=f"{name}.pdf", mimetype=PDF)


@blueprint.get("/<int:meeting_id>/attendance.<any(csv, pdf):file_format>")
@manager_required
def attendance_list(meeting: Meeting, file_format: str) -> ResponseReturnValue:
    """Every presence interval, overrides and guests (formula-safe CSV, or PDF)."""
    fresh = _fresh_or_redirect()
    if fresh is not None:
        return fresh
    rows = [_attendance_cells(row) for row in services.attendance_rows(db_session(), meeting)]
    return _file(meeting, "attendance", file_format, _attendance_headings(), rows, _("Attendance list"))


@blueprint.get("/<int:meeting_id>/roll.<any(csv, pdf):file_format>")
@manager_required
def roll_list(meeting: Meeting, file_format: str) -> ResponseReturnValue:
    """The frozen voter roll: who may vote, and why not."""
    if meeting.roll_frozen_at is None:
        abort(404)
    fresh = _fresh_or_redirect()
    if fresh is not None:
        return fresh
    rows = [
        [
            entry.member_number,
            entry.name,
            texts.yes_no(entry.may_vote),
            texts.reasons_text(decode(entry.reasons)),
            when(entry.changed_at),
        ]
        for entry in services.roll_entries(db_session(), meeting)
    ]
    headings = [_("Member number"), _("Name"), _("Voting right"), _("Reason"), _("Changed by the chair")]
    title = _("Voter roll frozen on %(moment)s", moment=when(meeting.roll_frozen_at))
    return _file(meeting, "roll", file_format, headings, rows, title)


@blueprint.get("/<int:meeting_id>/snapshots/<int:snapshot_id>")
@manager_required
def snapshot_detail(meeting: Meeting, snapshot_id: int) -> ResponseReturnValue:
    """Who was present at that moment; `?format=csv` to take it away."""
    found = db_session().get(PresenceSnapshot, snapshot_id)
    if found is None or found.meeting_id != meeting.id:
        abort(404)
    rows = services.snapshot_rows(db_session(), found)
    if request.args.get("format") == "csv":
        fresh = _fresh_or_redirect()
        if fresh is not None:
            return fresh
        cells = [
            [
                row.member_number,
                row.name or row.pseudonym,
                texts.yes_no(may_vote),
                row.voting_card_number or "",
            ]
            for row, may_vote in rows
        ]
        headings = [_("Member number"), _("Name"), _("Voting right"), _("Voting card")]
        return _file(meeting, "snapshot", "csv", headings, cells, found.label)
    return render_template(
        "meetings/snapshot.html",
        meeting=meeting,
        snapshot=found,
        rows=rows,
        when=when,
        confirm_form=ConfirmForm(),
    )
