"""The terms in the officer's own language: a version is written in the party's language (the binding
text) and may carry translations; an officer reads the one for the portal's language, is told that the
original is binding, and the acceptance records which text they read (security plan D5, "who accepted
what"). Without a translation the original is shown, marked with its own language (WCAG 3.1.2)."""

from __future__ import annotations

import re

from sqlalchemy import select

from audit.models import AuditEntry
from portal.auth.models import TermsAcceptance, TermsTranslation, TermsVersion
from portal.auth.roles import Role
from portal.auth.testing import post_form, sign_in

ORIGINAL = "# Gedragsregels\n\nGebruik de gegevens alleen voor uw taak."
ENGLISH = "# Code of conduct\n\nUse the data only for your task.\n\n<script>alert(1)</script>"


def _publish(admin, **extra: str):  # type: ignore[no-untyped-def]
    fields = {
        "version": "2027-1",
        "title": "Gedragsregels",
        "body_markdown": ORIGINAL,
        "requires_reacceptance": "y",
        **extra,
    }
    return post_form(admin, "/admin/terms", fields)


def _officer(account_factory, app, org_tree, language: str):  # type: ignore[no-untyped-def]
    _, credentials = account_factory(
        roles=[(Role.BRANCH_BOARD, org_tree.branch.id)], terms_accepted=False, family_name="Vertaald"
    )
    client = app.test_client()
    client.set_cookie("lang", language)
    sign_in(client, credentials)
    return client, credentials


def test_an_officer_reads_the_translation_with_the_binding_original_beside_it_and_the_acceptance_says_which(
    app, database, signed_in_client, account_factory, org_tree
) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    form = admin.get("/admin/terms").get_data(as_text=True)
    assert 'name="title_en"' in form
    assert 'name="body_markdown_en"' in form
    assert 'name="title_nl"' not in form  # Dutch is the original's language, not a translation
    published = _publish(admin, title_en="Code of conduct", body_markdown_en=ENGLISH)
    assert published.status_code == 302

    client, _credentials = _officer(account_factory, app, org_tree, "en")
    page = client.get("/terms").get_data(as_text=True)
    assert re.search(r'<article class="lp-terms" aria-label="Code of conduct" lang="en">', page)
    assert "Use the data only for your task." in page
    assert "This is a translation. The Dutch text is binding." in page
    assert re.search(r'<details class="lp-details lp-terms-original" id="terms-original">', page)
    assert 'lang="nl">' in page
    assert "Gebruik de gegevens alleen voor uw taak." in page
    assert "<script>alert(1)</script>" not in page  # a translation is Markdown with raw HTML refused too
    assert "&lt;script&gt;" in page

    version_id = re.search(r'name="version_id"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="version_id"', page
    )
    assert version_id is not None
    accepted = post_form(client, "/terms", {"accept": "y", "version_id": version_id.group(1)})
    assert accepted.status_code == 302
    with database.session() as session:
        acceptance = session.scalars(
            select(TermsAcceptance)
            .join(TermsVersion)
            .where(TermsVersion.version == "2027-1")
            .order_by(TermsAcceptance.id.desc())
        ).first()
        assert acceptance is not None
        assert acceptance.language == "en"
        entry = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "auth.terms_accepted")
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert entry is not None
        assert entry.changes["language"] == [None, "en"]
        published_entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.terms_published")
        ).first()
        assert published_entry is not None
        assert published_entry.changes["translations"] == [None, ["en"]]
        assert published_entry.changes["language"] == [None, "nl"]
    admin.set_cookie("lang", "en")
    listing = admin.get("/admin/terms").get_data(as_text=True)
    accepted = re.search(r"<td[^>]*>1\s*\(English 1\)</td>", listing)
    assert accepted, "the admin sees who accepted, in which language"


def test_a_dutch_officer_reads_the_original_without_a_translation_note(
    app, signed_in_client, account_factory, org_tree
) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    assert _publish(admin, title_en="Code of conduct", body_markdown_en=ENGLISH).status_code == 302
    client, _ = _officer(account_factory, app, org_tree, "nl")
    page = client.get("/terms").get_data(as_text=True)
    assert re.search(r'<article class="lp-terms" aria-label="Gedragsregels" lang="nl">', page)
    assert "Use the data only" not in page
    assert "terms-original" not in page
    assert "vertaling" not in page.lower()


