"""The main menu in a real browser: folded behind "Menu" on a phone, shown as it is on a wide screen.

Debian's chromium through Playwright against the app served over real HTTP (fixtures in tests/conftest.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_on_a_phone_the_menu_folds_behind_a_button(live_server, phone_page) -> None:  # type: ignore[no-untyped-def]
    page = phone_page
    page.goto(f"{live_server}/")
    toggle = page.get_by_role("button", name="Menu")
    sign_in = page.locator(".lp-nav").get_by_role("link", name="Inloggen")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sign_in).to_be_hidden()
    expect(page.get_by_label("Taal")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sign_in).to_be_visible()
    expect(page.get_by_label("Taal")).to_be_visible()
    page.get_by_label("Taal").focus()
    page.keyboard.press("Escape")  # folds it again and gives focus back to the button
    expect(sign_in).to_be_hidden()
    expect(toggle).to_be_focused()


@pytest.mark.browser
def test_on_a_wide_screen_the_menu_is_simply_shown(live_server, desktop_page) -> None:  # type: ignore[no-untyped-def]
    page = desktop_page
    page.goto(f"{live_server}/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.locator(".lp-nav").get_by_role("link", name="Inloggen")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})  # narrowed: folds; widened again: shown
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.locator(".lp-nav").get_by_role("link", name="Inloggen")).to_be_visible()
