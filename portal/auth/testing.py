"""Test helpers: an org tree, accounts with known secrets, and signing in through the real views.

`sign_in` uses a fresh TOTP code: a step of the accepted window (T, T+1, or T-1 early in a step) after the
account's last used step, so two or three sign-ins per 30 s step need no waiting; the next one waits for
the next step. Tests that move the clock with time-machine get codes for the moved clock.
"""

from __future__ import annotations

import re
import time as wall_clock
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal.auth import totp as totp_rules
from portal.auth.crypto import AuthKeys, hash_password
from portal.auth.models import Account, GrantSource, RoleGrant, TermsAcceptance, TermsVersion
from portal.auth.roles import Role
from portal.core.clock import utcnow
from portal.members.models import Member, OrgUnit, OrgUnitKind
from portal.members.testing import make_member, make_org_unit

DEFAULT_PASSWORD = "paarse kraanvogel boven de polder"  # noqa: S105 - test data
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class TestCredentials:
    """What a person would need to sign in: identifiers, password, TOTP seed."""

    __test__ = False  # not a pytest test class

    account_id: int
    member_id: int
    member_number: str
    email: str
    password: str
    totp_secret: str | None
    recovery_codes: list[str] = field(default_factory=list)

    @classmethod
    def of_demo_person(cls, person: dict[str, Any]) -> TestCredentials:
        """A person from `instance/demo_accounts.json`, as `make demo` saved them."""
        return cls(
            person["account_id"], 0, person["member_number"], person["email"], person["password"],
            person["totp_secret"],
        )  # fmt: skip


@dataclass(frozen=True)
class OrgTree:
    """national → `region` (`branch`, `sibling`) and `other_region` (`far_branch`)."""

    national: OrgUnit
    region: OrgUnit
    branch: OrgUnit
    sibling: OrgUnit
    other_region: OrgUnit
    far_branch: OrgUnit


def make_org_tree(session: Session) -> OrgTree:
    """A small party tree, flushed."""
    national = make_org_unit(session, kind=OrgUnitKind.NATIONAL, name="D66")
    region = make_org_unit(session, kind=OrgUnitKind.REGION, name="Regio Utrecht", parent_id=national.id)
    branch = make_org_unit(session, name="Afdeling Utrecht", parent_id=region.id, municipality="Utrecht")
    sibling = make_org_unit(session, name="Afdeling Zeist", parent_id=region.id, municipality="Zeist")
    other_region = make_org_unit(
        session, kind=OrgUnitKind.REGION, name="Regio Groningen", parent_id=national.id
    )
    far_branch = make_org_unit(
        session, name="Afdeling Groningen", parent_id=other_region.id, municipality="Groningen"
    )
    return OrgTree(national, region, branch, sibling, other_region, far_branch)


def _keys(keys: AuthKeys | None) -> AuthKeys:
    if keys is not None:
        return keys
    return AuthKeys.from_secret(current_app.config["SECRET_KEY"])


def ensure_terms(session: Session) -> TermsVersion:
    """The current terms version, publishing a test version when there is none."""
    current = session.scalar(select(TermsVersion).order_by(TermsVersion.published_at.desc()).limit(1))
    if current is None:
        current = TermsVersion(
            version="test-1",
            title="Terms",
            body_markdown="# Terms\n\nBe careful.",
            language="nl",
            published_at=utcnow() - timedelta(days=1),
        )
        session.add(current)
        session.flush()
    return current


