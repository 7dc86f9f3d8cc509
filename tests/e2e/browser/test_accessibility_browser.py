"""WCAG 2.1 AA and phone width on every page a role opens, in a real browser on the demo's data.

The portal is set up as `make demo` sets it up (a full pull from the running CRM simulator, the demo
accounts, the demo meeting), served over real HTTP. Each demo person signs in through the real sign-in
pages in Debian's chromium and opens the pages of their role at 390 px (a steward's phone), 768 px
and 1280 px. On each page, axe-core (inside the `axe-playwright-python` wheel; no download) checks the
WCAG 2.0/2.1 A and AA rules, and the page must not scroll sideways. Every finding is collected
first, so one run lists all of them.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_everything
from portal.auth.testing import TestCredentials
from portal.meetings.models import Meeting, VoterRollEntry
from portal.meetings.testing import accept_terms
from portal.members.models import Member, OrgUnit, OrgUnitKind

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def settings(settings, crm):  # type: ignore[no-untyped-def]
    """The portal of these journeys talks to the running CRM simulator."""
    return settings.replace(crm_url=crm.url, crm_api_key=crm.api_key)


@pytest.fixture
def demo(app, settings):  # type: ignore[no-untyped-def]
    """The demo's data: a full pull, then the demo hooks (accounts, then the meeting); the people by role."""
    state = app.extensions["portal"]
    port = make_crm_port(settings)
    try:
        pull_everything(state.database, port, max_removed_share=0.02, events=state.events)
    finally:
        port.close()
    for hook in app.extensions["demo_setup"]:
        hook(app)
    people = {
        person["role"]: person
        for person in json.loads((settings.instance_path / "demo_accounts.json").read_text())
    }
    with state.database.transaction() as session:
        for person in people.values():
            accept_terms(session, person["account_id"])
    return people


