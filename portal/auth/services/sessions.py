"""Server-side login sessions: create (rotating the id), find, end, list, purge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from portal.auth.crypto import new_token, token_digest
from portal.auth.models import EmailCode, LoginSession, SessionStage

MEMBER_IDLE = timedelta(minutes=30)
OFFICER_IDLE = timedelta(minutes=15)
ABSOLUTE_LIFETIME = timedelta(hours=12)
PENDING_LIFETIME = timedelta(minutes=15)  # password accepted, second factor not yet given (mail may be slow)
FRESH_SIGN_IN = timedelta(minutes=10)  # sensitive changes need a sign-in at most this old
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most once a minute


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from (the IP as the trusted proxy reported it)."""

    ip: str = ""
    user_agent: str = ""


def find_open_session(session: Session, raw_token: str, now: datetime) -> LoginSession | None:
    """The open session a cookie names, or None (unknown, ended, idle too long or past its end)."""
    if not raw_token or len(raw_token) > 100:
        return None
    found = session.scalar(select(LoginSession).where(LoginSession.token_hash == token_digest(raw_token)))
    if found is None or not found.is_open(now):
        return None
    return found


def create_session(
    session: Session,
    *,
    stage: SessionStage,
    account_id: int | None,
    client: ClientInfo,
    now: datetime,
    replaces: LoginSession | None = None,
    factor: str = "",
    idle: timedelta = MEMBER_IDLE,
    data: str = "",
) -> tuple[LoginSession, str]:
    """A new session with a new random id; the one it replaces ends (no fixation across stages)."""
    raw, digest = new_token()
    lifetime = (
        PENDING_LIFETIME if stage in {SessionStage.PASSWORD_OK, SessionStage.ENROLLING} else ABSOLUTE_LIFETIME
    )
    expires_at = now + lifetime
    if replaces is not None:
        end_session(session, replaces, reason="rotated", now=now)
        if stage is SessionStage.FULLY_AUTHENTICATED and replaces.stage is SessionStage.FULLY_AUTHENTICATED:
            expires_at = min(expires_at, replaces.expires_at)  # confirming identity does not extend 12 h
    row = LoginSession(
        token_hash=digest,
        account_id=account_id,
        stage=stage,
        factor=factor,
        created_at=now,
        last_seen_at=now,
        expires_at=expires_at,
        idle_seconds=int(idle.total_seconds()),
        authenticated_at=now if stage is SessionStage.FULLY_AUTHENTICATED else None,
        ip=client.ip[:45],
        user_agent=client.user_agent[:300],
        data=data,
    )
    session.add(row)
    session.flush()
    return row, raw


def end_session(session: Session, login_session: LoginSession, *, reason: str, now: datetime) -> None:
    """End one session (it stays listed as ended)."""
    if login_session.ended_at is None:
        login_session.ended_at = now
        login_session.end_reason = reason[:40]


def end_account_sessions(
    session: Session, account_id: int, *, reason: str, now: datetime, keep_id: int | None = None
) -> int:
    """End every open session of an account (logout elsewhere, password or factor change, disable)."""
    statement = (
        update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason[:40])
    )
    if keep_id is not None:
        statement = statement.where(LoginSession.id != keep_id)
    result = session.execute(statement.execution_options(synchronize_session="fetch"))
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions(session: Session, account_id: int, now: datetime) -> list[LoginSession]:
    """The account's signed-in sessions that still work, newest first."""
    rows = session.scalars(
        select(LoginSession)
        .where(
            LoginSession.account_id == account_id,
            LoginSession.ended_at.is_(None),
            LoginSession.stage == SessionStage.FULLY_AUTHENTICATED,
        )
        .order_by(LoginSession.last_seen_at.desc())
    )
    return [row for row in rows if row.is_open(now)]


def set_idle_for_account(session: Session, account_id: int, idle: timedelta) -> None:
    """Apply the officer (or member) idle limit to the account's open sessions."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.ended_at.is_(None))
        .values(idle_seconds=int(idle.total_seconds()))
        .execution_options(synchronize_session="fetch")
    )


def is_fresh_at(authenticated_at: datetime | None, now: datetime) -> bool:
    """Whether the last full sign-in or confirmation is recent enough for a sensitive change."""
    return authenticated_at is not None and now - authenticated_at <= FRESH_SIGN_IN


def purge_sessions(session: Session, now: datetime, *, keep_days: int = 90) -> int:
    """Delete anonymous sessions that have lapsed and signed-in ones older than `keep_days`."""
    session.execute(delete(EmailCode).where(EmailCode.created_at < now - timedelta(days=1)))
    anonymous = session.execute(
        delete(LoginSession).where(
            LoginSession.account_id.is_(None),
            LoginSession.last_seen_at < now - MEMBER_IDLE - timedelta(hours=1),
        )
    )
    old = session.execute(
        delete(LoginSession).where(
            LoginSession.account_id.is_not(None), LoginSession.expires_at < now - timedelta(days=keep_days)
        )
    )
    return int(getattr(anonymous, "rowcount", 0) or 0) + int(getattr(old, "rowcount", 0) or 0)