def make_account(
    session: Session,
    member: Member | None = None,
    *,
    password: str = DEFAULT_PASSWORD,
    totp: bool = True,
    roles: Iterable[tuple[Role, int | None]] = (),
    terms_accepted: bool = True,
    keys: AuthKeys | None = None,
    **member_overrides: object,
) -> tuple[Account, TestCredentials]:
    """An activated account (committed), optionally with TOTP, explicit grants and accepted terms."""
    now = utcnow()
    member = member or make_member(session, **member_overrides)
    seed = totp_rules.new_seed() if totp else None
    account = Account(
        member_id=member.id, password_hash=hash_password(password), password_changed_at=now, created_at=now
    )
    if seed is not None:
        account.totp_secret_encrypted, account.totp_enrolled_at = _keys(keys).encrypt_seed(seed), now
    session.add(account)
    session.flush()
    granted = list(roles)
    for role, unit_id in granted:
        session.add(
            RoleGrant(
                member_id=member.id,
                role=role,
                scope_unit_id=unit_id,
                source=GrantSource.EXPLICIT,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=365),
                reason="test",
                created_at=now,
            )
        )
    if terms_accepted and granted:
        version = ensure_terms(session)
        session.add(
            TermsAcceptance(
                account_id=account.id,
                terms_version_id=version.id,
                accepted_at=now,
                expires_at=now + timedelta(days=365),
            )
        )
    session.commit()
    return account, TestCredentials(account.id, member.id, member.member_number, member.email, password, seed)


def csrf_from(html: str) -> str:
    """The CSRF token of the first form in a page."""
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def fresh_code(app: Flask, credentials: TestCredentials) -> str:
    """A TOTP code the server has not seen yet and will still accept a few seconds from now.

    Prefers the current step T, then T+1; T-1 only while 10 s of the current step remain (it lapses at
    the next boundary); otherwise waits for the next step.
    """
    assert credentials.totp_secret, "this account has no TOTP"
    database = app.extensions["portal"].database
    while True:
        with database.session() as session:
            last = session.scalar(select(Account.totp_last_step).where(Account.id == credentials.account_id))
        now = utcnow().timestamp()
        current = int(now) // totp_rules.STEP_SECONDS
        left_in_step = totp_rules.STEP_SECONDS - now % totp_rules.STEP_SECONDS
        candidates = [current, current + 1] + ([current - 1] if left_in_step >= 10 else [])
        steps = [step for step in candidates if last is None or step > last]
        if steps:
            return totp_rules.code_for_step(credentials.totp_secret, steps[0])
        wall_clock.sleep(left_in_step + 0.05)


def submit_password(
    client: FlaskClient, credentials: TestCredentials, *, identifier: str | None = None, next_path: str = ""
) -> str:
    """The password step; returns where the portal sends the browser next."""
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in" + (f"?next={next_path}" if next_path else ""),
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "identifier": identifier or credentials.member_number,
            "password": credentials.password,
        },
    )
    assert response.status_code == 302, f"password step failed ({response.status_code})"
    return response.headers["Location"]


def submit_code(client: FlaskClient, code: str) -> tuple[int, str]:
    """The TOTP step; returns the status and the Location header (if any)."""
    page = client.get("/sign-in/code")
    response = client.post(
        "/sign-in/code", data={"csrf_token": csrf_from(page.get_data(as_text=True)), "code": code}
    )
    return response.status_code, response.headers.get("Location", "")


def sign_in(client: FlaskClient, credentials: TestCredentials) -> None:
    """Sign in through the real views: member number + password, then a fresh TOTP code."""
    submit_password(client, credentials)
    status, _location = submit_code(client, fresh_code(client.application, credentials))
    assert status == 302, f"second factor refused ({status})"


def post_sign_in(
    client: FlaskClient, identifier: str, password: str, *, ip: str = "127.0.0.1", next_path: str = ""
) -> TestResponse:
    """One password attempt from `ip` (the CSRF token is fetched first, as a browser would)."""
    environ = {"REMOTE_ADDR": ip}
    page = client.get("/sign-in", environ_base=environ)
    target = "/sign-in" + (f"?next={next_path}" if next_path else "")
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "identifier": identifier,
        "password": password,
    }
    return client.post(target, data=data, environ_base=environ)


def post_form(
    client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None, ip: str = "127.0.0.1"
) -> TestResponse:
    """POST a form with the CSRF token taken from `page` (default: the same path)."""
    html = client.get(page or path, environ_base={"REMOTE_ADDR": ip}).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **data}, environ_base={"REMOTE_ADDR": ip})


def tomorrow_at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A fixed wall-clock moment (UTC) for tests that travel in time: tomorrow, so it always lies after
    the accounts, grants and terms the fixtures create on the real clock (a fixed date turned into the
    past, and grants not yet begun, once the real clock passed it)."""
    day = (datetime.now(UTC) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)
