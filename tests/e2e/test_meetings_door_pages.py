"""The door through HTTP: check-in answers, nonce retries, QR cards, guards (J12, IDOR), hostile input."""

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from portal.auth.models import TermsVersion
from portal.core.clock import utcnow
from portal.meetings.models import Attendance, CheckInAttempt, StewardAssignment
from portal.meetings.testing import door_token, nonce, post_check_in
from portal.members.card import card_payload, card_token


def test_steward_checks_in_green_then_already_then_orange(meeting_door: dict) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    page = steward.get(f"/meetings/{meeting.id}/door")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'inputmode="numeric"' in html
    assert "<script>" not in html.replace("<script src=", "")
    first = post_check_in(steward, meeting.id, meeting_door["voter"].member_number)
    assert first.status_code == 201
    body = first.get_json()
    assert (body["signal"], body["title"]) == ("vote", "Stemrecht — geef een stemkaart uit")
    assert "Anna de Vries" in body["html"]
    again = post_check_in(steward, meeting.id, meeting_door["voter"].member_number)
    assert again.status_code == 409
    assert again.get_json()["title"].startswith("Al ingecheckt door Sam Steward")
    orange = post_check_in(steward, meeting.id, meeting_door["lapsed"].member_number, as_json=False)
    assert orange.status_code == 201
    text = orange.get_data(as_text=True)
    assert "Aanwezig zonder stemrecht" in text
    assert "lidmaatschap verlopen" in text


def test_J2_the_same_nonce_over_http_gives_201_twice_and_one_row(
    meeting_door: dict, db_session: Session
) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    key = nonce()
    assert post_check_in(steward, meeting.id, meeting_door["voter"].member_number, key=key).status_code == 201
    replay = post_check_in(steward, meeting.id, meeting_door["voter"].member_number, key=key)
    assert replay.status_code == 201
    assert replay.get_json()["replayed"] is True
    assert db_session.scalar(select(func.count()).select_from(Attendance)) == 1


def test_qr_card_checks_in_and_a_forged_card_is_refused_and_logged(
    app: Flask, meeting_door: dict, db_session: Session
) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    token = card_token(
        meeting_door["voter"].member_number, secret_key=app.config["SECRET_KEY"], issued_on=utcnow().date()
    )
    good = post_check_in(steward, meeting.id, "", card=card_payload(token), method="qr")
    assert good.status_code == 201
    assert good.get_json()["signal"] == "vote"
    forged = card_token(
        meeting_door["voter"].member_number, secret_key="another-key-" * 4, issued_on=utcnow().date()
    )
    bad = post_check_in(steward, meeting.id, "", card=card_payload(forged), method="qr")
    assert bad.status_code == 404
    assert bad.get_json()["signal"] == "refused"
    assert db_session.scalar(select(CheckInAttempt.outcome)) == "invalid_card"


def test_J12_a_steward_of_one_meeting_cannot_use_another(meeting_door: dict) -> None:
    steward, other = meeting_door["steward"], meeting_door["other"]
    assert steward.get(f"/meetings/{other.id}/door").status_code == 403
    response = steward.post(
        f"/meetings/{other.id}/door/check-in",
        data={
            "csrf_token": door_token(steward, meeting_door["meeting"].id),
            "member_number": meeting_door["voter"].member_number,
            "nonce": nonce(),
        },
    )
    assert response.status_code == 403


def test_J12_steward_access_ends_with_the_meeting(meeting_door: dict, db_session: Session) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    token = door_token(steward, meeting.id)
    ended = utcnow() - timedelta(minutes=1)
    db_session.execute(
        StewardAssignment.__table__.update()
        .where(StewardAssignment.meeting_id == meeting.id)
        .values(ends_at=ended)
    )
    db_session.commit()
    assert steward.get(f"/meetings/{meeting.id}/door").status_code == 401
    post = steward.post(
        f"/meetings/{meeting.id}/door/check-in",
        data={"csrf_token": token, "member_number": "1", "nonce": nonce()},
    )
    assert post.status_code == 401


