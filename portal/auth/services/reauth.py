"""Confirming identity again (password + second factor) before sensitive changes; rotates the session id."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from audit.services import record_change
from portal.auth import throttling, totp
from portal.auth.crypto import AuthKeys, verify_password
from portal.auth.models import Account, LoginSession, SessionStage, SignInThrottle
from portal.auth.services.factors import refuse_replayed_code, use_email_code, use_totp_step
from portal.auth.services.sessions import ClientInfo, create_session
from portal.auth.services.sign_in import Outcome, Step, note_failed_password, note_wrong_code
from portal.core.actors import Actor


def confirm_identity(
    session: Session,
    *,
    account: Account,
    current: LoginSession,
    password: str,
    code: str,
    keys: AuthKeys,
    client: ClientInfo,
    now: datetime,
) -> Outcome:
    """Password and a fresh code again: the session gets a new id and counts as fresh for 10 minutes."""
    key = f"account:{account.id}"
    throttle = session.get(SignInThrottle, key)
    if throttle is not None:
        wait = throttling.seconds_to_wait(throttle.failures, throttle.last_failure_at, now)
        if wait:
            return Outcome(Step.WAIT, retry_after=wait)
    if account.factor_locked_at is not None:
        return Outcome(Step.LOCKED)
    if not verify_password(account.password_hash, password):
        note_failed_password(session, key, now)
        return note_wrong_code(session, account=account, pending=current, factor="password", now=now)
    if account.totp_secret_encrypted is not None:
        match = totp.match_code(
            keys.decrypt_seed(account.totp_secret_encrypted), code, now=now, last_step=account.totp_last_step
        )
        if match.replayed or (match.step is not None and not use_totp_step(session, account, match.step)):
            return refuse_replayed_code(session, account, current, now)
        if match.step is None:
            return note_wrong_code(session, account=account, pending=current, factor="totp", now=now)
        factor = "totp"
    else:
        if not use_email_code(session, login_session=current, code=code, keys=keys, now=now):
            return note_wrong_code(session, account=account, pending=current, factor="email_code", now=now)
        factor = "email_code"
    account.factor_failures = 0
    fresh, raw = create_session(
        session,
        stage=SessionStage.FULLY_AUTHENTICATED,
        account_id=account.id,
        client=client,
        now=now,
        replaces=current,
        factor=factor,
        idle=timedelta(seconds=current.idle_seconds),
    )
    record_change(
        session,
        actor=Actor.account(account.id, account.member.member_number),
        action="auth.identity_confirmed",
        target=account,
        changes={"factor": [None, factor]},
    )
    return Outcome(Step.SIGNED_IN, login_session=fresh, raw_token=raw)