class Findings:
    """axe violations and sideways scrolling, per page and width, reported together at the end."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.problems: list[str] = []
        self.checked: list[str] = []
        self.tables = 0

    def check(self, page: Page, label: str) -> None:
        for name, size in (("phone", PHONE), ("tablet", TABLET), ("desktop", DESKTOP)):
            page.set_viewport_size(size)
            page.wait_for_load_state("networkidle")
            where = f"{label} [{name}] {page.url}"
            self.checked.append(where)
            result = self.axe.run(
                page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
            )
            for violation in result.response["violations"]:
                targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:4])
                self.problems.append(f"{where}: {violation['id']} ({violation['impact']}) at {targets}")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > size["width"]:
                self.problems.append(f"{where}: {scroll} px wide, the page scrolls sideways")
            if name == "phone":  # on a phone each table row is a card: nothing scrolls inside its wrapper
                wide = page.evaluate(
                    "[...document.querySelectorAll('.lp-table-wrap')]"
                    ".filter(wrap => wrap.scrollWidth > wrap.clientWidth + 1).length"
                )
                if wide:
                    self.problems.append(f"{where}: {wide} table(s) scroll sideways inside their wrapper")
                bare = page.evaluate(  # a label with nothing after it ("Fout:") says nothing
                    "[...document.querySelectorAll('.lp-table--cards td[data-label]:empty')]"
                    ".filter(cell => getComputedStyle(cell).display !== 'none').length"
                )
                if bare:
                    self.problems.append(f"{where}: {bare} empty labelled cell(s) shown on a phone")
            self.tables += page.locator("table").count()


def _signed_in(browser: Browser, sign_in, person: dict[str, Any], target: str) -> Page:  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=PHONE, locale="nl-NL", has_touch=True).new_page()
    sign_in(page, TestCredentials.of_demo_person(person), target)
    return page


def _search(findings: Findings, page: Page, base: str, label: str, path: str, field: str, words: str) -> None:
    """Open `path`, search for `words` through its form (both searches are POSTs) and check the results."""
    page.set_viewport_size(PHONE)
    page.goto(base + path)
    page.locator(f"input[name={field}]").fill(words)
    page.locator(f"input[name={field}]").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Resultaten"))).to_be_visible()
    findings.check(page, f"{label} search {words!r}")


def _visit(findings: Findings, page: Page, base: str, label: str, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response is not None
        assert response.status == 200, f"{label} {path}: {response.status}"
        findings.check(page, label)


@pytest.mark.browser
@pytest.mark.slow
def test_every_role_s_pages_meet_wcag_aa_and_fit_a_phone(
    live_server, chromium, demo, database, browser_sign_in
) -> None:  # type: ignore[no-untyped-def]
    findings = Findings()
    with database.session() as session:
        meeting = session.scalars(select(Meeting)).one()
        chair_member = session.scalars(
            select(Member).where(Member.member_number == demo["branch_chair"]["member_number"])
        ).one()
        voter = session.scalar(
            select(VoterRollEntry.member_number)
            .where(VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.may_vote.is_(True))
            .limit(1)
        )
        body = session.scalar(select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.BRANCH).limit(1))
    door, dashboard = f"/meetings/{meeting.id}/door", f"/meetings/{meeting.id}/dashboard"

    anonymous = chromium.new_context(viewport=PHONE, locale="nl-NL").new_page()
    _visit(
        findings, anonymous, live_server, "anonymous", ["/sign-in", "/forgot-password", "/sign-in/email-code"]
    )
    anonymous.context.close()

    member = _signed_in(chromium, browser_sign_in, demo["member"], "/my-page")
    _visit(
        findings,
        member,
        live_server,
        "member",
        ["/my-page", "/my-page/edit", "/my-page/card", "/whos-who", f"/whos-who/bodies/{body}",
         f"/whos-who/people/{chair_member.id}", "/security", "/security/password", "/terms"],
    )  # fmt: skip
    _search(findings, member, live_server, "member", "/whos-who", "q", chair_member.family_name)
    member.context.close()

    steward = _signed_in(chromium, browser_sign_in, demo["steward"], "/meetings")
    _visit(findings, steward, live_server, "steward", ["/meetings", door])
    answers = ((voter, "green", "Stemrecht"), (voter, "already", "Al ingecheckt"), ("123", "red", "Onbekend"))
    for number, box, words in answers:
        steward.set_viewport_size(PHONE)
        steward.locator("input[name=member_number]:visible").fill(number)
        steward.locator("input[name=member_number]:visible").press("Enter")
        expect(steward.locator("#door-answer-box")).to_contain_text(words)
        findings.check(steward, f"steward door answer {box}")
    steward.context.close()

    chair = _signed_in(chromium, browser_sign_in, demo["branch_chair"], "/meetings")
    _visit(
        findings,
        chair,
        live_server,
        "branch_chair",
        ["/meetings", f"/meetings/{meeting.id}", dashboard, f"/meetings/{meeting.id}/edit", "/meetings/new",
         "/members", f"/members/{chair_member.id}", "/rights", "/rights/area"],
    )  # fmt: skip
    _search(
        findings, chair, live_server, "branch_chair", "/members", "name", chair_member.family_name
    )  # in scope
    chair.context.close()

    admin = _signed_in(chromium, browser_sign_in, demo["admin"], "/admin/log/")
    _visit(
        findings,
        admin,
        live_server,
        "admin",
        [
            "/admin/log/",
            f"/admin/log/?member={chair_member.member_number}",
            f"/admin/log/?actor={chair_member.member_number}",
            "/admin/sync/",
            "/admin/accounts",
            "/admin/grants",
            "/admin/terms",
            "/admin/terms/overview",
        ],
    )
    admin.context.close()

    assert len(findings.checked) >= 90
    assert findings.tables >= 25  # the tables were there to be checked, not empty lists
    assert not findings.problems, "\n".join(findings.problems)
