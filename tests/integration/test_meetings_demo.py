"""`make demo` gives the demo steward a meeting under way: roll frozen, door open, a member checks in,
and the demo branch chair sees the dashboard count it."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from config import Settings
from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_everything
from portal.app import create_app
from portal.auth.testing import TestCredentials, sign_in
from portal.meetings.models import Meeting, VoterRollEntry
from portal.meetings.testing import accept_terms, post_check_in


def test_demo_steward_can_work_the_door_of_the_demo_meeting(crm_settings: Settings) -> None:
    app = create_app(crm_settings)
    state = app.extensions["portal"]
    port = make_crm_port(crm_settings)
    pull_everything(state.database, port, max_removed_share=0.02, events=state.events)
    port.close()
    for hook in app.extensions["demo_setup"]:  # as `make demo` runs them: accounts first, then the meeting
        hook(app)
    for hook in app.extensions["demo_setup"]:  # a second `make demo` on the same instance adds nothing
        hook(app)
    with state.database.session() as session:
        meetings = list(session.scalars(select(Meeting)))
        assert len(meetings) == 1
        meeting = meetings[0]
        assert meeting.roll_frozen_at is not None
        voters = session.scalar(
            select(func.count()).select_from(VoterRollEntry).where(VoterRollEntry.meeting_id == meeting.id)
        )
        assert (voters or 0) > 0
        voter_number = session.scalar(
            select(VoterRollEntry.member_number)
            .where(VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.may_vote.is_(True))
            .limit(1)
        )

    people = {
        person["role"]: person
        for person in json.loads((crm_settings.instance_path / "demo_accounts.json").read_text())
    }

    def signed_in(role: str):  # type: ignore[no-untyped-def]
        person = people[role]
        with state.database.transaction() as session:
            accept_terms(session, person["account_id"])
        client = app.test_client()
        sign_in(client, TestCredentials.of_demo_person(person))
        return client

    steward = signed_in("steward")
    assert steward.get(f"/meetings/{meeting.id}/door").status_code == 200
    answer = post_check_in(steward, meeting.id, voter_number)
    assert answer.status_code == 201
    assert answer.get_json()["signal"] == "vote"
    chair = signed_in("branch_chair")
    counts = chair.get(f"/meetings/{meeting.id}/dashboard/counts", headers={"Accept": "application/json"})
    assert counts.status_code == 200
    assert counts.get_json()["present_voters"] == 1
    state.database.dispose()