def test_a_steward_sees_no_management_page_and_no_member_detail(app: Flask, meeting_door: dict) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    for path in (
        f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/dashboard",
        f"/meetings/{meeting.id}/dashboard/counts", f"/meetings/{meeting.id}/roll.csv",
        f"/meetings/{meeting.id}/attendance.pdf", "/meetings/new", f"/meetings/{meeting.id}/edit",
    ):  # fmt: skip
        assert steward.get(path).status_code == 403, path
    member_pages = [
        rule.rule.replace("<int:member_id>", str(meeting_door["voter"].id))
        for rule in app.url_map.iter_rules()
        if "<int:member_id>" in rule.rule and "GET" in (rule.methods or ())
    ]
    for path in member_pages or [f"/members/{meeting_door['voter'].id}"]:
        assert steward.get(path).status_code in (403, 404), path
    assert steward.get("/meetings").status_code == 200  # the door link


def test_a_member_without_assignment_or_role_gets_nothing(meeting_door: dict, signed_in_client) -> None:
    client, _credentials = signed_in_client()
    assert client.get("/meetings").status_code == 403
    assert client.get(f"/meetings/{meeting_door['meeting'].id}/door").status_code == 403


def test_hostile_input_at_the_door(meeting_door: dict, db_session: Session) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    for number in ("<script>alert(1)</script>", "1' OR '1'='1", "=cmd|' /C calc'!A0", "9" * 64, "\u202e123"):
        response = post_check_in(steward, meeting.id, number)
        assert response.status_code == 404
        assert "<script>" not in response.get_json()["html"]
    assert post_check_in(steward, meeting.id, "x" * 65).status_code == 422
    no_nonce = steward.post(
        f"/meetings/{meeting.id}/door/check-in",
        data={"csrf_token": door_token(steward, meeting.id), "member_number": "1"},
        headers={"Accept": "application/json"},
    )
    assert no_nonce.status_code == 422
    bad_nonce = post_check_in(
        steward, meeting.id, meeting_door["voter"].member_number, key="../../etc/passwd"
    )
    assert bad_nonce.status_code == 422
    assert (
        steward.post(f"/meetings/{meeting.id}/door/check-in", data={"member_number": "1"}).status_code == 400
    )
    assert steward.get(f"/meetings/{meeting.id}/door/check-in").status_code == 405
    assert steward.get("/meetings/99999/door").status_code == 404
    assert steward.get("/meetings/abc/door").status_code == 404
    token = door_token(steward, meeting.id)
    for path, data in (
        ("override", {"member_number": "424242", "reason": "Zegt lid te zijn", "nonce": nonce()}),
        ("override", {"member_number": meeting_door["lapsed"].member_number, "reason": "", "nonce": nonce()}),
        ("card", {"attendance_id": "1 OR 1=1", "card_number": "1"}),
        ("card", {"attendance_id": "999999", "card_number": "1"}),
        ("guest", {"name": "", "nonce": nonce()}),
        ("guest", {"name": "x" * 201, "nonce": nonce()}),
        ("check-out", {"attendance_id": "999999", "nonce": nonce()}),
    ):
        response = steward.post(
            f"/meetings/{meeting.id}/door/{path}",
            data={"csrf_token": token, **data},
            headers={"Accept": "application/json"},
        )
        assert response.status_code in (404, 422), (path, data, response.status_code)
    assert db_session.scalar(select(func.count()).select_from(Attendance)) == 0
    search = steward.get(f"/meetings/{meeting.id}/door?q=%3Cscript%3Ealert(1)%3C/script%3E&birth_year=abc")
    assert search.status_code == 200
    assert "<script>alert(1)" not in search.get_data(as_text=True)


