"""`make demo`: a general meeting running today in the demo branch chair's branch, roll frozen, the demo
steward assigned.

So a steward can sign in and work the door at once, and the branch chair sees the dashboard move.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from portal.core.actors import Actor
from portal.core.clock import local_date, utcnow
from portal.core.database import Database
from portal.meetings.models import Meeting
from portal.meetings.services.freeze import freeze_roll
from portal.meetings.services.meetings import MeetingDraft, assign_steward, create_meeting
from portal.members.models import Member, OrgUnit

log = logging.getLogger(__name__)
DEMO_ACTOR = Actor.system("demo")


def create_demo_meeting(app: Flask) -> Meeting | None:
    """Create (once) today's meeting in the demo branch chair's branch (the steward's when there is no
    chair); None when there is no demo steward."""
    state = app.extensions["portal"]
    if state.settings.is_production:
        raise RuntimeError("demo meetings are never created in production")
    accounts_file = state.settings.instance_path / "demo_accounts.json"
    if not accounts_file.exists():
        return None
    people: list[dict[str, Any]] = json.loads(accounts_file.read_text(encoding="utf-8"))
    by_role = {person["role"]: person for person in people}
    steward = by_role.get("steward")
    if steward is None:
        return None
    host = by_role.get("branch_chair", steward)  # the chair's board manages the meeting: sees the dashboard
    database: Database = state.database
    with database.transaction() as session:
        member = session.scalar(select(Member).where(Member.member_number == host["member_number"]))
        if member is None or member.branch_id is None:
            log.warning("the demo %s has no branch; no demo meeting", host["role"])
            return None
        branch = session.get(OrgUnit, member.branch_id)
        title = f"Algemene ledenvergadering {branch.name if branch else ''}".strip()
        existing = session.scalar(select(Meeting).where(Meeting.title == title))
        if existing is not None:
            return existing
        now = utcnow()
        starts_at = now - timedelta(hours=1)
        meeting = create_meeting(
            session,
            draft=MeetingDraft(
                org_unit_id=member.branch_id,
                title=title,
                place="Partijbureau, Den Haag",
                starts_at=starts_at,
                ends_at=now + timedelta(hours=8),
                cutoff_date=local_date(starts_at),  # the meeting's day; just after midnight not today's
            ),
            actor=DEMO_ACTOR,
        )
        assign_steward(session, meeting=meeting, member_number=steward["member_number"], actor=DEMO_ACTOR)
        voters = freeze_roll(session, meeting=meeting, actor=DEMO_ACTOR)
    print(f"  demo meeting  {title!r}: {voters} voters, door at /meetings/{meeting.id}/door")
    return meeting
