"""Meeting pages: officers manage meetings and the roll, stewards work the door, the chair watches quorum."""

from __future__ import annotations

import mimetypes

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.guards import signed_in
from portal.core.clock import utcnow
from portal.core.events import MembersPulled
from portal.core.extension import PortalState, db_session
from portal.meetings import cli, demo, services, texts
from portal.meetings.models import StewardAssignment
from portal.meetings.views import dashboard, door, manage
from portal.meetings.views.local_time import clock, day, when
from portal.meetings.views.web import blueprint, new_nonce
from portal.members.personal_data import PersonalDataSection, registry

SECTION_TITLE = _l("Meetings: voter rolls and attendance")
SECTION_DESCRIPTION = _l("Your voting right at meetings and when you were checked in and out.")
__all__ = ["blueprint", "dashboard", "door", "init_app", "manage"]


def _attendance_section(session: Session, member_id: int) -> PersonalDataSection | None:
    rows = services.member_attendance_data(session, member_id)
    if not rows:
        return None
    return PersonalDataSection(
        key="meetings",
        title=str(SECTION_TITLE),
        rows=rows,
        description=str(SECTION_DESCRIPTION),
    )


def _nav_visible() -> bool:
    """Whether the menu shows 'Meetings': officers, and stewards with a door to work now."""
    who = signed_in()
    if who is None:
        return False
    return (
        db_session().scalar(
            select(StewardAssignment.id)
            .where(
                StewardAssignment.member_id == who.member_id,
                StewardAssignment.revoked_at.is_(None),
                StewardAssignment.ends_at > utcnow(),
            )
            .limit(1)
        )
        is not None
    )


def init_app(app: Flask) -> None:
    """Register the pages, the commands, the personal-data provider and the pull subscriber."""
    mimetypes.add_type("application/wasm", ".wasm")  # the QR reader's WebAssembly, served as static
    app.register_blueprint(blueprint)
    app.jinja_env.globals.update(
        meetings_steward_nav=_nav_visible,
        meetings_texts=texts,
        meetings_status=texts.status_text,
        meetings_attempt=texts.attempt_text,
        meetings_new_nonce=new_nonce,
    )
    app.jinja_env.filters.update(
        meetings_when=when, meetings_clock=clock, meetings_day=day, meetings_reasons=texts.codes_text
    )
    cli.init_app(app)
    app.extensions.setdefault("demo_setup", []).append(demo.create_demo_meeting)
    registry(app.extensions).register("meetings", _attendance_section)
    state: PortalState = app.extensions["portal"]

    def on_members_pulled(event: MembersPulled) -> None:
        with state.database.transaction() as session:
            services.flag_differences_after_pull(session, member_ids=event.changed_member_ids, now=utcnow())

    state.events.subscribe(MembersPulled, on_members_pulled)
