"""The app shell: landing page, languages, security headers, CSRF, friendly errors, health check."""

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from crm_sync.models import SyncKind, SyncOutcome, SyncRun
from portal.core.clock import utcnow


def test_landing_page_is_dutch_by_default(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="nl">' in page
    assert "Welkom bij het ledenportaal" in page


def test_landing_page_in_english_when_the_browser_asks(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Welcome to the member portal" in page


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        ("en", "nl", "en"),  # the visitor's own choice wins
        ("klingon", "en-GB,en;q=0.9", "en"),  # an unknown choice falls back to the browser's
        ("NL", "de-DE,fr;q=0.8", "nl"),  # nothing known: the default
        ("", "", "nl"),
    ],
)
def test_language_follows_choice_then_browser_then_default(
    client: FlaskClient, cookie: str, accept: str, expected: str
) -> None:
    if cookie:
        client.set_cookie("lang", cookie)
    page = client.get("/", headers={"Accept-Language": accept} if accept else {}).get_data(as_text=True)
    assert f'<html lang="{expected}">' in page


def test_language_choice_is_remembered_and_redirects_only_locally(client: FlaskClient) -> None:
    client.get("/")
    token = _csrf_token(client)
    response = client.post(
        "/language", data={"language": "en", "next": "//evil.example/", "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Welcome to the member portal" in client.get("/").get_data(as_text=True)


def _csrf_token(client: FlaskClient) -> str:
    page = client.get("/").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_post_without_csrf_token_is_refused_kindly(client: FlaskClient) -> None:
    response = client.post("/language", data={"language": "en"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    assert "formulier" in page.lower()


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production
    assert response.headers["X-Request-Id"]


def test_a_header_the_view_sets_is_kept_once_and_the_rest_are_added(settings) -> None:
    from portal.app import create_app

    app = create_app(settings)

    @app.get("/own-headers")
    def own_headers() -> tuple[str, int, dict[str, str]]:
        return "ok", 200, {"cache-control": "private, max-age=60", "X-Frame-Options": "SAMEORIGIN"}

    response = app.test_client().get("/own-headers")
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Cache-Control" not in app.test_client().get("/").headers  # the landing page may be cached
    app.extensions["portal"].database.dispose()


def test_production_adds_hsts_and_host_cookie(settings) -> None:
    from portal.app import create_app

    app = create_app(settings.replace(environment="production"))
    response = app.test_client().get("/", base_url="https://portal.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-portal"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    app.extensions["portal"].database.dispose()


def test_unknown_page_is_a_friendly_404_in_html_and_json(client: FlaskClient) -> None:
    html = client.get("/nope")
    assert html.status_code == 404
    assert "Niet gevonden" in html.get_data(as_text=True)
    json_response = client.get("/nope", headers={"Accept": "application/json"})
    assert json_response.status_code == 404
    assert json_response.get_json()["error"] == "not_found"


def test_a_crash_shows_no_stack_trace(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page
    assert "Traceback" not in page
    assert response.headers["X-Request-Id"] in page


@pytest.mark.both_backends
def test_a_crash_after_a_failed_flush_still_shows_the_friendly_page(app: Flask, signed_in_client) -> None:
    """The error page's menu reads the signed-in account: the request's session is rolled back first,
    or the page itself would fail on the half-flushed session."""
    from portal.core.extension import db_session
    from portal.members.models import OrgUnit

    @app.get("/boom-in-flush")
    def boom_in_flush() -> str:
        session = db_session()
        session.add(OrgUnit())  # no name, kind or level: the flush fails
        session.flush()
        return "unreachable"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client, _ = signed_in_client()
    response = client.get("/boom-in-flush")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert response.headers["X-Request-Id"] in page
    assert "Traceback" not in page
    assert "IntegrityError" not in page
    assert client.get("/").status_code == 200  # and the next request is served as usual


@pytest.mark.both_backends
def test_healthz_reports_database_and_last_pull_age(client: FlaskClient, db_session: Session) -> None:
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok"
    assert body["last_successful_pull_at"] is None
    finished = utcnow() - timedelta(hours=3)
    db_session.add(
        SyncRun(
            kind=SyncKind.PULL_FULL,
            outcome=SyncOutcome.SUCCEEDED,
            adapter="civicrm",
            started_at=finished - timedelta(seconds=30),
            finished_at=finished,
            counts={},
        )
    )
    db_session.add(
        SyncRun(
            kind=SyncKind.PULL_FULL,
            outcome=SyncOutcome.FAILED,
            adapter="civicrm",
            started_at=utcnow(),
            finished_at=utcnow(),
            counts={},
        )
    )
    db_session.commit()
    body = client.get("/healthz").get_json()
    assert 3 * 3600 - 5 <= body["last_successful_pull_age_seconds"] <= 3 * 3600 + 60
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"


def test_every_page_names_its_icon_and_the_icon_is_served(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert link is not None  # without it, browsers ask for /favicon.ico and log a 404
    with client.get(link.group(1)) as icon:  # a file response: close it
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert b"<script" not in icon.data


@pytest.mark.both_backends  # PostgreSQL refuses NUL in any text value: it must never get that far
def test_a_nul_in_any_parameter_of_any_endpoint_is_refused_with_a_clear_400(  # type: ignore[no-untyped-def]
    app: Flask, signed_in_client, org_tree, member_factory
) -> None:
    from portal.auth.roles import Role
    from portal.auth.testing import csrf_from

    member_factory(member_number="1")
    anonymous = app.test_client()
    officer, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    for client in (anonymous, officer):
        token = csrf_from(
            client.get("/sign-in" if client is anonymous else "/security").get_data(as_text=True)
        )
        for rule in app.url_map.iter_rules():
            if rule.arguments or rule.rule.startswith("/static"):
                continue
            if "GET" in rule.methods:
                answer = client.get(rule.rule + "?q=a%00b&member=1", headers={"Accept-Language": "en"})
                assert answer.status_code == 400, ("GET", rule.rule)
                assert "cannot accept" in answer.get_data(as_text=True)
            if "POST" in rule.methods:
                form = {"csrf_token": token, "identifier": "1\x00", "password": "secret", "q": "x"}
                assert client.post(rule.rule, data=form).status_code == 400, ("POST", rule.rule)
    own = csrf_from(anonymous.get("/sign-in").get_data(as_text=True))
    named = anonymous.post("/sign-in", data={"csrf_token": own, "a\x00b": "x", "identifier": "1"})
    assert named.status_code == 400  # a NUL in a field's name too
    refused = anonymous.get("/sign-in?q=%00", headers={"X-Request-Id": "nul-probe-1"})
    assert refused.status_code == 400
    assert refused.headers["X-Request-Id"] == "nul-probe-1"  # the refusal carries its own request id
    deep = anonymous.post("/sign-in", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert deep.status_code == 400  # no JSON body is parsed (CSRF refuses it), never a 500
    assert officer.get("/security?q=fine").status_code == 200  # the guard passes everything else