def test_a_guest_is_listed_at_the_door_and_checked_out_from_the_list(meeting_door: dict) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    token = door_token(steward, meeting.id)
    registered = steward.post(
        f"/meetings/{meeting.id}/door/guest",
        data={"csrf_token": token, "name": "Jet Journalist", "note": "NRC", "nonce": nonce()},
        headers={"Accept": "application/json"},
    )
    assert registered.status_code == 201
    assert registered.get_json()["title"] == "Gast geregistreerd — geen stemrecht"
    page = steward.get(f"/meetings/{meeting.id}/door").get_data(as_text=True)
    assert "Jet Journalist" in page
    assert "Gasten binnen" in page
    out = steward.post(
        f"/meetings/{meeting.id}/door/check-out",
        data={
            "csrf_token": token,
            "attendance_id": str(registered.get_json()["attendance_id"]),
            "nonce": nonce(),
        },
        headers={"Accept": "application/json"},
    )
    assert out.status_code == 200
    assert out.get_json()["outcome"] == "checked_out"
    assert "Jet Journalist" not in steward.get(f"/meetings/{meeting.id}/door").get_data(as_text=True)


def _publish_terms(db_session: Session, version: str, *, requires_reacceptance: bool) -> None:
    db_session.add(
        TermsVersion(
            version=version,
            title=f"Terms {version}",
            body_markdown="Treat member data with care.",
            published_at=utcnow() + timedelta(seconds=1),
            requires_reacceptance=requires_reacceptance,
        )
    )
    db_session.commit()


def test_the_door_keeps_the_officer_gate_a_new_version_to_accept_again_shuts_it(
    meeting_door: dict, db_session: Session
) -> None:
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    _publish_terms(db_session, "door-minor", requires_reacceptance=False)
    assert post_check_in(steward, meeting.id, meeting_door["voter"].member_number).status_code == 201
    token = door_token(steward, meeting.id)
    _publish_terms(db_session, "door-major", requires_reacceptance=True)
    refused = steward.post(
        f"/meetings/{meeting.id}/door/check-in",
        data={"csrf_token": token, "member_number": meeting_door["lapsed"].member_number, "nonce": nonce()},
        headers={"Accept": "application/json"},
    )
    assert (refused.status_code, refused.get_json()) == (403, {"error": "terms_not_accepted"})
    page = steward.get(f"/meetings/{meeting.id}/door")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/terms")
    assert db_session.scalar(select(func.count()).select_from(Attendance)) == 1


def test_an_account_disabled_behind_a_live_session_is_turned_away_at_the_door(
    meeting_door: dict, db_session: Session
) -> None:
    """A merge in the CRM disables an account without ending its sessions: the next request, read from
    the session row alone, must already see it."""
    from portal.auth.models import Account

    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    token = door_token(steward, meeting.id)
    account = db_session.scalars(
        select(Account).where(Account.member_id == meeting_door["steward_member_id"])
    ).one()
    account.disabled_at = utcnow()
    db_session.commit()
    answer = steward.post(
        f"/meetings/{meeting.id}/door/check-in",
        data={"csrf_token": token, "member_number": meeting_door["voter"].member_number, "nonce": nonce()},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "sign_in_required"
    assert db_session.scalar(select(func.count()).select_from(Attendance)) == 0
    assert steward.get("/my-page").status_code == 302  # and every other page sends them to sign in


@pytest.mark.both_backends
def test_J11_a_check_in_over_http_is_three_statements_outside_any_transaction_on_postgresql(
    app: Flask, meeting_door: dict, backend: str
) -> None:
    """The door's hot path on PostgreSQL: the session, the guard and the check-in itself, each a
    statement of its own (no BEGIN, no COMMIT): three round trips, the last one committing."""
    steward, meeting = meeting_door["steward"], meeting_door["meeting"]
    engine = app.extensions["portal"].database.engine
    seen: list[tuple[str, bool]] = []

    def note(connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        driver = connection.connection.driver_connection
        seen.append((statement.split(None, 1)[0], getattr(driver, "autocommit", False)))

    token = door_token(steward, meeting.id)
    event.listen(engine, "before_cursor_execute", note)
    try:
        answer = post_check_in(steward, meeting.id, meeting_door["voter"].member_number, token=token)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert answer.status_code == 201
    if backend == "postgresql":
        assert seen == [("SELECT", True), ("SELECT", True), ("WITH", True)]
    else:
        assert len(seen) <= 8
