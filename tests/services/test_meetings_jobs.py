"""The meetings' scheduled work and commands, and the pull subscriber that flags roll differences."""

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.core.clock import utcnow
from portal.core.events import MembersPulled
from portal.meetings import jobs, services
from portal.meetings.models import Meeting, VotingSuspension
from portal.meetings.testing import make_frozen_meeting, make_meeting
from portal.members.models import MembershipStatus
from portal.members.testing import make_member, make_org_unit


def test_nightly_job_freezes_due_rolls_and_pseudonymises_old_attendance(
    app: Flask, db_session: Session
) -> None:
    branch = make_org_unit(db_session)
    make_member(db_session, branch_id=branch.id)
    due = make_meeting(db_session, org_unit_id=branch.id, cutoff_date=utcnow().date() - timedelta(days=2))
    old = make_frozen_meeting(
        db_session,
        org_unit_id=branch.id,
        starts_at=utcnow() - timedelta(days=120),
        ends_at=utcnow() - timedelta(days=119),
        cutoff_date=(utcnow() - timedelta(days=130)).date(),
    )
    db_session.commit()
    jobs.nightly(app.extensions["portal"])
    db_session.expire_all()
    assert db_session.get(Meeting, due.id).roll_frozen_at is not None
    assert db_session.get(Meeting, old.id).pseudonymised_at is not None


def test_commands(runner: FlaskCliRunner, db_session: Session) -> None:
    branch = make_org_unit(db_session)
    member = make_member(db_session, branch_id=branch.id)
    make_meeting(db_session, org_unit_id=branch.id, cutoff_date=utcnow().date() - timedelta(days=1))
    db_session.commit()
    assert "Frozen rolls: 1" in runner.invoke(args=["meetings", "freeze-due"]).output
    assert "Pseudonymised meetings: 0" in runner.invoke(args=["meetings", "pseudonymise"]).output
    result = runner.invoke(
        args=["meetings", "suspend", member.member_number, "--from", "2026-01-01", "--reason", "Besluit HB"]
    )
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(func.count()).select_from(VotingSuspension)) == 1
    db_session.commit()  # SQLite: release the write lock before the next command
    unknown = runner.invoke(args=["meetings", "suspend", "nope", "--from", "2026-01-01", "--reason", "x"])
    assert unknown.exit_code != 0
    assert "No member has this member number" in unknown.output


def test_a_pull_flags_changed_verdicts_of_open_meetings(app: Flask, db_session: Session) -> None:
    branch = make_org_unit(db_session)
    voter = make_member(db_session, branch_id=branch.id)
    meeting = make_frozen_meeting(db_session, org_unit_id=branch.id)
    voter.status = MembershipStatus.LAPSED
    db_session.commit()
    app.extensions["portal"].events.publish(
        MembersPulled(sync_run_id=1, finished_at=utcnow(), changed_member_ids=(voter.id,))
    )
    pending = services.pending_differences(db_session, meeting)
    assert [(row.member_id, row.current_reasons) for row in pending] == [(voter.id, "lapsed")]
