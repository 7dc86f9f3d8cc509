"""Security plan §7 D — access control, role-graded fields, the yearly terms gate, over the whole URL map.

D1 here covers the auth endpoints that name an object (sessions, grants, accounts); scope resolution per
member is in tests/services/test_auth_scopes.py and the member pages of the directory feature use it.
D3/D4/D9 field rules are a pure matrix in tests/unit/test_field_visibility.py.
D7 (who's-who scraping) does not apply to auth: the directory feature owns search and its limits.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.routing.converters import AnyConverter, NumberConverter, UUIDConverter

from audit.models import AuditEntry
from portal.auth.guards import Access, access_of
from portal.auth.models import GrantSource, RoleGrant, TermsAcceptance
from portal.auth.roles import Role
from portal.auth.testing import csrf_from, make_account, post_form, sign_in
from portal.members.testing import make_member

UNGUARDED_BY_DESIGN = {
    "static",
    "home.landing",
    "home.choose_language",
    "home.health",
}  # public, written before auth


def _sample(converter):  # type: ignore[no-untyped-def]
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, NumberConverter):
        return converter.num_convert(1)
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "x"


def _url(rule) -> str:  # type: ignore[no-untyped-def]
    values = {name: _sample(rule._converters[name]) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def _guarded_rules(app, *kinds: Access):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if access_of(view) in kinds:
            yield rule, view


def _call(client, rule, csrf: str):  # type: ignore[no-untyped-def]
    url = _url(rule)
    if "GET" in rule.methods:
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf})


def test_every_endpoint_declares_who_may_use_it(app) -> None:
    undeclared = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if access_of(app.view_functions[rule.endpoint]) is None and rule.endpoint not in UNGUARDED_BY_DESIGN
    )
    assert undeclared == [], f"give these a guard from portal.auth.guards: {undeclared}"


def test_D2_anonymous_visitors_reach_no_guarded_endpoint(app) -> None:
    client = app.test_client()
    csrf = csrf_from(client.get("/sign-in").get_data(as_text=True))
    for rule, _view in _guarded_rules(app, Access.SELF_SERVICE, Access.OFFICER, Access.ADMIN):
        response = _call(client, rule, csrf)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"], rule.rule


def test_D2_members_and_officers_get_403_outside_their_roles(app, signed_in_client, org_tree) -> None:
    member, _ = signed_in_client()
    board, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    for client, held in ((member, set()), (board, {Role.BRANCH_BOARD})):
        csrf = csrf_from(client.get("/security").get_data(as_text=True))
        for rule, view in _guarded_rules(app, Access.OFFICER, Access.ADMIN):
            if held & view.portal_roles:
                continue
            assert _call(client, rule, csrf).status_code == 403, (rule.rule, held)


def test_D1_an_officer_cannot_end_anothers_grant_or_touch_accounts(
    app, signed_in_client, database, org_tree
) -> None:
    board, creds = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    with database.session() as session:
        grant_id = session.scalar(select(RoleGrant.id).where(RoleGrant.member_id == creds.member_id))
    csrf = csrf_from(board.get("/security").get_data(as_text=True))
    assert (
        board.post(f"/admin/grants/{grant_id}/end", data={"csrf_token": csrf, "reason": "x"}).status_code
        == 403
    )
    assert (
        board.post(
            f"/admin/accounts/{creds.account_id}/disable", data={"csrf_token": csrf, "reason": "x"}
        ).status_code
        == 403
    )


def _all_roles(org_tree) -> list[tuple[Role, int | None]]:  # type: ignore[no-untyped-def]
    return [
        (Role.BRANCH_BOARD, org_tree.branch.id),
        (Role.REGIONAL_OFFICER, org_tree.region.id),
        (Role.NATIONAL_ADMINISTRATOR, None),
        (Role.STEWARD, org_tree.branch.id),
        (Role.ADMIN, None),
    ]


def test_D5_an_acceptance_older_than_a_year_closes_officer_functions(
    app, database, account_factory, org_tree
) -> None:
    _, creds = account_factory(roles=[(Role.ADMIN, None)])
    with database.transaction() as session:
        for acceptance in session.scalars(select(TermsAcceptance)):
            acceptance.accepted_at -= timedelta(days=366)
            acceptance.expires_at -= timedelta(days=366)
    client = app.test_client()
    sign_in(client, creds)
    assert client.get("/admin/grants").headers["Location"].startswith("/terms")
    page = client.get("/terms?next=/admin/grants").get_data(as_text=True)
    accepted = client.post(
        "/terms?next=/admin/grants",
        data={
            "csrf_token": csrf_from(page),
            "version_id": re.search(r'name="version_id" type="hidden" value="(\d+)"', page).group(1),
            "accept": "y",
        },  # type: ignore[union-attr]
        headers={"User-Agent": "Testbrowser/1.0"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert accepted.headers["Location"] == "/admin/grants"
    assert client.get("/admin/grants").status_code == 200
    with database.session() as session:
        newest = session.scalars(
            select(TermsAcceptance)
            .options(selectinload(TermsAcceptance.terms_version))
            .order_by(TermsAcceptance.id.desc())
        ).first()
    assert newest is not None
    assert newest.ip == "192.0.2.44"
    assert newest.user_agent == "Testbrowser/1.0"
    assert newest.expires_at - newest.accepted_at == timedelta(days=365)
    assert newest.terms_version.version == "test-1"


def test_D6_the_terms_gate_guards_every_officer_endpoint_on_the_server(
    app, signed_in_client, org_tree
) -> None:
    client, _ = _officer_without_terms(app, org_tree)
    csrf = csrf_from(client.get("/security").get_data(as_text=True))
    gated = [
        (rule, view)
        for rule, view in _guarded_rules(app, Access.OFFICER, Access.ADMIN)
        if view.portal_terms_gate
    ]
    assert gated
    for rule, _view in gated:
        response = _call(client, rule, csrf)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/terms"), rule.rule
        json = (
            client.get(_url(rule), headers={"Accept": "application/json"}) if "GET" in rule.methods else None
        )
        assert json is None or json.status_code == 403
    for rule, view in _guarded_rules(app, Access.OFFICER, Access.ADMIN):
        assert view.portal_terms_gate or rule.endpoint == "auth.admin_terms", rule.endpoint


def _officer_without_terms(app, org_tree):  # type: ignore[no-untyped-def]
    session = app.extensions["portal"].database.session(write=True)
    member = make_member(session, branch_id=org_tree.branch.id)
    _, creds = make_account(
        session, member, roles=_all_roles(org_tree), terms_accepted=False, keys=app.extensions["auth_keys"]
    )
    session.close()
    client = app.test_client()
    sign_in(client, creds)
    return client, creds


def test_D5_terms_warn_30_days_ahead_and_a_new_version_may_require_acceptance(
    app, database, signed_in_client, org_tree
) -> None:
    client, creds = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    assert "Accept the terms" not in client.get("/rights").get_data(as_text=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(days=340)):
        sign_in(client, creds)
        assert 'href="/terms"' in client.get("/rights").get_data(as_text=True)
    admin, _ = signed_in_client(Role.ADMIN, None)
    published = post_form(
        admin,
        "/admin/terms",
        {
            "version": "2027-1",
            "title": "Nieuw",
            "body_markdown": "# Nieuw\n\n<script>x</script>",
            "requires_reacceptance": "y",
        },
    )
    assert published.status_code == 302
    assert admin.get("/admin/grants").headers["Location"].startswith("/terms")
    page = admin.get("/terms").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page  # markdown-it js-default escapes raw HTML


def test_D5_admins_see_per_branch_who_has_not_accepted(
    app, signed_in_client, account_factory, org_tree
) -> None:
    account_factory(
        roles=[(Role.BRANCH_BOARD, org_tree.sibling.id)], terms_accepted=False, family_name="Nogniet"
    )
    account_factory(roles=[(Role.BRANCH_BOARD, org_tree.branch.id)], family_name="Welgedaan")
    admin, _ = signed_in_client(Role.ADMIN, None)
    page = admin.get("/admin/terms/overview").get_data(as_text=True)
    assert "Afdeling Zeist" in page
    assert "Nogniet" in page
    assert "Welgedaan" not in page


def test_D4_extra_fields_in_a_post_change_nothing(app, database, account_factory) -> None:
    _, creds = account_factory()
    client = app.test_client()
    sign_in(client, creds)
    post_form(
        client,
        "/terms",
        {"accept": "y", "version_id": "1", "role": "ADMIN", "account_id": "1", "is_demo": "1"},
    )
    post_form(
        client,
        "/security/password",
        {
            "current_password": creds.password,
            "password": "zeven fietsen in de regen",
            "is_demo": "1",
            "member_id": "1",
        },
    )
    with database.session() as session:
        assert session.scalars(select(RoleGrant).where(RoleGrant.member_id == creds.member_id)).all() == []
        assert (
            session.execute(select(AuditEntry.action).where(AuditEntry.action == "auth.grant_added")).all()
            == []
        )


def test_D8_no_member_numbers_or_link_tokens_stay_in_urls(
    app, signed_in_client, account_factory, mail
) -> None:
    admin, _ = signed_in_client(Role.ADMIN, None)
    _, creds = account_factory()
    assert 'method="post" action="/admin/accounts"' in admin.get("/admin/accounts").get_data(as_text=True)
    client = app.test_client()
    post_form(client, "/forgot-password", {"identifier": creds.member_number})
    link = re.search(r"/set-password/\S+", mail.wait_for(1)[0].text).group(0)  # type: ignore[union-attr]
    response = client.get(link)
    assert response.headers["Location"] == "/set-password"  # the token leaves the address bar at once
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_D9_a_steward_reaches_no_admin_or_board_function(app, signed_in_client, org_tree) -> None:
    steward, _ = signed_in_client(Role.STEWARD, org_tree.branch.id)
    for path in ("/admin/grants", "/admin/terms", "/admin/accounts", "/admin/terms/overview"):
        assert steward.get(path).status_code == 403


def test_explicit_grants_need_an_end_date_and_a_reason_and_are_audited(
    app, database, signed_in_client, member_factory, org_tree
) -> None:
    admin, admin_creds = signed_in_client(Role.ADMIN, None)
    member = member_factory()
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    refused = post_form(
        admin,
        "/admin/grants",
        {
            "member_number": member.member_number,
            "role": "steward",
            "scope_unit_id": str(org_tree.branch.id),
            "ends_on": until,
            "reason": "",
        },
    )
    assert refused.status_code == 200
    too_long = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    post_form(
        admin,
        "/admin/grants",
        {
            "member_number": member.member_number,
            "role": "steward",
            "scope_unit_id": str(org_tree.branch.id),
            "ends_on": too_long,
            "reason": "Ledenvergadering",
        },
    )
    added = post_form(
        admin,
        "/admin/grants",
        {
            "member_number": member.member_number,
            "role": "steward",
            "scope_unit_id": str(org_tree.branch.id),
            "ends_on": until,
            "reason": "Ledenvergadering maart",
        },
    )
    assert added.status_code == 302
    own = post_form(
        admin,
        "/admin/grants",
        {
            "member_number": admin_creds.member_number,
            "role": "admin",
            "scope_unit_id": "",
            "ends_on": until,
            "reason": "mezelf",
        },
    )
    assert own.status_code == 200  # refused: nobody grants themselves a role
    with database.session() as session:
        grants = session.scalars(select(RoleGrant).where(RoleGrant.member_id == member.id)).all()
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.grant_added")).all()
        own_grants = session.scalars(
            select(RoleGrant).where(
                RoleGrant.member_id == admin_creds.member_id, RoleGrant.source == GrantSource.EXPLICIT
            )
        ).all()
    assert [(grant.role, grant.reason) for grant in grants] == [(Role.STEWARD, "Ledenvergadering maart")]
    assert len(audit) == 1
    assert audit[0].changes["reason"] == [None, "Ledenvergadering maart"]
    assert len(own_grants) == 1  # granting oneself was refused


@pytest.mark.parametrize("role", [Role.BRANCH_BOARD, Role.STEWARD])
def test_the_rights_page_explains_each_grant(signed_in_client, org_tree, role) -> None:
    client, _ = signed_in_client(role, org_tree.branch.id)
    page = client.get("/rights").get_data(as_text=True)
    assert "Afdeling Utrecht" in page
    assert "test" in page
