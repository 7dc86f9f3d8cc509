"""Test data for meetings (tests and benchmarks; never used by the app)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from portal.auth.models import TermsAcceptance
from portal.auth.testing import csrf_from, ensure_terms
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.meetings.eligibility import UnitScope
from portal.meetings.models import Meeting
from portal.meetings.services import freeze_roll

_counter = itertools.count(1)
CHAIR = Actor.account(9001, "Voorzitter Test")


def steward(number: int = 1) -> Actor:
    """A steward acting through an account (ids from 8000 up, never real accounts in tests)."""
    return Actor.account(8000 + number, f"Steward {number}")


def nonce() -> str:
    """A fresh client nonce as the door page makes one."""
    return uuid.uuid4().hex


def make_meeting(session: Session, *, org_unit_id: int, **overrides: Any) -> Meeting:
    """A meeting under way now (started an hour ago, ends in three), cut-off two weeks back."""
    now = utcnow()
    number = next(_counter)
    values: dict[str, Any] = {
        "org_unit_id": org_unit_id,
        "title": f"Algemene ledenvergadering {number}",
        "place": "Utrecht",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=3),
        "cutoff_date": (now - timedelta(days=14)).date(),
        "rule_unit_scope": UnitScope.SUBTREE,
        "created_at": now,
        "created_by": CHAIR.label,
    }
    values.update(overrides)
    meeting = Meeting(**values)
    session.add(meeting)
    session.flush()
    return meeting


def make_frozen_meeting(session: Session, *, org_unit_id: int, **overrides: Any) -> Meeting:
    """A meeting under way whose roll has been frozen."""
    meeting = make_meeting(session, org_unit_id=org_unit_id, **overrides)
    freeze_roll(session, meeting=meeting, actor=CHAIR)
    return meeting


def accept_terms(session: Session, account_id: int) -> None:
    """A steward without a role still accepts the officer terms before working the door (committed)."""
    version = ensure_terms(session)
    now = utcnow()
    session.add(
        TermsAcceptance(
            account_id=account_id,
            terms_version_id=version.id,
            accepted_at=now,
            expires_at=now + timedelta(days=365),
        )
    )
    session.commit()


def door_token(client: FlaskClient, meeting_id: int) -> str:
    """The CSRF token of a signed-in client's door page."""
    return csrf_from(client.get(f"/meetings/{meeting_id}/door").get_data(as_text=True))


def post_check_in(
    client: FlaskClient,
    meeting_id: int,
    number: str,
    *,
    key: str | None = None,
    as_json: bool = True,
    token: str | None = None,
    **extra: str,
) -> TestResponse:
    """A check-in through the door's form, as the page's JavaScript (JSON) or a plain form post sends it
    (with the door page's CSRF `token`, fetched first unless given)."""
    data = {
        "csrf_token": token or door_token(client, meeting_id),
        "member_number": number,
        "nonce": key or nonce(),
        **extra,
    }
    headers = {"Accept": "application/json"} if as_json else {}
    return client.post(f"/meetings/{meeting_id}/door/check-in", data=data, headers=headers)
