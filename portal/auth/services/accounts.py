"""Activation and password links, setting and changing passwords, disabling accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.auth import passwords
from portal.auth.crypto import hash_password, new_token, token_digest, verify_password
from portal.auth.models import Account, LinkPurpose, LoginSession, PasswordLink, SessionStage, SignInThrottle
from portal.auth.notices import Notice, NoticeKind, _
from portal.auth.services.sessions import ClientInfo, create_session, end_account_sessions
from portal.core.actors import Actor
from portal.core.errors import NotFound, ValidationFailed
from portal.members.models import Member, OrgUnit

LINK_LIFETIME = timedelta(hours=24)


def _normalise(identifier: str) -> str:
    return identifier.strip().casefold()


def members_for_identifier(session: Session, identifier: str) -> list[Member]:
    """Members an e-mail address or member number names (an address may be shared by a household)."""
    name = _normalise(identifier)
    if not name or len(name) > 320:
        return []
    if "@" in name:
        query = select(Member).where(func.lower(Member.email) == name)
    else:
        query = select(Member).where(Member.member_number == identifier.strip())
    return list(session.scalars(query.where(Member.removed_at.is_(None)).limit(10)))


def account_for_identifier(session: Session, identifier: str) -> Account | None:
    """The one account an e-mail address or member number signs in; None when unknown or ambiguous."""
    name = _normalise(identifier)
    if not name or len(name) > 320:
        return None
    query = select(Account).join(Member, Member.id == Account.member_id).where(Member.removed_at.is_(None))
    if "@" in name:
        query = query.where(func.lower(Member.email) == name)
    else:
        query = query.where(Member.member_number == identifier.strip())
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None  # a shared address signs in with the member number


def request_password_link(session: Session, *, identifier: str, now: datetime) -> list[Notice]:
    """Mail a 24-hour link to each current member the identifier names; the answer is alike either way."""
    notices = []
    for member in members_for_identifier(session, identifier):
        if not member.status.is_member or not member.email:
            continue
        has_account = session.scalar(select(Account.id).where(Account.member_id == member.id)) is not None
        purpose = LinkPurpose.RESET if has_account else LinkPurpose.ACTIVATE
        raw, digest = new_token()
        session.add(
            PasswordLink(
                member_id=member.id,
                purpose=purpose,
                token_hash=digest,
                created_at=now,
                expires_at=now + LINK_LIFETIME,
            )
        )
        kind = NoticeKind.RESET_LINK if has_account else NoticeKind.ACTIVATION_LINK
        notices.append(
            Notice(
                kind,
                member.email,
                member.display_name,
                secret=raw,
                details={"member_number": member.member_number},
            )
        )
    session.flush()
    return notices


def find_password_link(session: Session, raw_token: str, now: datetime) -> PasswordLink:
    """The unused, unexpired link the token names."""
    link = session.scalar(select(PasswordLink).where(PasswordLink.token_hash == token_digest(raw_token)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise NotFound(_("This link is not valid (any more). Ask for a new one."))
    return link


def context_words(session: Session) -> tuple[str, ...]:
    """Party and place words no password may lean on (org unit names of the replica)."""
    names = session.scalars(select(OrgUnit.name).where(OrgUnit.removed_at.is_(None)))
    places = session.scalars(select(OrgUnit.municipality).where(OrgUnit.municipality != "").distinct())
    return passwords.context_words([*names, *places])


def check_new_password(session: Session, password: str, *, member: Member | None = None) -> None:
    """Raise `ValidationFailed` naming why a new password is refused."""
    words = list(context_words(session))
    if member is not None:
        words += [
            member.given_name,
            member.family_name,
            member.member_number,
            member.email.split("@")[0],
            member.city,
        ]
    problem = passwords.password_problem(password, [word for word in words if word])
    if problem is not None:
        raise ValidationFailed(_("The password was not accepted."), fields={"password": problem})


@dataclass(frozen=True)
class PasswordSet:
    """The outcome of setting a password through a mailed link."""

    account: Account
    notices: list[Notice]
    enrolling: LoginSession | None = None  # no app yet: a short session to enrol one
    raw_token: str = ""


def set_password_from_link(
    session: Session,
    *,
    raw_token: str,
    password: str,
    client: ClientInfo,
    previous: LoginSession | None,
    now: datetime,
) -> PasswordSet:
    """Create or update the password; the link is spent, old sessions end, throttles clear.

    Without an authenticator app the link (mailbox) and the new password open a 10-minute session
    that can only enrol one; with an app, the member signs in normally (a reset never skips the factor).
    """
    link = find_password_link(session, raw_token, now)
    member = session.get_one(Member, link.member_id)
    check_new_password(session, password, member=member)
    account = session.scalar(select(Account).where(Account.member_id == member.id))
    created = account is None
    if account is None:
        account = Account(
            member_id=member.id,
            password_hash=hash_password(password),
            password_changed_at=now,
            created_at=now,
        )
        session.add(account)
    else:
        account.password_hash, account.password_changed_at = hash_password(password), now
    link.used_at = now
    session.flush()
    session.execute(
        delete(PasswordLink).where(PasswordLink.member_id == member.id, PasswordLink.used_at.is_(None))
    )  # one link spent: the others are void too
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == f"account:{account.id}"))
    # A mailed link proves the mailbox, so it also lifts a second-factor lock (the factor is still asked).
    account.factor_failures, account.factor_locked_at = 0, None
    end_account_sessions(session, account.id, reason="password_set", now=now)
    actor = Actor.account(account.id, member.member_number)
    action = "auth.account_activated" if created else "auth.password_reset"
    record_change(
        session, actor=actor, action=action, target=account, changes={"password_changed_at": [None, now]}
    )
    notices = [] if created else [Notice(NoticeKind.PASSWORD_CHANGED, member.email, member.display_name)]
    if account.has_totp:
        return PasswordSet(account, notices)
    enrolling, raw = create_session(
        session,
        stage=SessionStage.ENROLLING,
        account_id=account.id,
        client=client,
        now=now,
        replaces=previous,
    )
    return PasswordSet(account, notices, enrolling, raw)


def change_password(
    session: Session, *, account: Account, current: str, new: str, keep_session_id: int | None, now: datetime
) -> list[Notice]:
    """Change a password: needs the current one; every other session of the account ends."""
    if not verify_password(account.password_hash, current):
        raise ValidationFailed(_("The password was not changed."), fields={"current_password": _("wrong")})
    check_new_password(session, new, member=account.member)
    account.password_hash, account.password_changed_at = hash_password(new), now
    end_account_sessions(session, account.id, reason="password_changed", now=now, keep_id=keep_session_id)
    actor = Actor.account(account.id, account.member.member_number)
    record_change(
        session,
        actor=actor,
        action="auth.password_changed",
        target=account,
        changes={"password_changed_at": [None, now]},
    )
    return [Notice(NoticeKind.PASSWORD_CHANGED, account.member.email, account.member.display_name)]


def disable_account(
    session: Session, *, account: Account, reason: str, actor: Actor, now: datetime
) -> list[Notice]:
    """Disable an account at once: every session ends, sign-in is refused until enabled again."""
    if not reason.strip():
        raise ValidationFailed(_("The account was not disabled."), fields={"reason": _("required")})
    account.disabled_at, account.disabled_reason = now, reason.strip()[:300]
    end_account_sessions(session, account.id, reason="account_disabled", now=now)
    record_change(
        session,
        actor=actor,
        action="auth.account_disabled",
        target=account,
        changes={"disabled_at": [None, now], "reason": [None, reason.strip()]},
    )
    return [Notice(NoticeKind.ACCOUNT_DISABLED, account.member.email, account.member.display_name)]


def enable_account(session: Session, *, account: Account, actor: Actor, now: datetime) -> None:
    """Lift a disable."""
    record_change(
        session,
        actor=actor,
        action="auth.account_enabled",
        target=account,
        changes={"disabled_at": [account.disabled_at, None]},
    )
    account.disabled_at, account.disabled_reason = None, ""
