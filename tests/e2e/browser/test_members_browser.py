"""Issue 5 in a real browser: my page → the CRM, the who's-who with a misspelt name, an officer's limits.

Debian's chromium through Playwright against the app served over real HTTP (fixtures in tests/conftest.py).
Phone-sized screenshots of my page and the who's-who go to `PORTAL_SCREENSHOTS` (default: the test's tmp dir).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_full
from portal.auth.roles import Role
from portal.auth.testing import make_account
from portal.members.models import Member, MembershipStatus, PositionFunction
from portal.members.testing import make_position


def _screenshot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("PORTAL_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def settings(settings, crm):  # type: ignore[no-untyped-def]
    """The portal of these journeys talks to the running CRM simulator."""
    return settings.replace(crm_url=crm.url, crm_api_key=crm.api_key)


@pytest.mark.browser
def test_member_changes_phone_number_and_sees_it_sent_to_the_crm(
    app, live_server, phone_page, crm, database, settings, tmp_path, browser_sign_in
) -> None:  # type: ignore[no-untyped-def]
    port = make_crm_port(settings)
    try:
        pull_full(database, port, max_removed_share=0.02, events=app.extensions["portal"].events)
    finally:
        port.close()
    with database.session(write=True) as session:
        member = session.scalar(select(Member).where(Member.status == MembershipStatus.CURRENT).limit(1))
        member.email = "marloes.van.den.oosterdamkamp-dubois@ledenadministratie.example.nl"  # one long word
        _account, credentials = make_account(session, member, keys=app.extensions["auth_keys"])
    page = phone_page
    browser_sign_in(page, credentials, "/my-page")
    # A long e-mail address wraps inside its card: the page never scrolls sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Mijn gegevens wijzigen").click()
    page.get_by_label("Mobiel nummer").fill("06 1357 9246")
    page.get_by_role("button", name="Opslaan").click()
    expect(page).to_have_url(f"{live_server}/my-page")
    expect(page.get_by_role("status").filter(has_text="Verstuurd naar de ledenadministratie")).to_be_visible()
    expect(page.get_by_text("+31 6 13579246")).to_be_visible()
    assert any("+31613579246" in str(entry) for entry in crm.requests())
    _screenshot(page, tmp_path, "my-page-phone")
    page.goto(f"{live_server}/my-page/card")
    expect(page.locator("svg.lp-card__qr")).to_be_visible()
    _screenshot(page, tmp_path, "membership-card-phone")


@pytest.mark.browser
def test_member_finds_the_branch_chair_by_a_misspelt_name(
    app,
    live_server,
    phone_page,
    org_tree,
    member_factory,
    account_factory,
    db_session,
    tmp_path,
    browser_sign_in,
) -> None:  # type: ignore[no-untyped-def]
    chair = member_factory(given_name="Ömer", family_name="Öztürk")
    make_position(db_session, chair, org_tree.branch, PositionFunction.CHAIR)
    db_session.commit()
    _account, credentials = account_factory()
    page = phone_page
    browser_sign_in(page, credentials, "/whos-who")
    page.get_by_label("Naam").fill("Oztrük")
    page.get_by_role("button", name="Zoeken").click()
    expect(page.get_by_role("heading", name="Namen die erop lijken")).to_be_visible()
    _screenshot(page, tmp_path, "whos-who-search-phone")
    page.get_by_role("link", name="Ömer Öztürk").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ömer Öztürk")
    expect(page.get_by_text("voorzitter")).to_be_visible()
    page.goto(f"{live_server}/whos-who/bodies/{org_tree.branch.id}")
    expect(page.get_by_text("Vacant").first).to_be_visible()
    _screenshot(page, tmp_path, "whos-who-body-phone")


@pytest.mark.browser
def test_branch_officer_cannot_reach_other_branches_or_hidden_fields(
    app,
    live_server,
    desktop_page,
    org_tree,
    member_factory,
    account_factory,
    tmp_path,
    caplog,
    browser_sign_in,
) -> None:  # type: ignore[no-untyped-def]
    near = member_factory(family_name="Dichtbij", birth_date=date(1931, 7, 19))
    far = member_factory(family_name="Verweg", branch_id=org_tree.far_branch.id)
    _account, officer = account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)])
    page = desktop_page
    browser_sign_in(page, officer, "/members")
    page.get_by_label("Naam").fill("Dichtbij")
    page.get_by_role("button", name="Zoeken").click()
    page.get_by_role("link", name="Dichtbij").click()
    expect(page).to_have_url(f"{live_server}/members/{near.id}")
    assert "1931-07-19" not in page.content()
    as_json = page.evaluate("fetch(location.pathname + '?format=json').then(r => r.text())")
    assert "1931" not in as_json
    assert "birth_date" not in as_json
    response = page.goto(f"{live_server}/members/{far.id}")
    assert response is not None
    assert response.status == 404
    assert "Verweg" not in page.content()
    assert "member outside scope requested" in caplog.text
    page.goto(f"{live_server}/members")
    page.get_by_label("Naam").fill("Dichtbij")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Exporteer CSV").click()
    exported = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert "Dichtbij" in exported
    assert "1931" not in exported
