"""Security plan §7 C — server-side sessions and cookies, through the real views.

All rows C1–C10 apply. C2 has no remember-me cookie to revoke: the test proves none is set and a forged one
is ignored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from portal.app import create_app
from portal.auth.models import Account, LoginSession, RoleGrant, TermsAcceptance
from portal.auth.roles import Role
from portal.auth.services.sessions import ABSOLUTE_LIFETIME
from portal.auth.testing import csrf_from, ensure_terms, post_form, post_sign_in, sign_in, tomorrow_at
from portal.core.events import MembersPulled
from portal.members.models import Position, PositionFunction

NOW = tomorrow_at(8)


def _sign_out(client):  # type: ignore[no-untyped-def]
    html = client.get("/security").get_data(as_text=True)
    return client.post("/sign-out", data={"csrf_token": csrf_from(html)})


def _is_signed_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/security").status_code == 200


def test_C1_a_cookie_saved_before_sign_out_is_dead_after_it(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    saved = client.get_cookie("portal").value  # type: ignore[union-attr]
    _sign_out(client)
    thief = app.test_client()
    thief.set_cookie("portal", saved)
    assert thief.get("/security", headers={"Accept": "application/json"}).status_code == 401


def test_C2_there_is_no_remember_me_cookie_and_a_forged_one_is_ignored(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    assert client.get_cookie("remember_token") is None
    _sign_out(client)
    client.set_cookie("remember_token", f"{creds.account_id}|0123456789abcdef")
    assert not _is_signed_in(client)


def test_C3_idle_members_time_out_after_30_minutes_officers_after_15(app, account_factory, org_tree) -> None:
    _, member = account_factory()
    _, officer = account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)])
    with time_machine.travel(NOW, tick=False) as traveller:
        member_client, officer_client = app.test_client(), app.test_client()
        sign_in(member_client, member)
        sign_in(officer_client, officer)
        traveller.shift(timedelta(minutes=14))
        assert _is_signed_in(member_client)
        assert _is_signed_in(officer_client)
        traveller.shift(timedelta(minutes=16))  # 16 minutes since the last request
        assert not _is_signed_in(officer_client)
        assert _is_signed_in(member_client)
        traveller.shift(timedelta(minutes=31))
        assert not _is_signed_in(member_client)


def test_C4_twelve_hours_is_the_end_whatever_the_activity(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    with time_machine.travel(NOW, tick=False) as traveller:
        sign_in(client, creds)
        for _ in range(int(ABSOLUTE_LIFETIME / timedelta(minutes=5)) - 1):
            traveller.shift(timedelta(minutes=5))
            assert _is_signed_in(client)
        traveller.shift(timedelta(minutes=5))
        assert not _is_signed_in(client)


def test_C5_cookie_and_session_settings_are_explicit(app, settings, account_factory) -> None:
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"] <= 12 * 3600
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    cookie = client.get_cookie("portal")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert cookie.domain in {"localhost", None}
    assert cookie.expires is None  # a browser-session cookie; the server enforces the timeouts
    production = create_app(settings.replace(environment="production"))
    assert production.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert production.config["SESSION_COOKIE_SECURE"] is True
    response = production.test_client().get("/sign-in", base_url="https://portal.example")
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-portal=")
    assert "Secure" in header
    assert "HttpOnly" in header
    assert "Domain" not in header
    assert "Path=/" in header
    assert "SameSite=Lax" in header


def test_C6_disabling_an_account_ends_its_sessions_at_once(app, signed_in_client, account_factory) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    _, creds = account_factory()
    member = app.test_client()
    sign_in(member, creds)
    page = admin.post(
        "/admin/accounts",
        data={
            "csrf_token": csrf_from(admin.get("/admin/accounts").get_data(as_text=True)),
            "member_number": creds.member_number,
        },
    )
    html = page.get_data(as_text=True)
    action = re.search(r'action="(/admin/accounts/\d+/disable)"', html).group(1)  # type: ignore[union-attr]
    assert admin.post(action, data={"csrf_token": csrf_from(html), "reason": "Geroyeerd"}).status_code == 302
    assert not _is_signed_in(member)
    assert app.test_client().post("/sign-in").status_code == 400  # (CSRF) — and a new sign-in is refused:
    assert post_sign_in(app.test_client(), creds.member_number, creds.password).status_code == 200


def test_C7_losing_a_role_takes_effect_on_the_next_request(
    app, database, account_factory, org_tree, member_factory
) -> None:
    member = member_factory()
    with database.transaction() as session:
        session.add(
            Position(
                crm_id="pos-1",
                member_id=member.id,
                org_unit_id=org_tree.branch.id,
                function=PositionFunction.CHAIR,
            )
        )
    app.extensions["portal"].events.publish(
        MembersPulled(sync_run_id=1, finished_at=datetime.now(UTC), changed_member_ids=())
    )
    _, creds = account_factory(member=member, roles=[])
    with database.transaction() as session:  # terms accepted, so only the role decides
        version = ensure_terms(session)
        now = datetime.now(UTC)
        session.add(
            TermsAcceptance(
                account_id=creds.account_id,
                terms_version_id=version.id,
                accepted_at=now,
                expires_at=now + timedelta(days=365),
            )
        )
    client = app.test_client()
    sign_in(client, creds)
    assert client.get("/rights").status_code == 200
    assert "Afdeling Utrecht" in client.get("/rights").get_data(as_text=True)
    with database.transaction() as session:
        position = session.scalar(select(Position).where(Position.crm_id == "pos-1"))
        position.end_date = (datetime.now(UTC) - timedelta(days=1)).date()  # type: ignore[union-attr]
    app.extensions["portal"].events.publish(
        MembersPulled(sync_run_id=2, finished_at=datetime.now(UTC), changed_member_ids=())
    )
    assert not _is_signed_in(client)  # role loss ends the sessions


def test_C7_an_expired_grant_is_refused_on_the_next_request(app, database, signed_in_client) -> None:
    admin, creds = signed_in_client(Role.ADMIN, None)
    assert admin.get("/admin/grants").status_code == 200
    with database.transaction() as session:
        for grant in session.scalars(select(RoleGrant).where(RoleGrant.member_id == creds.member_id)):
            grant.ends_at = datetime.now(UTC) - timedelta(seconds=1)
    assert admin.get("/admin/grants").status_code == 403


def test_C8_members_see_their_sessions_and_end_another_one(app, account_factory) -> None:
    _, creds = account_factory()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, creds)
    sign_in(phone, creds)
    page = laptop.get("/security").get_data(as_text=True)
    ends = re.findall(r'action="(/security/sessions/\d+/end)"', page)
    assert len(ends) == 1
    assert laptop.post(ends[0], data={"csrf_token": csrf_from(page)}).status_code == 302
    assert _is_signed_in(laptop)
    assert not _is_signed_in(phone)


def test_C8_ending_other_sessions_is_refused_for_someone_elses_session(
    app, database, account_factory
) -> None:
    _, alice = account_factory()
    _, bob = account_factory()
    alice_client, bob_client = app.test_client(), app.test_client()
    sign_in(alice_client, alice)
    sign_in(bob_client, bob)
    with database.session() as session:
        bobs = session.scalar(
            select(LoginSession.id).where(
                LoginSession.account_id == bob.account_id, LoginSession.ended_at.is_(None)
            )
        )
    page = alice_client.get("/security").get_data(as_text=True)
    alice_client.post(f"/security/sessions/{bobs}/end", data={"csrf_token": csrf_from(page)})
    assert _is_signed_in(bob_client)


def test_C9_session_ids_have_256_bits_and_only_their_digest_is_stored(app, database, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    raw = client.get_cookie("portal").value  # type: ignore[union-attr]
    assert re.fullmatch(r"[A-Za-z0-9_\-]{43}", raw)
    with database.session() as session:
        digests = set(session.scalars(select(LoginSession.token_hash)))
        accounts = session.scalars(select(Account)).all()
    assert raw not in digests
    assert len(digests) >= 3
    assert accounts


def test_C10_signed_in_pages_are_not_cached_and_sign_out_clears_the_browser(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    assert client.get("/security").headers["Cache-Control"] == "no-store"
    response = _sign_out(client)
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert (
        "portal=;" in response.headers["Set-Cookie"]
        or "Expires=Thu, 01 Jan 1970" in response.headers["Set-Cookie"]
    )


def test_C_sensitive_forms_keep_their_csrf_protection(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    assert (
        client.post(
            "/security/password",
            data={"current_password": creds.password, "password": "zeven fietsen in de regen"},
        ).status_code
        == 400
    )
    assert (
        post_form(
            client,
            "/security/password",
            {"current_password": creds.password, "password": "zeven fietsen in de regen"},
        ).status_code
        == 302
    )
