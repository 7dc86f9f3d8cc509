"""The field-policy matrix for every page and export of issue 5 (security plan D1, D2, D3, D9).

Every role × (own, same branch, other branch in the region, other region) × every field: a field the
policy hides must be absent from the HTML, the JSON and the CSV export — not just hidden.
"""

from datetime import date

import pytest

from portal.auth.roles import Role
from portal.auth.testing import csrf_from
from portal.members.models import PositionFunction
from portal.members.testing import make_position
from portal.members.visibility import Relation, visible_fields

SEARCH_ROLES = {Role.BRANCH_BOARD, Role.REGIONAL_OFFICER, Role.NATIONAL_ADMINISTRATOR}
VIEWERS = [
    None,
    Role.BRANCH_BOARD,
    Role.REGIONAL_OFFICER,
    Role.NATIONAL_ADMINISTRATOR,
    Role.STEWARD,
    Role.ADMIN,
]
REACH = {
    Role.BRANCH_BOARD: {"own", "same"},
    Role.REGIONAL_OFFICER: {"own", "same", "sibling"},
    Role.NATIONAL_ADMINISTRATOR: {"own", "same", "sibling", "far"},
}


def _markers(tag: str, number: int) -> dict[str, object]:
    """Distinct values per field, so each one can be looked for in any response."""
    return {
        "given_name": f"Voor{tag}",
        "family_name": f"Achter{tag}",
        "email": f"{tag}-mail@example.nl",
        "mobile": f"+316{number:02d}4455667",
        "phone": f"+3120{number:02d}98765",
        "street": f"{tag}straat",
        "postcode": f"97{number:02d} QX",
        "city": f"{tag}stad",
        "birth_date": date(1931, 7, 10 + number),
        "member_since": date(1987, 3, 10 + number),
        "dues_paid_through": date(2029, 2, 10 + number),
        "interests": [f"Interesse{tag}"],
        "competences": [f"Kunde{tag}"],
        "member_number": f"8800{number:02d}77",
    }


def _as_text(value: object) -> str:
    return (
        value.isoformat() if isinstance(value, date) else value[0] if isinstance(value, list) else str(value)
    )


@pytest.fixture
def targets(org_tree, member_factory, db_session):
    branches = {"same": org_tree.branch, "sibling": org_tree.sibling, "far": org_tree.far_branch}
    made = {}
    for number, (tag, unit) in enumerate(branches.items(), start=1):
        values = _markers(tag.title(), number)
        member = member_factory(branch_id=unit.id, **values)
        make_position(db_session, member, unit, PositionFunction.BOARD_MEMBER)
        made[tag] = (member, values)
    db_session.commit()
    return made


def _viewer(signed_in_client, org_tree, role):
    unit = {
        Role.BRANCH_BOARD: org_tree.branch.id,
        Role.REGIONAL_OFFICER: org_tree.region.id,
        Role.NATIONAL_ADMINISTRATOR: org_tree.national.id,
        Role.STEWARD: org_tree.branch.id,
    }.get(role)
    own_values = _markers("Own", 9)
    client, credentials = (
        signed_in_client(role, unit, **own_values) if role else signed_in_client(**own_values)
    )
    client.set_cookie("lang", "en")
    return client, credentials, own_values


def _check_absent(text: str, values: dict[str, object], allowed: frozenset[str], where: str) -> None:
    for field, value in values.items():
        if field not in allowed and field not in {"given_name", "family_name"}:
            assert _as_text(value) not in text, f"{field} leaked in {where}"


@pytest.mark.parametrize("role", VIEWERS, ids=lambda role: role.value if role else "member")
def test_member_pages_and_exports_show_only_allowed_fields(
    signed_in_client, org_tree, targets, role, caplog
) -> None:
    client, credentials, own_values = _viewer(signed_in_client, org_tree, role)
    people = {tag: (member.id, values) for tag, (member, values) in targets.items()}
    people["own"] = (credentials.member_id, own_values)
    for tag, (member_id, values) in people.items():
        json_response = client.get(f"/members/{member_id}?format=json")
        html_response = client.get(f"/members/{member_id}")
        if role not in SEARCH_ROLES:
            assert json_response.status_code == 403, (tag, json_response.status_code)
            assert html_response.status_code == 403
            continue
        if tag not in REACH[role]:
            assert json_response.status_code == 404, tag
            assert html_response.status_code == 404
            _check_absent(html_response.get_data(as_text=True), values, frozenset(), f"404 page of {tag}")
            continue
        allowed = visible_fields(frozenset({role}), Relation.IN_SCOPE)
        record = json_response.get_json()["member"]
        assert set(record) == allowed | {"id"}, (role, tag)
        _check_absent(json_response.get_data(as_text=True), values, allowed, f"JSON of {tag}")
        _check_absent(html_response.get_data(as_text=True), values, allowed, f"HTML of {tag}")
    if role in SEARCH_ROLES:
        assert "member outside scope requested" in caplog.text or role is Role.NATIONAL_ADMINISTRATOR
        _check_search_and_export(client, role, people)


def _check_search_and_export(client, role, people) -> None:
    allowed = visible_fields(frozenset({role}), Relation.IN_SCOPE)
    token = csrf_from(client.get("/members").get_data(as_text=True))
    for tag, (_member_id, values) in people.items():
        name = str(values["family_name"])
        found = client.post(
            "/members/search",
            data={"csrf_token": token, "name": name},
            headers={"Accept": "application/json"},
        )
        assert found.status_code == 200
        rows = found.get_json()["members"]
        assert bool(rows) == (tag in REACH[role]), (role, tag)
        for row in rows:
            assert set(row) <= allowed | {"id"}
        _check_absent(found.get_data(as_text=True), values, allowed, f"search JSON of {tag}")
        export = client.post(
            "/members/export", data={"csrf_token": token, "name": name, "export_format": "csv"}
        )
        assert export.status_code == 200, export.status_code
        text = export.get_data(as_text=True)
        assert (name in text) == (tag in REACH[role])
        _check_absent(text, values, allowed, f"CSV export of {tag}")


@pytest.mark.parametrize("role", VIEWERS, ids=lambda role: role.value if role else "member")
def test_whos_who_and_my_page_show_only_allowed_fields(signed_in_client, org_tree, targets, role) -> None:
    client, _credentials, own_values = _viewer(signed_in_client, org_tree, role)
    listed = {"id", "display_name", "positions"}  # nobody here consented to publish contact details
    for tag, (member, values) in targets.items():
        for path in (f"/whos-who/people/{member.id}", f"/whos-who/people/{member.id}?format=json"):
            response = client.get(path)
            assert response.status_code == 200
            _check_absent(response.get_data(as_text=True), values, frozenset(), f"who's-who of {tag}")
        assert set(client.get(f"/whos-who/people/{member.id}?format=json").get_json()) == listed
    own = client.get("/my-page?format=json").get_json()["member"]
    roles = frozenset({role}) if role else frozenset()
    assert set(own) == visible_fields(roles, Relation.OWN)
    assert own["email"] == own_values["email"]
    assert (
        client.get(f"/my-page?member_id={targets['far'][0].id}&format=json").get_json()["member"]["email"]
        == (own_values["email"])
    )
