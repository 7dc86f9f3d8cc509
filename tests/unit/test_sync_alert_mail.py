"""The mass-removal alert reads in the portal's default language, whole: no second language tacked on."""

from __future__ import annotations

from portal.auth.sync_alerts import pull_aborted_mail
from portal.core.events import PullAborted

EVENT = PullAborted(
    sync_run_id=41, adapter="civicrm", reason="3,100 of 5,000 members would be removed (62 %)"
)


def test_the_dutch_portal_alerts_in_dutch_only() -> None:
    mail = pull_aborted_mail(EVENT, ["beheer@example.nl"], locale="nl")
    assert mail.subject == "Ledenportaal: CRM-synchronisatie gestopt (massaal verwijderen)"
    assert mail.text.startswith("De civicrm-synchronisatie (run 41) is gestopt door de bewaking op massaal")
    assert "3,100 of 5,000 members would be removed (62 %)" in mail.text  # the guard's words, quoted
    assert "Er is niets gewijzigd." in mail.text
    assert "Nothing was changed" not in mail.text
    assert mail.to == ("beheer@example.nl",)


def test_a_portal_in_another_language_alerts_in_english_not_dutch() -> None:
    for locale in ("en", "nb"):  # nb has no catalog yet: English, the source language
        mail = pull_aborted_mail(EVENT, ["admin@example.org"], locale=locale)
        assert mail.subject == "Member portal: CRM synchronisation stopped (mass removal)"
        assert mail.text.startswith(
            "The civicrm pull (run 41) was stopped by the guard against mass removal: 3,100"
        )
        assert "Nothing was changed." in mail.text
        assert "gewijzigd" not in mail.text
