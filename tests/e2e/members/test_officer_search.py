"""The officers' member search over HTTP: read log, URL tampering, exports, fresh sign-in, editing."""

import io
import zipfile
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from audit.models import AuditEntry, ReadAccess
from portal.auth.roles import Role
from portal.auth.testing import csrf_from
from portal.core.clock import utcnow
from portal.members.models import Member, MembershipStatus


@pytest.fixture
def people(org_tree, member_factory):
    return {
        "formula": member_factory(
            given_name='=HYPERLINK("http://evil","x")',
            family_name="Formule",
            street="+cmd|' /C calc'!A0",
            city="@SUM(1)",
        ),
        "grace": member_factory(family_name="Respijt", status=MembershipStatus.GRACE),
        "far": member_factory(family_name="Verweg", branch_id=org_tree.far_branch.id),
    }


def _token(client) -> str:
    return csrf_from(client.get("/members").get_data(as_text=True))


def test_detail_views_are_logged_and_tampered_urls_refused(
    signed_in_client, org_tree, people, database, caplog
):
    client, credentials = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    assert client.get(f"/members/{people['grace'].id}").status_code == 200
    assert client.get(f"/members/{people['far'].id}").status_code == 404
    assert client.get("/members/999999").status_code == 404
    assert "member outside scope requested" in caplog.text
    with database.session() as session:
        reads = session.scalars(
            select(ReadAccess).where(ReadAccess.subject_member_id == people["grace"].id)
        ).all()
    assert [read.purpose for read in reads] == ["member detail (officer)"]
    assert reads[0].actor_id == credentials.account_id


