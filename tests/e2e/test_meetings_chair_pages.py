"""The chair's pages through HTTP: create, freeze, stewards, dashboard, snapshots, exports, hostile input."""

from datetime import timedelta

from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.auth.roles import Role
from portal.auth.testing import csrf_from
from portal.core.clock import utcnow
from portal.meetings import services
from portal.meetings.models import StewardAssignment
from portal.meetings.testing import CHAIR, door_token, nonce, post_check_in


def test_J4_override_over_http_and_the_chair_sees_it(meeting_door: dict, signed_in_client, org_tree) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    post_check_in(steward, meeting.id, meeting_door["lapsed"].member_number)
    response = steward.post(
        f"/meetings/{meeting.id}/door/override",
        data={"csrf_token": door_token(steward, meeting.id), "reason": "Contributie <b>contant</b> betaald",
              "member_number": meeting_door["lapsed"].member_number, "nonce": nonce()},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert response.status_code == 201
    assert response.get_json()["signal"] == "vote"
    chair, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    page = chair.get(f"/meetings/{meeting.id}/dashboard").get_data(as_text=True)
    assert "Contributie &lt;b&gt;contant&lt;/b&gt; betaald" in page
    assert "Sam Steward" in page


def test_chair_creates_freezes_staffs_and_watches_the_meeting(
    meeting_door: dict, signed_in_client, org_tree, db_session: Session
) -> None:
    chair, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    form = chair.get("/meetings/new")
    assert form.status_code == 200
    token = csrf_from(form.get_data(as_text=True))
    starts = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT19:30")
    ends = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT22:00")
    data = {
        "csrf_token": token, "org_unit_id": str(org_tree.branch.id), "title": "<script>x</script> ALV",
        "place": "Utrecht", "starts_at": starts, "ends_at": ends,
        "cutoff_date": (utcnow() + timedelta(days=2)).date().isoformat(),
        "rule_unit_scope": "subtree", "rule_current_at_cutoff": "y", "rule_exclude_suspended": "y",
        "rule_min_membership_days": "0", "quorum_kind": "share_of_eligible", "quorum_numerator": "1",
        "quorum_denominator": "2", "retention_days": "90",
    }  # fmt: skip
    bad = chair.post(
        "/meetings/new", data={**data, "ends_at": starts.replace("19:30", "18:00"), "quorum_numerator": "3"}
    )
    assert bad.status_code == 422
    assert "lp-error-summary" in bad.get_data(as_text=True)
    outside = chair.post("/meetings/new", data={**data, "org_unit_id": str(org_tree.far_branch.id)})
    assert outside.status_code == 422
    created = chair.post("/meetings/new", data=data)
    assert created.status_code == 302
    new_id = int(created.headers["Location"].rsplit("/", 1)[1])
    detail = chair.get(f"/meetings/{new_id}").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt; ALV" in detail
    token = csrf_from(detail)
    assert chair.post(f"/meetings/{new_id}/freeze", data={"csrf_token": token}).status_code == 302
    assert (
        chair.post(
            f"/meetings/{new_id}/stewards",
            data={"csrf_token": token, "member_number": meeting_door["voter"].member_number},
        ).status_code
        == 302
    )
    assert (
        db_session.scalar(
            select(func.count()).select_from(StewardAssignment).where(StewardAssignment.meeting_id == new_id)
        )
        == 1
    )
    db_session.commit()  # SQLite: do not hold the write lock while the app answers

    meeting = meeting_door["meeting"]
    post_check_in(meeting_door["steward"], meeting.id, meeting_door["voter"].member_number)
    counts = chair.get(
        f"/meetings/{meeting.id}/dashboard/counts", headers={"Accept": "application/json"}
    ).get_json()
    assert (counts["present"], counts["present_voters"], counts["quorum_reached"]) == (1, 1, None)
    page = chair.get(f"/meetings/{meeting.id}/dashboard")
    assert page.status_code == 200
    snapshot = chair.post(
        f"/meetings/{meeting.id}/snapshots",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "label": "Motie 1"},
    )
    assert snapshot.status_code == 302
    csv = chair.get(f"/meetings/{meeting.id}/attendance.csv")
    assert csv.status_code == 200
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert "Anna de Vries" in csv.get_data().decode("utf-8-sig")
    pdf = chair.get(f"/meetings/{meeting.id}/roll.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")


