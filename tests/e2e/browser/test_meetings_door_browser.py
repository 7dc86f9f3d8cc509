"""The door on a phone (390×844) in a real browser: a steward checks members in, the chair's count moves.

Debian's chromium through Playwright; the app is served by a real HTTP server in a thread (the shared
`live_server` and `chromium` fixtures). Screenshots go to the test's tmp folder; `PORTAL_SCREENSHOTS=<folder>`
keeps a copy.
"""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.auth.roles import Role
from portal.core.clock import utcnow
from portal.meetings import services
from portal.meetings.testing import CHAIR, accept_terms, make_frozen_meeting
from portal.members.models import MembershipStatus

PHONE = {"width": 390, "height": 844}


def _phone(browser: Browser) -> Page:
    context = browser.new_context(
        locale="nl-NL",
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Amsterdam",
    )
    page = context.new_page()
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(str(error)))  # type: ignore[attr-defined]
    # Door answers use HTTP statuses (409 already present, 404 unknown); chromium logs those as
    # "Failed to load resource". Anything else (a CSP violation, a script error) is a problem.
    page.on(  # type: ignore[attr-defined]
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and page.problems.append(message.text)
        ),
    )
    return page


def _shot(page: Page, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
    keep = os.environ.get("PORTAL_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / f"{name}.png", Path(keep) / f"{name}.png")


@pytest.mark.browser
def test_steward_checks_in_on_a_phone_and_the_chairs_count_moves(  # type: ignore[no-untyped-def]
    app,
    live_server,
    chromium,
    db_session,
    org_tree,
    member_factory,
    account_factory,
    tmp_path,
    browser_sign_in,
) -> None:
    voter = member_factory(given_name="Anna", infix="de", family_name="Vries")
    lapsed = member_factory(
        given_name="Bram",
        family_name="Bakker",
        status=MembershipStatus.LAPSED,
        member_until=utcnow().date() - timedelta(days=30),
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=org_tree.branch.id, title="ALV Utrecht")
    steward_account, steward = account_factory(given_name="Sam", family_name="Steward")
    services.assign_steward(db_session, meeting=meeting, member_number=steward.member_number, actor=CHAIR)
    db_session.commit()
    accept_terms(db_session, steward_account.id)
    _, chair = account_factory(
        roles=[(Role.BRANCH_BOARD, org_tree.branch.id)], given_name="Chris", family_name="Voorzitter"
    )
    shots = tmp_path / "screenshots"

    chair_page = _phone(chromium)
    browser_sign_in(chair_page, chair, f"/meetings/{meeting.id}/dashboard")
    present = chair_page.locator("[data-field='present']")
    expect(present).to_have_text("0")

    door = _phone(chromium)
    browser_sign_in(door, steward, f"/meetings/{meeting.id}/door")
    _shot(door, shots, "door-empty")
    number = door.get_by_label("Lidnummer", exact=True)
    answer = door.locator("#door-answer")

    number.fill(voter.member_number)
    door.get_by_role("button", name="Inchecken", exact=True).click()
    expect(answer).to_contain_text("Stemrecht — geef een stemkaart uit")
    expect(answer.locator(".lp-door-answer--vote")).to_contain_text("Anna de Vries")
    expect(number).to_be_focused()
    _shot(door, shots, "door-green")

    number.fill(voter.member_number)
    door.get_by_role("button", name="Inchecken", exact=True).click()
    expect(answer).to_contain_text("Al ingecheckt door Sam Steward")
    _shot(door, shots, "door-already")

    # The answer's own forms (sent as a fragment without a CSRF token) work: the script adds the page's.
    answer.get_by_role("button", name="Uitchecken (vertrekt)").click()
    expect(answer).to_contain_text("Uitgecheckt om")
    number.fill(voter.member_number)
    door.get_by_role("button", name="Inchecken", exact=True).click()  # re-entry: a new presence
    expect(answer).to_contain_text("Stemrecht — geef een stemkaart uit")
    answer.get_by_label("Nummer stemkaart").fill("17")
    with door.expect_response(lambda response: response.url.endswith("/door/card")) as recorded:
        answer.get_by_role("button", name="Kaart vastleggen").click()
    assert recorded.value.status == 201
    number.fill(voter.member_number)
    door.get_by_role("button", name="Inchecken", exact=True).click()
    expect(answer).to_contain_text("Stemkaart 17.")  # the card was recorded

    number.fill(lapsed.member_number)
    door.get_by_role("button", name="Inchecken", exact=True).click()
    expect(answer.locator(".lp-door-answer--no_vote")).to_contain_text("Aanwezig zonder stemrecht")
    expect(answer).to_contain_text("lidmaatschap verlopen")
    _shot(door, shots, "door-orange")

    number.fill("999999999")
    door.get_by_role("button", name="Inchecken", exact=True).click()
    expect(answer.locator(".lp-door-answer--refused")).to_contain_text("Onbekend — geen lid")
    _shot(door, shots, "door-red")

    expect(present).to_have_text("2", timeout=15_000)  # polled, no reload
    expect(chair_page.locator("[data-field='present_voters']")).to_have_text("1")
    _shot(chair_page, shots, "dashboard")
    assert door.problems == []
    assert chair_page.problems == []
    # The answers are told in words and shapes, not colour alone.
    for name in ("door-green", "door-orange", "door-red", "door-already", "dashboard"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
