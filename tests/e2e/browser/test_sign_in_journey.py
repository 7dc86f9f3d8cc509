"""The branch chair's journey in a real browser (Debian's chromium through Playwright, a real HTTP server).

Uses the shared `live_server` and `desktop_page` fixtures (tests/conftest.py, browser section).
Member number + password + TOTP code → the terms gate → accept → an officer page; then the same code
replayed in a second sign-in is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.auth import totp
from portal.auth.models import Account
from portal.auth.roles import Role
from portal.auth.testing import ensure_terms, sign_in


def _sign_in(page: Page, base: str, member_number: str, password: str, code: str) -> None:
    page.goto(f"{base}/rights/area")
    expect(page).to_have_url(f"{base}/sign-in?next=/rights/area")
    page.get_by_label("E-mailadres of lidnummer").fill(member_number)
    page.get_by_label("Wachtwoord").fill(password)
    page.get_by_role("button", name="Volgende").click()
    expect(page).to_have_url(f"{base}/sign-in/code")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Inloggen").click()


@pytest.mark.browser
def test_branch_chair_signs_in_meets_the_terms_gate_and_a_replayed_code_is_refused(
    live_server, desktop_page, account_factory, org_tree, database
) -> None:  # type: ignore[no-untyped-def]
    _, chair = account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)], terms_accepted=False)
    with database.transaction() as session:
        ensure_terms(session)
        last = session.scalar(select(Account.totp_last_step).where(Account.id == chair.account_id))
    assert last is None
    assert chair.totp_secret
    code = totp.code_for_step(chair.totp_secret, totp.step_at(datetime.now(UTC)))

    _sign_in(desktop_page, live_server, chair.member_number, chair.password, code)
    expect(desktop_page).to_have_url(f"{live_server}/terms?next=/rights/area")
    desktop_page.get_by_label("Ik heb deze regels gelezen en ga ermee akkoord").check()
    desktop_page.get_by_role("button", name="Akkoord").click()
    expect(desktop_page).to_have_url(f"{live_server}/rights/area")
    expect(desktop_page.get_by_role("heading", level=1)).to_have_text("Mijn werkgebied")
    expect(desktop_page.get_by_role("cell", name="Afdeling Utrecht")).to_be_visible()

    desktop_page.get_by_role("button", name="Uitloggen").click()
    _sign_in(desktop_page, live_server, chair.member_number, chair.password, code)
    expect(desktop_page).to_have_url(f"{live_server}/sign-in/code")
    expect(desktop_page.get_by_role("alert")).to_contain_text("al gebruikt")


@pytest.mark.browser
def test_member_sees_and_ends_another_session_on_a_phone_without_sideways_scrolling(
    app, phone_page, account_factory, browser_sign_in
) -> None:  # type: ignore[no-untyped-def]
    _, member = account_factory()
    other_device = app.test_client()
    other_device.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro Build/UQ1A.240205.004) "
        "AppleWebKit/537.36 (KHTML, like Gecko)"
    )
    sign_in(other_device, member)

    page = phone_page
    browser_sign_in(page, member, "/security")
    sessions = page.locator("section[aria-labelledby=sessions] tbody tr")
    expect(sessions).to_have_count(2)

    # Each session is a card on a phone: every cell, "last active" included, lies inside the screen.
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for cell in page.locator("section[aria-labelledby=sessions] td").all():
        box = cell.bounding_box()
        assert box is not None
        assert 0 <= box["x"] <= box["x"] + box["width"] <= width, cell.inner_text()
    labels = sessions.first.locator("td").evaluate_all(
        "cells => cells.map(cell => getComputedStyle(cell, '::before').content)"
    )
    assert labels == ['"Apparaat: "', '"Ingelogd: "', '"Laatst actief: "', "none"]

    sessions.filter(has_text="Pixel 8 Pro").get_by_role("button", name="Beëindigen").click()
    expect(sessions).to_have_count(1)
    expect(sessions.first).to_contain_text("Dit apparaat")
    assert other_device.get("/security").status_code == 302  # the ended session is signed out