def test_without_a_translation_the_english_page_shows_the_original_marked_as_dutch(
    app, database, signed_in_client, account_factory, org_tree
) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    assert _publish(admin).status_code == 302
    client, _ = _officer(account_factory, app, org_tree, "en")
    page = client.get("/terms").get_data(as_text=True)
    assert "These terms are published in Dutch only." in page
    assert re.search(r'<article class="lp-terms" aria-label="Gedragsregels" lang="nl">', page)
    assert '<html lang="en">' in page
    assert post_form(client, "/terms", {"accept": "y", "version_id": _version_id(page)}).status_code == 302
    assert _newest_acceptance_language(database) == "nl"  # the Dutch text is what they read


def test_the_acceptance_records_the_text_the_page_showed_not_the_language_at_submit(
    app, database, signed_in_client, account_factory, org_tree
) -> None:
    client, page = _english_reader_of_a_translation(app, signed_in_client, account_factory, org_tree)
    assert re.search(r'name="language"[^>]*value="en"|value="en"[^>]*name="language"', page)
    client.set_cookie("lang", "nl")  # switched language in another tab before pressing Accept
    fields = {"accept": "y", "version_id": _version_id(page), "language": "en"}
    assert post_form(client, "/terms", fields).status_code == 302
    assert _newest_acceptance_language(database) == "en"


def test_a_forged_language_is_recorded_as_the_text_that_exists(
    app, database, signed_in_client, account_factory, org_tree
) -> None:
    client, page = _english_reader_of_a_translation(app, signed_in_client, account_factory, org_tree)
    fields = {"accept": "y", "version_id": _version_id(page), "language": "xx<script>" + "x" * 500}
    assert post_form(client, "/terms", fields).status_code == 302
    assert _newest_acceptance_language(database) == "nl"  # no such text: the original is what exists


def _english_reader_of_a_translation(app, signed_in_client, account_factory, org_tree):  # type: ignore[no-untyped-def]
    """Terms published with an English translation, and an officer reading them in English: the
    officer's client and the terms page."""
    admin, _ = signed_in_client(Role.ADMIN, None)
    assert _publish(admin, title_en="Code of conduct", body_markdown_en=ENGLISH).status_code == 302
    client, _ = _officer(account_factory, app, org_tree, "en")
    return client, client.get("/terms").get_data(as_text=True)


def _version_id(page: str) -> str:
    found = re.search(r'name="version_id"[^>]*value="(\d+)"', page) or re.search(
        r'value="(\d+)"[^>]*name="version_id"', page
    )
    assert found is not None
    return found.group(1)


def _newest_acceptance_language(database) -> str:  # type: ignore[no-untyped-def]
    with database.session() as session:
        language = session.scalars(
            select(TermsAcceptance.language).order_by(TermsAcceptance.id.desc()).limit(1)
        ).first()
    assert language is not None
    return language


def test_a_half_translation_or_an_overlong_one_publishes_nothing(app, database, signed_in_client) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    admin.set_cookie("lang", "en")
    with database.session() as session:
        before = session.scalars(select(TermsVersion.version)).all()
    for extra, message in (
        ({"title_en": "Code of conduct"}, "A translation needs its text too."),
        ({"body_markdown_en": ENGLISH}, "A translation needs a title too."),
        ({"title_en": "x" * 201, "body_markdown_en": ENGLISH}, 'id="title_en-error"'),
    ):
        answer = _publish(admin, **extra)
        assert answer.status_code == 200, extra
        assert message in answer.get_data(as_text=True), extra
    smuggled = _publish(admin, title_nl="Dubbel", body_markdown_nl="Niet de bedoeling")
    assert smuggled.status_code == 302  # a field the form does not have is ignored, not stored
    with database.session() as session:
        versions = session.scalars(select(TermsVersion.version)).all()
        assert sorted(versions) == sorted([*before, "2027-1"])
        assert session.scalars(select(TermsTranslation)).all() == []


def test_the_admin_list_names_each_versions_languages(app, signed_in_client) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    admin.set_cookie("lang", "en")
    assert _publish(admin, title_en="Code of conduct", body_markdown_en=ENGLISH).status_code == 302
    page = admin.get("/admin/terms").get_data(as_text=True)  # open without accepting: terms_gate=False
    assert "Dutch, English (translation)" in page
    assert "Text in Dutch (binding)" in page
    assert "Translation in English" in page
