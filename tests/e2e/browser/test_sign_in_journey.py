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
from portal.auth.testing import ensure_terms


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
