"""The sync administration page: recent pulls, the outbox's health, dead letters and conflicts, replay."""

from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from crm_sync.models import OutboxStatus
from crm_sync.push import discard_message, replay_message
from crm_sync.push.state import list_messages, open_conflicts
from crm_sync.status import sync_status
from portal.admin import log
from portal.admin.forms import DiscardForm, ReplayForm
from portal.auth.guards import admin_required, current_actor
from portal.core.errors import DomainError
from portal.core.extension import db_session
from portal.members.models import Member

blueprint = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin/sync")

RUN_KINDS = {  # SyncKind values, as the admin reads them
    "pull_full": _l("full pull"),
    "pull_incremental": _l("pull of the changes"),
    "reconcile": _l("comparison with the CRM"),
}
RUN_OUTCOMES = {  # SyncOutcome values
    "running": _l("running"),
    "succeeded": _l("succeeded"),
    "failed": _l("failed"),
    "aborted": _l("stopped on purpose"),
}


@blueprint.get("/")
@admin_required
def sync() -> ResponseReturnValue:
    """Sync runs, outbox depth and age, dead letters, messages in conflict and the open conflicts."""
    session = db_session()
    dead = list_messages(session, OutboxStatus.DEAD, limit=100)
    conflicting = list_messages(session, OutboxStatus.CONFLICT, limit=100)
    conflicts = open_conflicts(session)
    member_ids = {message.member_id for message in dead + conflicting} | {c.member_id for c in conflicts}
    members = {
        member.id: member for member in session.scalars(select(Member).where(Member.id.in_(member_ids)))
    }
    return render_template(
        "admin/sync.html",
        status=sync_status(session).as_dict(),
        dead=dead,
        conflicting=conflicting,
        conflicts=conflicts,
        members=members,
        run_kinds=RUN_KINDS,
        run_outcomes=RUN_OUTCOMES,
        replay_form=ReplayForm(),
        discard_form=DiscardForm(),
    )


@blueprint.post("/outbox/<int:message_id>/replay")
@admin_required
def replay(message_id: int) -> ResponseReturnValue:
    """Queue a dead or conflicting message again (the retry job delivers it within 30 s)."""
    form = ReplayForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            replay_message(session, actor=current_actor(), message_id=message_id, force=bool(form.force.data))
        except DomainError as refused:
            session.rollback()
            flash(refused.message, "error")
        else:
            session.commit()
            flash(_("The change will be sent to the CRM again."), "success")
    return redirect(url_for("admin.sync"))


@blueprint.post("/outbox/<int:message_id>/discard")
@admin_required
def discard(message_id: int) -> ResponseReturnValue:
    """Keep the CRM's values: the next pull writes them back into the replica."""
    form = DiscardForm()
    if form.validate_on_submit():
        session = db_session()
        try:
            discard_message(session, actor=current_actor(), message_id=message_id)
        except DomainError as refused:
            session.rollback()
            flash(refused.message, "error")
        else:
            session.commit()
            flash(_("The portal's change was dropped; the CRM's values stay."), "success")
    return redirect(url_for("admin.sync"))


def init_app(app: Flask) -> None:
    """Register the sync administration pages and the mutation log."""
    app.register_blueprint(blueprint)
    app.register_blueprint(log.blueprint)
