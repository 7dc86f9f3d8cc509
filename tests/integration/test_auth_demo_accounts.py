"""Issue 3 item 7: demo accounts are real members of a pulled replica, and a script can sign in with them."""

from __future__ import annotations

import json

from sqlalchemy import select

from config import Settings
from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_everything
from portal.app import create_app
from portal.auth.demo import create_demo_accounts
from portal.auth.models import Account, RoleGrant
from portal.auth.roles import Role
from portal.auth.testing import TestCredentials, sign_in


def test_demo_accounts_sign_in_with_their_published_secrets(crm_settings: Settings) -> None:
    app = create_app(crm_settings)
    database = app.extensions["portal"].database
    port = make_crm_port(crm_settings)
    pull_everything(
        database, port, max_removed_share=0.02, events=app.extensions["portal"].events
    )  # grants follow
    port.close()
    with database.session() as session:
        assert (
            session.scalar(select(RoleGrant.id).limit(1)) is not None
        )  # derived by the MembersPulled subscriber
    people = create_demo_accounts(app)
    saved = json.loads((crm_settings.instance_path / "demo_accounts.json").read_text())
    assert [person["role"] for person in saved] == [
        "member",
        "branch_chair",
        "regional_officer",
        "steward",
        "admin",
    ]
    assert saved == people
    with database.session() as session:
        roles = {
            person["role"]: {
                grant.role
                for grant in session.scalars(
                    select(RoleGrant)
                    .join(Account, Account.member_id == RoleGrant.member_id)
                    .where(Account.id == person["account_id"])
                )
            }
            for person in saved
        }
        assert all(account.is_demo for account in session.scalars(select(Account)))
    assert roles["member"] == set()
    assert Role.BRANCH_BOARD in roles["branch_chair"]
    assert Role.REGIONAL_OFFICER in roles["regional_officer"]
    assert Role.STEWARD in roles["steward"]
    assert Role.ADMIN in roles["admin"]
    for person in saved:
        client = app.test_client()
        sign_in(client, TestCredentials.of_demo_person(person))
        assert client.get("/security").status_code == 200
    again = create_demo_accounts(app)  # `make demo` started a second time on the same instance
    assert [person["member_number"] for person in again] == [person["member_number"] for person in saved]
    with database.session() as session:
        admin_grants = session.scalars(select(RoleGrant).where(RoleGrant.role == Role.ADMIN)).all()
    assert len(admin_grants) == 1
    database.dispose()
