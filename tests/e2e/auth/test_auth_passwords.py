"""Security plan §7 A — password authentication and account lockout, through the real views.

Every row A1–A15 applies; A5 (limiter storage shared by several instances) runs against a real Redis in
tests/integration/test_auth_shared_limits.py.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from argon2 import PasswordHasher
from argon2.low_level import Type
from sqlalchemy import select

from config import Settings
from portal.app import create_app
from portal.auth.demo import create_demo_accounts
from portal.auth.guards import Access, access_of
from portal.auth.models import Account, SignInThrottle
from portal.auth.testing import (
    csrf_from,
    fresh_code,
    post_form,
    post_sign_in,
    sign_in,
    submit_code,
    tomorrow_at,
)

START = tomorrow_at(9)
WRONG = "dit is niet het wachtwoord"


def _ip(number: int) -> str:
    return f"10.1.{number // 200}.{number % 200 + 1}"


def _link_from(mail) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r"(/set-password/[A-Za-z0-9_\-]+)", mail.text)
    assert found, mail.text
    return found.group(1)


def test_A1_growing_delay_then_hard_stop_at_100(client, account_factory, mail) -> None:
    _, creds = account_factory()
    waits = []
    with time_machine.travel(START, tick=False) as traveller:
        for attempt in range(1, 101):
            assert post_sign_in(client, creds.member_number, WRONG, ip=_ip(attempt)).status_code == 200
            if 5 <= attempt < 100:
                blocked = post_sign_in(client, creds.member_number, creds.password, ip=_ip(attempt))
                assert blocked.status_code == 429
                waits.append(int(blocked.headers["Retry-After"]))
                traveller.shift(waits[-1])
        assert waits[:4] == [30, 60, 120, 240]
        assert waits == sorted(waits)
        assert max(waits) == 3600
        traveller.shift(timedelta(days=2))
        assert post_sign_in(client, creds.member_number, creds.password, ip=_ip(500)).status_code == 429
    assert any("100" in message.text for message in mail.wait_for(1))


def test_A1_success_resets_the_counter(app, client, account_factory) -> None:
    _, creds = account_factory()
    for attempt in range(4):
        post_sign_in(client, creds.member_number, WRONG, ip=_ip(attempt))
    sign_in(client, creds)
    with app.extensions["portal"].database.session() as session:
        assert session.get(SignInThrottle, f"account:{creds.account_id}") is None


def test_A2_guessing_from_one_ip_does_not_lock_the_member_out(app, account_factory) -> None:
    _, creds = account_factory()
    attacker, victim = app.test_client(), app.test_client()
    failures = 0
    with time_machine.travel(START, tick=False) as traveller:
        while failures < 20:
            response = post_sign_in(attacker, creds.member_number, WRONG, ip="198.51.100.7")
            if response.status_code == 429:
                traveller.shift(int(response.headers["Retry-After"]))
            else:
                failures += 1
        waited = post_sign_in(victim, creds.member_number, creds.password, ip="203.0.113.20")
        assert waited.status_code == 429  # a delay, not a lock
        traveller.shift(int(waited.headers["Retry-After"]))
        sign_in(victim, creds)
        assert victim.get("/security").status_code == 200


def test_A3_one_ip_failing_on_many_accounts_is_stopped(client, account_factory) -> None:
    accounts = [account_factory()[1] for _ in range(11)]
    statuses = [
        post_sign_in(client, creds.member_number, WRONG, ip="198.51.100.9").status_code for creds in accounts
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


def test_A4_spoofed_forwarded_for_does_not_dodge_the_ip_limit(settings: Settings, account_factory) -> None:
    proxied = create_app(settings.replace(trusted_proxy_count=1))
    client = proxied.test_client()
    _, creds = account_factory()
    statuses = []
    for attempt in range(11):
        page = client.get("/sign-in", headers={"X-Forwarded-For": f"{_ip(attempt)}, 203.0.113.50"})
        data = {
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "identifier": f"x{attempt}@example.org",
            "password": WRONG,
        }
        # The client made up the first address; our one trusted proxy appended the real one.
        statuses.append(
            client.post(
                "/sign-in", data=data, headers={"X-Forwarded-For": f"{_ip(attempt)}, 203.0.113.50"}
            ).status_code
        )
    assert statuses[-1] == 429
    direct = create_app(settings.replace(trusted_proxy_count=0)).test_client()
    statuses = [
        direct.post(
            "/sign-in",
            data={
                "csrf_token": csrf_from(direct.get("/sign-in").get_data(as_text=True)),
                "identifier": f"y{n}",
                "password": WRONG,
            },
            headers={"X-Forwarded-For": _ip(n)},
        ).status_code
        for n in range(11)
    ]
    assert statuses[-1] == 429  # without a trusted proxy the header is ignored altogether
    proxied.extensions["portal"].database.dispose()
    creds  # noqa: B018 - the account exists, so known and unknown names are mixed


def _body(response, identifier: str) -> str:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True).replace(identifier, "IDENTIFIER")
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_A6_unknown_name_and_wrong_password_look_and_take_the_same(
    app, database, account_factory, member_factory
) -> None:
    account_factory(member_number="900001")
    member_factory(member_number="900002")  # a member without an account is as unknown as a stranger
    client = app.test_client()
    timings: dict[str, list[float]] = {"900001": [], "900003": [], "900002": []}
    bodies = {}
    for run in range(55):
        order = list(timings)[run % 3 :] + list(timings)[: run % 3]  # rotate, so no name always goes first
        for identifier in order:
            with database.transaction() as session:
                session.execute(SignInThrottle.__table__.delete())
            page = client.get("/sign-in")
            data = {
                "csrf_token": csrf_from(page.get_data(as_text=True)),
                "identifier": identifier,
                "password": WRONG,
            }
            started = time.perf_counter()
            response = client.post(
                "/sign-in", data=data, environ_base={"REMOTE_ADDR": _ip(run * 3 + len(bodies))}
            )
            if run >= 5:  # the first rounds warm caches up
                timings[identifier].append(time.perf_counter() - started)
            assert response.status_code == 200
            bodies[identifier] = _body(response, identifier)
    assert bodies["900001"] == bodies["900003"] == bodies["900002"]
    # Paired runs (one of each per round) cancel the drift of a shared machine; the medians must agree.
    for identifier in ("900003", "900002"):
        ratios = [other / known for other, known in zip(timings[identifier], timings["900001"], strict=True)]
        assert 0.9 <= statistics.median(ratios) <= 1.1, (identifier, statistics.median(ratios))


@pytest.mark.parametrize("endpoint", ["/forgot-password", "/activate"])
def test_A7_link_requests_answer_the_same_for_known_and_unknown(
    client, account_factory, member_factory, mail, endpoint
) -> None:
    _, creds = account_factory()
    without_account = member_factory()
    known = post_form(client, endpoint, {"identifier": creds.member_number}, ip="198.51.100.1")
    unknown = post_form(client, endpoint, {"identifier": "nobody@example.org"}, ip="198.51.100.2")
    fresh = post_form(client, endpoint, {"identifier": without_account.email}, ip="198.51.100.3")
    assert known.status_code == unknown.status_code == fresh.status_code == 200
    assert (
        _body(known, creds.member_number)
        == _body(unknown, "nobody@example.org")
        == _body(fresh, without_account.email)
    )
    received = mail.wait_for(2)
    time.sleep(0.3)
    assert sorted(message.recipients[0] for message in mail.messages) == sorted(
        [creds.email, without_account.email]
    )
    assert len(received) == 2


def _set_password(client, link: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get(link, follow_redirects=True)
    return client.post(
        "/set-password", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "password": password}
    )


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("Password1", False),
        ("Utrecht2026D66", False),  # party and place words of the replica
        ("welkom123456", False),
        ("kx7-Pq2m-Lz9w" + "a" * 51, True),
        (
            "Een zin van honderdachtentwintig tekens mag natuurlijk ook, want lange wachtwoorden "
            "zijn sterk en wij knippen ze nooit af!!",
            True,
        ),
    ],
)
def test_A8_password_rules_at_activation(client, member_factory, mail, org_tree, password, accepted) -> None:
    member = member_factory()
    post_form(client, "/activate", {"identifier": member.member_number})
    response = _set_password(client, _link_from(mail.wait_for(1)[0]), password)
    assert (response.status_code == 302) is accepted
    if not accepted:
        assert response.status_code == 422
        assert "lp-error-summary" in response.get_data(as_text=True)


def test_A8_trailing_spaces_are_kept(app, client, member_factory, mail) -> None:
    member = member_factory()
    post_form(client, "/activate", {"identifier": member.email})
    assert (
        _set_password(client, _link_from(mail.wait_for(1)[0]), "kraanvogel boven de polder  ").status_code
        == 302
    )
    other = app.test_client()
    assert post_sign_in(other, member.member_number, "kraanvogel boven de polder").status_code == 200
    assert post_sign_in(other, member.member_number, "kraanvogel boven de polder  ").status_code == 302


def test_A9_password_links_work_once_and_for_24_hours(client, account_factory, mail) -> None:
    _, creds = account_factory()
    post_form(client, "/forgot-password", {"identifier": creds.member_number})
    link = _link_from(mail.wait_for(1)[0])
    assert _set_password(client, link, "zeven fietsen in de regen").status_code == 302
    assert client.get(link).status_code == 404
    post_form(client, "/forgot-password", {"identifier": creds.member_number})
    late = _link_from([message for message in mail.wait_for(3) if "/set-password/" in message.text][-1])
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=24, seconds=1)):
        assert client.get(late).status_code == 404


def test_A10_password_reset_still_asks_for_the_second_factor(app, client, account_factory, mail) -> None:
    _, creds = account_factory()
    post_form(client, "/forgot-password", {"identifier": creds.member_number})
    response = _set_password(client, _link_from(mail.wait_for(1)[0]), "zeven fietsen in de regen")
    assert response.headers["Location"].endswith("/sign-in")
    assert client.get("/security").status_code == 302  # not signed in by the reset
    fresh = app.test_client()
    assert (
        post_sign_in(fresh, creds.member_number, "zeven fietsen in de regen")
        .headers["Location"]
        .endswith("/sign-in/code")
    )
    assert fresh.get("/security").status_code == 302


def test_A11_password_change_ends_the_other_sessions(app, account_factory, mail) -> None:
    _, creds = account_factory()
    first, second = app.test_client(), app.test_client()
    sign_in(first, creds)
    sign_in(second, creds)
    response = post_form(
        first,
        "/security/password",
        {"current_password": creds.password, "password": "zeven fietsen in de regen"},
    )
    assert response.status_code == 302
    assert first.get("/security").status_code == 200
    assert second.get("/security").status_code == 302
    assert second.get("/security", headers={"Accept": "application/json"}).status_code == 401


def test_A11_password_reset_ends_every_session(app, account_factory, mail) -> None:
    _, creds = account_factory()
    signed_in = app.test_client()
    sign_in(signed_in, creds)
    stranger = app.test_client()
    post_form(stranger, "/forgot-password", {"identifier": creds.member_number})
    _set_password(stranger, _link_from(mail.wait_for(1)[0]), "zeven fietsen in de regen")
    assert signed_in.get("/security").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "\\\\\\evil.example",
        " //evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "\t//evil.example",
        "http:///evil.example",
        "https://evil.example/",
    ],
)
def test_A12_next_never_leaves_the_site(app, account_factory, target) -> None:
    _, creds = account_factory()
    client = app.test_client()
    post_sign_in(client, creds.member_number, creds.password, next_path=target)
    status, location = submit_code(client, fresh_code(app, creds))
    assert status == 302
    assert location == "/", location


def test_A12_a_relative_next_is_followed(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    post_sign_in(client, creds.member_number, creds.password, next_path="/security")
    assert submit_code(client, fresh_code(app, creds)) == (302, "/security")


def test_A13_legacy_hashes_are_upgraded_at_sign_in(app, database, account_factory) -> None:
    _, creds = account_factory()
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(creds.password)
    with database.transaction() as session:
        session.get_one(Account, creds.account_id).password_hash = weak
    sign_in(app.test_client(), creds)
    with database.session() as session:
        assert session.get_one(Account, creds.account_id).password_hash.startswith(
            "$argon2id$v=19$m=19456,t=2,p=1$"
        )


def test_A14_no_default_accounts_and_no_demo_accounts_in_production(
    app, settings, database, account_factory
) -> None:
    with database.session() as session:
        assert session.scalars(select(Account)).all() == []
    production = settings.replace(environment="production")
    with pytest.raises(RuntimeError, match="never created in production"):
        create_demo_accounts(create_app(production))
    account, _ = account_factory()
    with database.transaction() as session:
        session.get_one(Account, account.id).is_demo = True
    with pytest.raises(RuntimeError, match="demo account exists"):
        create_app(production)


def test_A15_every_way_to_present_a_password_is_listed_and_throttled(app, account_factory) -> None:
    takes_password = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint.startswith("auth.")
        and access_of(view) in {Access.SIGN_IN_FLOW, Access.SELF_SERVICE, Access.PUBLIC}
        and "password" in (view.__doc__ or "").lower()
    }
    assert takes_password <= {
        "auth.sign_in",
        "auth.set_password",
        "auth.change_password",
        "auth.reauthenticate",
        "auth.forgot_password",
        "auth.password_link",
    }
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    for _ in range(5):  # wrong passwords while confirming identity count for the same account throttle
        post_form(client, "/security/confirm", {"password": WRONG, "code": "000000"})
    with app.extensions["portal"].database.session() as session:
        assert session.get_one(SignInThrottle, f"account:{creds.account_id}").failures == 5


def test_A15_no_remember_me_cookie_and_json_gets_no_other_way_in(app, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    assert [cookie.key for cookie in client._cookies.values()] == ["portal"]
    stranger = app.test_client()
    stranger.set_cookie("remember_token", f"{creds.account_id}|forged")
    assert stranger.get("/security", headers={"Accept": "application/json"}).status_code == 401
    response = stranger.post("/sign-in", json={"identifier": creds.member_number, "password": creds.password})
    assert response.status_code == 400  # no JSON sign-in: the form with its CSRF token is the only way


def test_members_sign_in_with_their_email_address_or_member_number(app, account_factory) -> None:
    _, creds = account_factory(email="Jan.Jansen@Example.NL")
    for identifier in ("jan.jansen@example.nl", " Jan.Jansen@Example.NL ", creds.member_number):
        response = post_sign_in(app.test_client(), identifier, creds.password)
        assert response.headers["Location"].endswith("/sign-in/code"), identifier


def test_a_shared_household_address_signs_in_with_the_member_number(app, account_factory) -> None:
    _, first = account_factory(email="gezin@example.nl")
    account_factory(email="gezin@example.nl")
    assert post_sign_in(app.test_client(), "gezin@example.nl", first.password).status_code == 200
    assert post_sign_in(app.test_client(), first.member_number, first.password).status_code == 302
