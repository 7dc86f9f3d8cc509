"""Security plan §7 B — the second factor: TOTP, mailed codes, recovery codes, through the real views.

All rows B1–B17 apply except B16 in its literal form: the portal has no "remember this device" cookie at
all, so every sign-in asks for the second factor; the B16 test proves exactly that.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from audit.models import AuditEntry
from portal.app import create_app
from portal.auth import totp
from portal.auth.models import Account, GrantSource, RoleGrant
from portal.auth.roles import Role
from portal.auth.services.factors import new_recovery_codes
from portal.auth.testing import (
    csrf_from,
    fresh_code,
    post_form,
    post_sign_in,
    sign_in,
    submit_code,
    tomorrow_at,
)
from portal.core.actors import Actor

NOW = tomorrow_at(10, 0, 5)


def _actions(database) -> list[str]:  # type: ignore[no-untyped-def]
    with database.session() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _code_at(creds, offset: int) -> str:  # type: ignore[no-untyped-def]
    return totp.code_for_step(creds.totp_secret, totp.step_at(datetime.now(UTC)) + offset)


def _pending(app, creds):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert (
        post_sign_in(client, creds.member_number, creds.password)
        .headers["Location"]
        .endswith("/sign-in/code")
    )
    return client


def _sign_out(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/security").get_data(as_text=True)
    client.post("/sign-out", data={"csrf_token": csrf_from(html)})


def test_B1_totp_code_replay_is_refused(app, account_factory) -> None:
    _, creds = account_factory()
    with time_machine.travel(NOW, tick=False):
        first = _pending(app, creds)
        code = _code_at(creds, 0)
        assert submit_code(first, code)[0] == 302
        _sign_out(first)
        second = _pending(app, creds)
        status, _ = submit_code(second, code)
        assert status == 200
        assert second.get("/security").status_code == 302


def test_B1_the_enrolment_code_cannot_sign_in_again(app, client, member_factory, mail) -> None:
    member = member_factory()
    with time_machine.travel(NOW, tick=False):
        post_form(client, "/activate", {"identifier": member.member_number})
        link = re.search(r"/set-password/\S+", mail.wait_for(1)[0].text).group(0)  # type: ignore[union-attr]
        page = client.get(link, follow_redirects=True)
        client.post(
            "/set-password",
            data={
                "csrf_token": csrf_from(page.get_data(as_text=True)),
                "password": "zeven fietsen in de regen",
            },
        )
        enrol = client.get("/security/authenticator").get_data(as_text=True)
        seed = re.search(r'<code class="lp-secret">([A-Z2-7 ]+)</code>', enrol).group(1).replace(" ", "")  # type: ignore[union-attr]
        code = totp.code_for_step(seed, totp.step_at(NOW))
        done = client.post("/security/authenticator", data={"csrf_token": csrf_from(enrol), "code": code})
        assert done.status_code == 200
        assert "lp-codes" in done.get_data(as_text=True)
        assert client.get("/security").status_code == 200  # enrolment signed the member in
        sign_out = csrf_from(done.get_data(as_text=True))  # the page's forms work with the new session
        assert client.post("/sign-out", data={"csrf_token": sign_out}).status_code == 302
        assert client.get("/security").status_code == 302
        again = app.test_client()
        post_sign_in(again, member.member_number, "zeven fietsen in de regen")
        assert submit_code(again, code)[0] == 200


def test_B2_a_replay_is_logged_and_the_member_told(app, database, account_factory, mail) -> None:
    _, creds = account_factory()
    with time_machine.travel(NOW, tick=False):
        code = _code_at(creds, 0)
        submit_code(_pending(app, creds), code)
        submit_code(_pending(app, creds), code)
    assert "auth.totp_replayed" in _actions(database)
    assert any("al eerder was gebruikt" in message.text for message in mail.wait_for(1))


def test_B3_the_same_code_in_two_concurrent_sign_ins_works_once(app, account_factory) -> None:
    _, creds = account_factory()
    with time_machine.travel(NOW, tick=True):
        clients = [_pending(app, creds) for _ in range(2)]
        pages = [client.get("/sign-in/code").get_data(as_text=True) for client in clients]
        code = _code_at(creds, 0)
        start = threading.Barrier(2)
        statuses: list[int] = []

        def submit(client, page) -> None:  # type: ignore[no-untyped-def]
            start.wait()
            statuses.append(
                client.post("/sign-in/code", data={"csrf_token": csrf_from(page), "code": code}).status_code
            )

        threads = [threading.Thread(target=submit, args=pair) for pair in zip(clients, pages, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200, 302]


def test_B4_one_step_either_side_passes_two_steps_do_not(app, account_factory) -> None:
    _, creds = account_factory()
    boundary = datetime.fromtimestamp(totp.step_at(NOW) * totp.STEP_SECONDS, UTC)
    with time_machine.travel(boundary, tick=False):
        for offset in (-2, 2):
            assert submit_code(_pending(app, creds), _code_at(creds, offset))[0] == 200
        assert submit_code(_pending(app, creds), _code_at(creds, -1))[0] == 302
        assert submit_code(_pending(app, creds), _code_at(creds, 1))[0] == 302


def test_B5_the_window_is_at_most_30_seconds_each_way() -> None:
    assert totp.WINDOW * totp.STEP_SECONDS <= 30


def test_B6_five_wrong_codes_void_the_sign_in_and_ten_lock_the_factor(
    app, database, account_factory, mail
) -> None:
    _, creds = account_factory()
    client = _pending(app, creds)
    statuses = [submit_code(client, "000000") for _ in range(5)]
    assert [status for status, _ in statuses[:4]] == [200] * 4
    assert statuses[4] == (302, "/sign-in")
    assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in")
    client = _pending(app, creds)
    for _ in range(5):
        submit_code(client, "111111")
    with database.session() as session:
        assert session.get_one(Account, creds.account_id).factor_locked_at is not None
    client = _pending(app, creds)
    assert submit_code(client, fresh_code(app, creds)) == (302, "/sign-in")  # locked: even the right code
    assert any("tien foute codes" in message.text for message in mail.wait_for(1))


def test_B7_pages_and_the_code_step_need_the_stages_before_them(app, account_factory, org_tree) -> None:
    _, creds = account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)])
    client = _pending(app, creds)
    assert client.get("/security").status_code == 302
    assert client.get("/rights", headers={"Accept": "application/json"}).status_code == 401
    assert client.get("/admin/grants").headers["Location"].startswith("/sign-in")
    stranger = app.test_client()
    page = stranger.get("/sign-in").get_data(as_text=True)
    response = stranger.post(
        "/sign-in/code", data={"csrf_token": csrf_from(page), "code": fresh_code(app, creds)}
    )
    assert response.headers["Location"].endswith("/sign-in")


def test_B8_a_new_session_id_after_the_password_and_after_the_code(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    client.get("/sign-in")
    before = client.get_cookie("portal").value  # type: ignore[union-attr]
    post_sign_in(client, creds.member_number, creds.password)
    after_password = client.get_cookie("portal").value  # type: ignore[union-attr]
    submit_code(client, fresh_code(app, creds))
    after_code = client.get_cookie("portal").value  # type: ignore[union-attr]
    assert len({before, after_password, after_code}) == 3
    for old in (before, after_password):
        replay = app.test_client()
        replay.set_cookie("portal", old)
        assert replay.get("/security").status_code == 302


def _email_client(app, creds):  # type: ignore[no-untyped-def]
    client = _pending(app, creds)
    assert client.get("/sign-in/code").headers["Location"].endswith("/sign-in/email-code")
    return client


def _send_code(client) -> int:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in/email-code").get_data(as_text=True)
    return client.post("/sign-in/email-code/send", data={"csrf_token": csrf_from(page)}).status_code


def _mailed_codes(mail, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        re.search(r"code is (\d{6})", m.text).group(1) for m in mail.wait_for(count) if "code is" in m.text
    ]  # type: ignore[union-attr]


def _enter(client, code: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in/email-code").get_data(as_text=True)
    response = client.post("/sign-in/email-code", data={"csrf_token": csrf_from(page), "code": code})
    return response.status_code, response.headers.get("Location", "")


def test_B9_a_resend_voids_the_old_code_and_a_fourth_send_is_refused(app, account_factory, mail) -> None:
    _, creds = account_factory(totp=False)
    client = _email_client(app, creds)
    for _ in range(4):
        _send_code(client)
    assert "15 minuten" in client.get("/sign-in/email-code").get_data(as_text=True)
    codes = _mailed_codes(mail, 3)
    assert len(codes) == 3  # the fourth was refused
    assert _enter(client, codes[0])[0] == 200  # superseded by the resend
    assert _enter(client, codes[2]) == (302, "/")


def test_B9_a_mailed_code_lapses_after_10_minutes(app, account_factory, mail) -> None:
    _, creds = account_factory(totp=False)
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        client = _email_client(app, creds)
        _send_code(client)
        code = _mailed_codes(mail, 1)[0]
        traveller.shift(timedelta(minutes=10, seconds=1))
        assert _enter(client, code)[0] == 200


def test_B9_five_wrong_tries_end_the_code_and_the_sign_in(app, account_factory, mail) -> None:
    _, creds = account_factory(totp=False)
    client = _email_client(app, creds)
    _send_code(client)
    code = _mailed_codes(mail, 1)[0]
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    assert [_enter(client, wrong)[0] for _ in range(4)] == [200] * 4
    assert _enter(client, wrong) == (302, "/sign-in")
    assert _enter(_email_client(app, creds), code)[0] == 200


def test_B10_a_mailed_code_belongs_to_its_own_sign_in(app, account_factory, mail) -> None:
    _, creds = account_factory(totp=False)
    first = _email_client(app, creds)
    _send_code(first)
    code = _mailed_codes(mail, 1)[0]
    second = _email_client(app, creds)
    assert _enter(second, code)[0] == 200
    assert _enter(first, code)[0] == 302


def test_B11_officers_cannot_use_mailed_codes(app, account_factory, org_tree, database, mail) -> None:
    _, officer = account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)], totp=False)
    client = _email_client(app, officer)
    assert client.get("/sign-in/email-code").status_code == 403
    _, member = account_factory(totp=False)
    client = _email_client(app, member)
    _send_code(client)
    assert _enter(client, _mailed_codes(mail, 1)[0])[0] == 302
    with database.transaction() as session:  # the member becomes an officer mid-session
        now = datetime.now(UTC)
        grant = RoleGrant(
            member_id=member.member_id,
            role=Role.BRANCH_BOARD,
            scope_unit_id=org_tree.branch.id,
            source=GrantSource.EXPLICIT,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=9),
            reason="test",
            created_at=now,
        )
        session.add(grant)
    officer_page = client.get("/rights/area")
    assert officer_page.headers["Location"].startswith("/security/authenticator-required")
    assert client.get(officer_page.headers["Location"]).status_code == 403
    assert client.get("/security").status_code == 200  # self-service stays open


def _recovery_codes(app, database, creds) -> list[str]:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        account = session.get_one(Account, creds.account_id)
        codes, _ = new_recovery_codes(
            session, account=account, actor=Actor.system("test"), now=datetime.now(UTC)
        )
    return codes


def _use_recovery(client, code: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    page = client.get("/sign-in/recovery-code").get_data(as_text=True)
    response = client.post("/sign-in/recovery-code", data={"csrf_token": csrf_from(page), "code": code})
    return response.status_code, response.headers.get("Location", "")


def test_B12_recovery_codes_work_once_and_regenerating_voids_the_old_set(
    app, database, account_factory
) -> None:
    _, creds = account_factory()
    codes = _recovery_codes(app, database, creds)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert _use_recovery(_pending(app, creds), codes[0].lower())[0] == 302
    assert _use_recovery(_pending(app, creds), codes[0])[0] == 200
    _recovery_codes(app, database, creds)
    assert _use_recovery(_pending(app, creds), codes[1])[0] == 200
    with database.session() as session:
        stored = session.execute(select(AuditEntry.changes)).all()
    assert not any(code in str(stored) for code in codes)


def test_B13_guessing_recovery_codes_locks_the_factor(app, database, account_factory) -> None:
    _, creds = account_factory()
    _recovery_codes(app, database, creds)
    client = _pending(app, creds)
    for attempt in range(20):
        _status, location = _use_recovery(client, f"AAAA-BBBB-CCCC-{attempt:04d}")
        if location.endswith("/sign-in"):
            client = _pending(app, creds)
    with database.session() as session:
        assert session.get_one(Account, creds.account_id).factor_locked_at is not None


def test_B14_changing_factors_needs_a_fresh_sign_in_and_is_announced(app, account_factory, mail) -> None:
    _, creds = account_factory()
    client = app.test_client()
    with time_machine.travel(datetime.now(UTC), tick=True) as traveller:
        sign_in(client, creds)
        traveller.shift(timedelta(minutes=11))
        assert client.get("/security/authenticator").headers["Location"].startswith("/security/confirm")
        html = client.get("/security").get_data(as_text=True)
        regenerate = client.post("/security/recovery-codes", data={"csrf_token": csrf_from(html)})
        assert regenerate.headers["Location"].startswith("/security/confirm")
        confirmed = post_form(
            client,
            "/security/confirm?next=/security",
            {"password": creds.password, "code": fresh_code(app, creds)},
        )
        assert confirmed.headers["Location"] == "/security"
        html = client.get("/security").get_data(as_text=True)
        assert (
            client.post("/security/recovery-codes", data={"csrf_token": csrf_from(html)}).status_code == 200
        )
    assert any("herstelcodes" in message.text for message in mail.wait_for(1))


def test_B15_the_seed_is_encrypted_at_rest_and_never_logged(app, database, account_factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    with database.session() as session:
        stored = session.get_one(Account, creds.account_id).totp_secret_encrypted or ""
        audit = str(session.execute(select(AuditEntry.changes)).all())
    assert creds.totp_secret not in stored
    assert stored.startswith("v1:")
    assert creds.totp_secret not in caplog.text
    assert creds.totp_secret not in audit
    assert creds.totp_secret not in client.get("/security").get_data(as_text=True)


def test_B16_no_device_is_remembered_every_sign_in_asks_for_the_code(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    _sign_out(client)
    assert (
        post_sign_in(client, creds.member_number, creds.password)
        .headers["Location"]
        .endswith("/sign-in/code")
    )


def test_B17_an_admin_reset_needs_a_proofing_note_and_the_member_re_enrols(
    app, database, account_factory, signed_in_client, mail
) -> None:
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
    action = re.search(r'action="(/admin/accounts/\d+/reset-factor)"', html).group(1)  # type: ignore[union-attr]
    admin.post(action, data={"csrf_token": csrf_from(html), "proofing": "kort"})
    with database.session() as session:
        assert session.get_one(Account, creds.account_id).has_totp  # too short a note: nothing happened
    admin.post(
        action,
        data={
            "csrf_token": csrf_from(html),
            "proofing": "Teruggebeld op het bekende nummer, geboortedatum en adres gecontroleerd",
        },
    )
    with database.session() as session:
        account = session.get_one(Account, creds.account_id)
        assert not account.has_totp
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.factor_reset"))
    assert entry is not None
    assert "Teruggebeld" in str(entry.changes)
    assert member.get("/security").status_code == 302
    assert any("/set-password/" in message.text for message in mail.wait_for(1))


def test_B14_replacing_the_app_ends_the_other_sessions(app, account_factory, mail) -> None:
    _, creds = account_factory()
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, creds)
    sign_in(phone, creds)
    enrol = laptop.get("/security/authenticator").get_data(as_text=True)
    seed = re.search(r'<code class="lp-secret">([A-Z2-7 ]+)</code>', enrol).group(1).replace(" ", "")  # type: ignore[union-attr]
    code = totp.code_for_step(seed, totp.step_at(datetime.now(UTC)))
    assert (
        laptop.post(
            "/security/authenticator", data={"csrf_token": csrf_from(enrol), "code": code}
        ).status_code
        == 200
    )
    assert laptop.get("/security").status_code == 200
    assert phone.get("/security").status_code == 302
    assert any("authenticator-app" in message.text for message in mail.wait_for(1))


def test_mailed_codes_are_off_when_the_settings_say_so(settings, account_factory) -> None:
    strict = create_app(settings.replace(email_code_allowed=False))
    _, creds = account_factory(totp=False)
    client = _email_client(strict, creds)
    assert client.get("/sign-in/email-code").status_code == 403
    strict.extensions["portal"].database.dispose()