def test_search_filters_status_and_scope(signed_in_client, org_tree, people) -> None:
    client, _ = signed_in_client(Role.REGIONAL_OFFICER, org_tree.region.id)
    response = client.post(
        "/members/search",
        data={"csrf_token": _token(client), "statuses": ["grace", "lapsed"]},
        headers={"Accept": "application/json"},
    )
    assert [row["family_name"] for row in response.get_json()["members"]] == ["Respijt"]
    typo = client.post(
        "/members/search",
        data={"csrf_token": _token(client), "name": "Respyt"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert [row["family_name"] for row in typo["similar"]] == ["Respijt"]


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "x"},
        {"postcode_from": "12"},
        {"statuses": ["emperor"]},
        {"age_min": "old"},
        {"page": "-1"},
        {"member_since_from": "yesterday"},
        {"name": "y" * 101},
    ],
)
def test_bad_filters_are_refused(signed_in_client, org_tree, people, fields) -> None:
    client, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    response = client.post(
        "/members/search",
        data={"csrf_token": _token(client), **fields},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 422


def test_filters_on_hidden_fields_are_not_offered(signed_in_client, org_tree, people) -> None:
    client, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    page = client.get("/members").get_data(as_text=True)
    assert 'name="age_min"' not in page  # branch boards may not see birth dates, so cannot filter on them
    assert 'name="member_number"' not in page
    born_1931 = client.post(
        "/members/search",
        data={"csrf_token": _token(client), "age_min": "90"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert {row["family_name"] for row in born_1931["members"]} >= {"Formule", "Respijt"}


def test_exports_escape_formulas(signed_in_client, org_tree, people) -> None:
    client, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    token = _token(client)
    text = client.post(
        "/members/export", data={"csrf_token": token, "name": "Formule", "export_format": "csv"}
    )
    body = text.get_data(as_text=True)
    assert text.headers["Content-Disposition"].startswith("attachment")
    assert "\"'=HYPERLINK" in body
    assert "\"'+cmd" in body
    assert "\"'@SUM" in body
    workbook = client.post(
        "/members/export", data={"csrf_token": token, "name": "Formule", "export_format": "xlsx"}
    )
    with zipfile.ZipFile(io.BytesIO(workbook.get_data())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet
    assert "'=HYPERLINK" in strings


def test_export_needs_a_fresh_sign_in_and_is_logged(signed_in_client, org_tree, people, database) -> None:
    client, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    token = _token(client)
    with time_machine.travel(utcnow() + timedelta(minutes=11), tick=True):
        stale = client.post("/members/export", data={"csrf_token": token, "export_format": "csv"})
    assert stale.status_code == 302
    assert "confirm" in stale.headers["Location"]
    fresh = client.post("/members/export", data={"csrf_token": token, "export_format": "csv"})
    assert fresh.status_code == 200
    with database.session() as session:
        purposes = set(
            session.scalars(
                select(ReadAccess.purpose).where(ReadAccess.subject_member_id == people["grace"].id)
            )
        )
    assert purposes == {"export csv"}
    assert client.post("/members/export", data={"export_format": "csv"}).status_code == 400


def test_who_may_edit_what(signed_in_client, org_tree, people, database) -> None:
    board, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    assert (
        board.post(
            f"/members/{people['grace'].id}", data={"csrf_token": _token(board), "email": "x@y.nl"}
        ).status_code
        == 403
    )
    admin, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    page = admin.get(f"/members/{people['far'].id}").get_data(as_text=True)
    assert 'name="email"' in page
    assert 'name="member_number"' not in page
    version = page.split('name="version"')[1].split('value="')[1].split('"')[0]
    response = admin.post(
        f"/members/{people['far'].id}",
        data={
            "csrf_token": csrf_from(page),
            "version": version,
            "email": "nieuw@example.nl",
            "given_name": "Piet",
            "family_name": "Verweg",
            "country": "NL",
            "status": "deceased",
            "member_number": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with database.session() as session:
        member = session.get(Member, people["far"].id)
        assert member.email == "nieuw@example.nl"
        assert member.status is MembershipStatus.CURRENT
        assert member.member_number != "1"
        assert (
            session.scalar(select(AuditEntry).where(AuditEntry.target_id == str(member.id))).action
            == "member.updated"
        )


@pytest.mark.parametrize("role", [None, Role.STEWARD, Role.ADMIN])
def test_not_for_members_stewards_or_admins(signed_in_client, org_tree, people, role) -> None:
    client, _ = (
        signed_in_client(role, org_tree.branch.id if role is Role.STEWARD else None)
        if role
        else signed_in_client()
    )
    for path in ["/members", f"/members/{people['grace'].id}"]:
        assert client.get(path).status_code == 403


def test_officer_without_accepted_terms_is_sent_to_the_terms(signed_in_client, org_tree) -> None:
    client, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id, terms_accepted=False)
    response = client.get("/members")
    assert response.status_code == 302
    assert "terms" in response.headers["Location"]


def test_stored_markup_is_shown_as_text_and_forms_need_csrf(
    signed_in_client, org_tree, member_factory
) -> None:
    hostile = member_factory(
        given_name="<script>alert(1)</script>", family_name="<img src=x onerror=alert(2)>"
    )
    client, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    page = client.get(f"/members/{hostile.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;" in page
    assert client.post(f"/members/{hostile.id}", data={"email": "x@example.nl"}).status_code == 400
    overlong = client.post(
        f"/members/{hostile.id}",
        data={"csrf_token": csrf_from(page), "email": "a" * 400 + "@example.nl", "street": "=1+1" * 100},
    )
    assert overlong.status_code == 200
    assert "lp-error-summary" in overlong.get_data(as_text=True)


def test_an_export_over_the_limit_says_so_on_the_search_page(
    signed_in_client, org_tree, people, database, monkeypatch
) -> None:
    monkeypatch.setattr("portal.members.views.officers.EXPORT_LIMIT", 2)
    client, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    token = _token(client)
    refused = client.post("/members/export", data={"csrf_token": token, "export_format": "csv"})
    assert refused.status_code == 422
    assert refused.mimetype == "text/html"
    page = refused.get_data(as_text=True)
    assert "Deze zoekopdracht vindt meer dan 2 leden" in page  # Dutch is the default language
    assert 'class="lp-error-summary"' in page
    as_json = client.post(
        "/members/export",
        data={"csrf_token": token, "export_format": "xlsx"},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 422
    assert as_json.get_json()["error"] == "export_too_large"
    english = client.post(
        "/members/export",
        data={"csrf_token": token, "export_format": "csv"},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert "This search finds more than 2 members" in english.get_data(as_text=True)
    with database.session() as session:
        exported = session.scalars(select(ReadAccess).where(ReadAccess.purpose.like("export%"))).all()
    assert exported == []  # nothing left the portal, so nothing is logged as read
    narrowed = client.post(
        "/members/export", data={"csrf_token": token, "name": "Formule", "export_format": "csv"}
    )
    assert narrowed.status_code == 200


def test_an_export_with_a_bad_postcode_range_says_what_is_wrong(
    signed_in_client, org_tree, people, database
) -> None:
    client, _ = signed_in_client(Role.NATIONAL_ADMINISTRATOR, org_tree.national.id)
    refused = client.post(
        "/members/export",
        data={"csrf_token": _token(client), "postcode_from": "12", "export_format": "csv"},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 422
    body = refused.get_json()
    assert (body["error"], body["fields"]) == ("validation_failed", {"postcode": "format"})  # not "too large"
    with database.session() as session:
        assert session.scalars(select(ReadAccess).where(ReadAccess.purpose.like("export%"))).all() == []