def test_an_officer_outside_the_scope_sees_nothing(meeting_door: dict, signed_in_client, org_tree) -> None:
    outsider, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.far_branch.id)
    meeting = meeting_door["meeting"]
    for path in (
        f"/meetings/{meeting.id}",
        f"/meetings/{meeting.id}/dashboard",
        f"/meetings/{meeting.id}/door",
        f"/meetings/{meeting.id}/roll.csv",
    ):
        assert outsider.get(path).status_code == 403, path
    regional, _ = signed_in_client(Role.REGIONAL_OFFICER, org_tree.region.id)
    assert regional.get(f"/meetings/{meeting.id}/dashboard").status_code == 200


def test_a_dashboard_poll_loads_the_chairs_grants_once(
    app: Flask, meeting_door: dict, signed_in_client, org_tree
) -> None:
    """The officer gate (roles) and the meeting's scope check share one load of the grants: every chair
    polls every few seconds."""
    regional, _ = signed_in_client(Role.REGIONAL_OFFICER, org_tree.region.id)
    path = f"/meetings/{meeting_door['meeting'].id}/dashboard/counts"
    statements: list[str] = []
    engine = app.extensions["portal"].database.engine

    def note(_conn, _cursor, statement, *_rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        answer = regional.get(path, headers={"Accept": "application/json"})
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert answer.status_code == 200
    assert answer.get_json()["present"] == 0
    assert sum("FROM role_grants" in statement for statement in statements) == 1
    assert len(statements) <= 6  # session, grants, meeting, lineage, counts (+ a session touch)


def test_csv_export_is_formula_safe(
    meeting_door: dict, signed_in_client, org_tree, db_session: Session
) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    token = door_token(steward, meeting.id)
    steward.post(
        f"/meetings/{meeting.id}/door/guest",
        data={"csrf_token": token, "name": '=HYPERLINK("http://x")', "note": "@SUM(A1)", "nonce": nonce()},
    )
    chair, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    text = chair.get(f"/meetings/{meeting.id}/attendance.csv").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "'@SUM(A1)" in text
    for line in text.splitlines()[1:]:
        for cell in line.split(";"):
            assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), cell


def test_meetings_feed_download_my_data(app: Flask) -> None:
    from portal.members.personal_data import registry

    assert "meetings" in dict(registry(app.extensions).all())


def test_hostile_input_on_the_chairs_forms(
    meeting_door: dict, signed_in_client, org_tree, db_session: Session
) -> None:
    chair, _ = signed_in_client(Role.REGIONAL_OFFICER, org_tree.region.id)
    meeting, other = meeting_door["meeting"], meeting_door["other"]
    token = csrf_from(chair.get(f"/meetings/{meeting.id}").get_data(as_text=True))
    other_assignment = services.assign_steward(
        db_session, meeting=other, member_number=meeting_door["voter"].member_number, actor=CHAIR
    )
    db_session.commit()
    assert (
        chair.post(
            f"/meetings/{meeting.id}/stewards/{other_assignment.id}/revoke", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert (
        chair.post(
            f"/meetings/{meeting.id}/differences/424242", data={"csrf_token": token, "decision": "apply"}
        ).status_code
        == 404
    )
    bogus = chair.post(
        f"/meetings/{meeting.id}/differences/1", data={"csrf_token": token, "decision": "<script>"}
    )
    assert bogus.status_code == 302
    for number in ("<script>", "1' OR 1=1 --", "x" * 40):
        response = chair.post(
            f"/meetings/{meeting.id}/stewards", data={"csrf_token": token, "member_number": number}
        )
        assert response.status_code == 302
    snapshot = chair.post(f"/meetings/{meeting.id}/snapshots", data={"csrf_token": token, "label": "x" * 201})
    assert snapshot.status_code == 302
    assert chair.get(f"/meetings/{meeting.id}/snapshots/99999").status_code == 404
    assert chair.get(f"/meetings/{meeting.id}/roll.xlsx").status_code == 404
    assert chair.post(f"/meetings/{meeting.id}/freeze", data={}).status_code == 400
    db_session.expire_all()
    stewards = db_session.scalar(
        select(func.count()).select_from(StewardAssignment).where(StewardAssignment.meeting_id == meeting.id)
    )
    assert stewards == 1  # only the one from the fixture
    db_session.commit()
