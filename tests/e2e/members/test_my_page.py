"""My page: the own record, edits that reach the CRM, hostile input, the card and "download my data"."""

import csv
import io
import json
import re
from html import unescape

import pytest
from sqlalchemy import func, select

from audit.models import ReadAccess
from audit.services import record_read
from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_full
from portal.auth.testing import csrf_from, make_account, sign_in
from portal.core.actors import Actor
from portal.members.models import Member, MembershipStatus
from portal.members.personal_data import PersonalDataSection, registry
from portal.members.search_models import MemberSearchTerm

_INPUT = re.compile(r"<input([^>]*)>")
_ATTRIBUTE = re.compile(r'(\w[\w-]*)="([^"]*)"')


def form_values(html: str) -> dict[str, str]:
    """The name → value pairs of the text inputs of a page (what a browser would send back)."""
    values = {}
    for attributes in _INPUT.findall(html):
        found = dict(_ATTRIBUTE.findall(attributes))
        if "name" in found and found.get("type") not in {"checkbox", "submit"}:
            values[found["name"]] = unescape(found.get("value", ""))
    return values


def _edit_form(client) -> tuple[str, dict[str, str]]:
    html = client.get("/my-page/edit").get_data(as_text=True)
    values = form_values(html)
    token = values.pop("csrf_token")
    return token, {**values, "country": "NL"}


def test_own_record_as_json_and_html(signed_in_client) -> None:
    client, credentials = signed_in_client(family_name="Eigenaar", email="eigen@example.nl")
    body = client.get("/my-page?format=json").get_json()
    assert body["member"]["family_name"] == "Eigenaar"
    assert body["member"]["member_number"] == credentials.member_number
    page = client.get("/my-page").get_data(as_text=True)
    assert "eigen@example.nl" in page
    assert "Security" in page or "Beveiliging" in page or "/security" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mobile", "06-1234"),
        ("mobile", "<script>alert(1)</script>"),
        ("email", "geen-adres"),
        ("postcode", '=HYPERLINK("x")'),
        ("postcode", "1234"),
        ("house_number", "12a"),
        ("house_number", "9" * 50),
        ("street", "x" * 5000),
        ("house_number_suffix", "<b>"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(signed_in_client, database, field: str, value: str) -> None:
    client, credentials = signed_in_client()
    token, data = _edit_form(client)
    response = client.post("/my-page/edit", data={"csrf_token": token, **data, field: value})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "lp-error-summary" in page
    assert "<script>alert(1)</script>" not in page
    with database.session() as session:
        member = session.get(Member, credentials.member_id)
        assert member.version == int(data["version"])


def test_csrf_and_mass_assignment(signed_in_client, database) -> None:
    client, credentials = signed_in_client()
    token, data = _edit_form(client)
    assert client.post("/my-page/edit", data={**data, "mobile": "0612345670"}).status_code == 400
    response = client.post(
        "/my-page/edit",
        data={
            "csrf_token": token,
            **data,
            "member_number": "1",
            "status": "deceased",
            "branch_id": "999",
            "given_name": "Hacker",
            "role": "admin",
        },
    )
    assert response.status_code == 302
    with database.session() as session:
        member = session.get(Member, credentials.member_id)
        assert member.member_number == credentials.member_number
        assert member.status is MembershipStatus.CURRENT
        assert member.given_name != "Hacker"


def test_card_only_while_membership_is_current(signed_in_client) -> None:
    client, _ = signed_in_client()
    page = client.get("/my-page/card").get_data(as_text=True)
    assert "<svg" in page
    lapsed_client, _ = signed_in_client(status=MembershipStatus.LAPSED)
    response = lapsed_client.get("/my-page/card")
    assert response.status_code == 404
    assert "<svg" not in response.get_data(as_text=True)


def test_download_my_data_is_complete_and_logged(app, signed_in_client, database) -> None:
    registry(app.extensions).register(
        "attendance",
        lambda session, member_id: PersonalDataSection("attendance", "Attendance", [{"meeting": "ALV"}]),
    )
    client, credentials = signed_in_client(interests=["Klimaat"])
    token = csrf_from(client.get("/my-page").get_data(as_text=True))
    response = client.post("/my-page/data", data={"csrf_token": token, "format": "json"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["member"]["member_number"] == credentials.member_number
    assert data["attendance"] == [{"meeting": "ALV"}]
    assert "#klimaat" in data["search_index_terms"]
    assert data["read_accesses"][0]["purpose"].startswith("own data export")
    csv_response = client.post("/my-page/data", data={"csrf_token": token, "format": "csv"})
    rows = list(csv.reader(io.StringIO(csv_response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["section", "item", "field", "value"]
    assert ["member", "", "member_number", credentials.member_number] in rows
    with database.session() as session:
        logged = session.scalar(
            select(func.count())
            .select_from(ReadAccess)
            .where(ReadAccess.subject_member_id == credentials.member_id)
        )
    assert logged == 2
    assert client.post("/my-page/data", data={"csrf_token": token, "format": "exe"}).status_code == 422
    assert client.post("/my-page/data", data={"format": "json"}).status_code == 400


@pytest.fixture
def settings(settings, crm):
    """This module's portal talks to the running CRM simulator."""
    return settings.replace(crm_url=crm.url, crm_api_key=crm.api_key)


def test_phone_change_reaches_the_crm(app, crm, database, settings) -> None:
    port = make_crm_port(settings)
    try:
        pull_full(database, port, max_removed_share=0.02, events=app.extensions["portal"].events)
    finally:
        port.close()
    with database.session(write=True) as session:
        member = session.scalar(
            select(Member)
            .where(Member.status == MembershipStatus.CURRENT, Member.branch_id.is_not(None))
            .limit(1)
        )
        assert (
            session.scalar(select(func.count()).select_from(MemberSearchTerm)) > 0
        )  # the pull event reindexed
        _account, credentials = make_account(session, member, keys=app.extensions["auth_keys"])
    client = app.test_client()
    client.set_cookie("lang", "en")
    sign_in(client, credentials)
    token, data = _edit_form(client)
    crm.clear_requests()
    response = client.post("/my-page/edit", data={"csrf_token": token, **data, "mobile": "06 4321 8765"})
    assert response.status_code == 302
    page = client.get("/my-page").get_data(as_text=True)
    assert "Sent to the membership administration" in page
    assert "+31 6 43218765" in page
    writes = crm.requests()
    assert any("+31643218765" in json.dumps(entry) for entry in writes)


def test_download_my_data_withholds_officer_names(signed_in_client, database) -> None:
    """C-579/21: the member learns when and why an officer looked, not who; own actions stay named."""
    client, credentials = signed_in_client()
    with database.session(write=True) as session:
        record_read(
            session,
            actor=Actor.account(987654, "Officer Pietje Puk"),
            subject_member_id=credentials.member_id,
            purpose="member detail",
        )
        record_read(
            session, actor=Actor.system("crm-pull"), subject_member_id=credentials.member_id, purpose="sync"
        )
        session.commit()
    token = csrf_from(client.get("/my-page").get_data(as_text=True))
    response = client.post("/my-page/data", data={"csrf_token": token, "format": "json"})
    body = response.get_data(as_text=True)
    assert "Pietje Puk" not in body
    accesses = {row["purpose"]: row["who"] for row in json.loads(body)["read_accesses"]}
    assert accesses["member detail"] == "officer (name withheld)"
    assert accesses["sync"] == "crm-pull"
    own = next(who for purpose, who in accesses.items() if purpose.startswith("own data export"))
    assert own != "officer (name withheld)"
