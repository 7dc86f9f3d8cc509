"""Signing in: password (throttled per name), then a second factor; each stage gets a new session id."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.auth import throttling
from portal.auth.crypto import AuthKeys, hash_password, needs_rehash, spend_equal_time, verify_password
from portal.auth.models import Account, LoginSession, SessionStage, SignInThrottle
from portal.auth.notices import Notice, NoticeKind
from portal.auth.scopes import current_roles
from portal.auth.services.accounts import account_for_identifier
from portal.auth.services.grants import recompute_grants
from portal.auth.services.sessions import MEMBER_IDLE, OFFICER_IDLE, ClientInfo, create_session
from portal.core.actors import Actor

SIGN_IN_ACTOR = Actor.system("sign-in")
CODES_PER_PENDING_SIGN_IN = 5  # wrong codes that void one pending sign-in
CODES_BEFORE_FACTOR_LOCK = 10  # wrong codes in a row that lock the second factor


class Step(enum.Enum):
    """Where a sign-in attempt ended up."""

    SECOND_FACTOR = "second_factor"  # password accepted: ask for the second factor
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # wrong password or code (the same answer for an unknown name)
    WAIT = "wait"  # throttled: `retry_after` seconds
    VOIDED = "voided"  # too many wrong codes: start again with the password
    LOCKED = "locked"  # the second factor is locked: a mailed link or an administrator unlocks it
    REPLAYED = "replayed"  # a code of a time step that was already used


@dataclass
class Outcome:
    """A sign-in step's result; `raw_token` is the new cookie value when a new session began."""

    step: Step
    login_session: LoginSession | None = None
    raw_token: str = ""
    retry_after: int = 0
    notices: list[Notice] = field(default_factory=list)


def _throttle_key(account: Account | None, identifier: str, keys: AuthKeys) -> str:
    if account is not None:
        return f"account:{account.id}"
    return "name:" + keys.mac("sign-in-name", identifier.strip().casefold())[:40]


def note_failed_password(session: Session, key: str, now: datetime) -> int:
    """Count one more failed password for `key` (an insert race falls back to the update)."""
    statement = (
        update(SignInThrottle)
        .where(SignInThrottle.key == key)
        .values(failures=SignInThrottle.failures + 1, last_failure_at=now)
        .returning(SignInThrottle.failures)
    )
    failures = session.scalar(statement)
    if failures is None:
        try:
            with session.begin_nested():
                session.add(SignInThrottle(key=key, failures=1, last_failure_at=now))
            failures = 1
        except IntegrityError:
            failures = session.scalar(statement)
    return int(failures or 1)


def sign_in_with_password(
    session: Session,
    *,
    identifier: str,
    password: str,
    keys: AuthKeys,
    client: ClientInfo,
    previous: LoginSession | None,
    now: datetime,
) -> Outcome:
    """Check the password; unknown names cost the same time and get the same answer as wrong passwords."""
    account = account_for_identifier(session, identifier)
    key = _throttle_key(account, identifier, keys)
    throttle = session.get(SignInThrottle, key)
    failures = throttle.failures if throttle else 0
    wait = throttling.seconds_to_wait(failures, throttle.last_failure_at if throttle else None, now)
    if wait:
        return Outcome(Step.WAIT, retry_after=wait)
    if account is not None and account.disabled_at is None:
        accepted = verify_password(account.password_hash, password)
    else:
        spend_equal_time(password)
        accepted = False
    if not accepted:
        failures = note_failed_password(session, key, now)
        target = account if account is not None else ("sign_in_name", key[5:21])
        record_change(
            session,
            actor=SIGN_IN_ACTOR,
            action="auth.password_failed",
            target=target,
            changes={"failures": [failures - 1, failures], "ip": [None, client.ip]},
        )
        notices = []
        if account is not None and failures == throttling.HARD_STOP:
            notices.append(
                Notice(NoticeKind.SIGN_IN_LOCKED, account.member.email, account.member.display_name)
            )
        return Outcome(Step.WRONG, notices=notices)
    assert account is not None
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    actor = Actor.account(account.id, account.member.member_number)
    recompute_grants(session, now=now, actor=Actor.system("sign-in-roles"), member_ids=[account.member_id])
    pending, raw = create_session(
        session,
        stage=SessionStage.PASSWORD_OK,
        account_id=account.id,
        client=client,
        now=now,
        replaces=previous,
    )
    record_change(
        session,
        actor=actor,
        action="auth.password_accepted",
        target=account,
        changes={"ip": [None, client.ip]},
    )
    return Outcome(Step.SECOND_FACTOR, login_session=pending, raw_token=raw)


def complete_sign_in(
    session: Session,
    *,
    account: Account,
    pending: LoginSession,
    factor: str,
    client: ClientInfo,
    now: datetime,
    data: str = "",
) -> Outcome:
    """Both factors given: a new, fully signed-in session replaces the pending one."""
    idle = OFFICER_IDLE if current_roles(session, account.member_id, now) else MEMBER_IDLE
    account.factor_failures, account.last_sign_in_at = 0, now
    full, raw = create_session(
        session,
        stage=SessionStage.FULLY_AUTHENTICATED,
        account_id=account.id,
        client=client,
        now=now,
        replaces=pending,
        factor=factor,
        idle=idle,
        data=data,
    )
    record_change(
        session,
        actor=Actor.account(account.id, account.member.member_number),
        action="auth.signed_in",
        target=account,
        changes={"factor": [None, factor], "ip": [None, client.ip]},
    )
    return Outcome(Step.SIGNED_IN, login_session=full, raw_token=raw)


def note_wrong_code(
    session: Session, *, account: Account, pending: LoginSession, factor: str, now: datetime
) -> Outcome:
    """Count a wrong code: five void this sign-in, ten in a row lock the factor (and tell the member)."""
    pending.failed_codes += 1
    account.factor_failures += 1
    record_change(
        session,
        actor=SIGN_IN_ACTOR,
        action="auth.second_factor_failed",
        target=account,
        changes={
            "factor": [None, factor],
            "failures": [account.factor_failures - 1, account.factor_failures],
        },
    )
    if account.factor_failures >= CODES_BEFORE_FACTOR_LOCK and account.factor_locked_at is None:
        account.factor_locked_at = now
        pending.ended_at, pending.end_reason = now, "factor_locked"
        record_change(
            session,
            actor=SIGN_IN_ACTOR,
            action="auth.factor_locked",
            target=account,
            changes={"factor_locked_at": [None, now]},
        )
        notice = Notice(NoticeKind.FACTOR_LOCKED, account.member.email, account.member.display_name)
        return Outcome(Step.LOCKED, notices=[notice])
    if pending.failed_codes >= CODES_PER_PENDING_SIGN_IN:
        pending.ended_at, pending.end_reason = now, "too_many_codes"
        return Outcome(Step.VOIDED)
    return Outcome(Step.WRONG)


def pending_account(session: Session, pending: LoginSession | None, now: datetime) -> Account | None:
    """The account of a pending (password accepted) sign-in that is still open."""
    if pending is None or pending.stage is not SessionStage.PASSWORD_OK or not pending.is_open(now):
        return None
    return session.get(Account, pending.account_id) if pending.account_id else None
