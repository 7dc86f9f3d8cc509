"""Second factors: TOTP (one use per step), recovery codes, e-mail codes; enrolment and resets."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.auth import totp
from portal.auth.crypto import PASSWORD_HASHER, AuthKeys, new_token, verify_password
from portal.auth.models import Account, EmailCode, LinkPurpose, LoginSession, PasswordLink, RecoveryCode
from portal.auth.notices import Notice, NoticeKind, _
from portal.auth.scopes import current_roles
from portal.auth.services.accounts import LINK_LIFETIME
from portal.auth.services.sessions import ClientInfo, end_account_sessions
from portal.auth.services.sign_in import SIGN_IN_ACTOR, Outcome, Step, complete_sign_in, note_wrong_code
from portal.core.actors import Actor
from portal.core.errors import PermissionDenied, ValidationFailed

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, 5 bits each; 16 symbols = 80 bits
EMAIL_CODE_LIFETIME = timedelta(minutes=10)
EMAIL_CODE_TRIES = 5
EMAIL_CODE_SENDS = 3  # per account per 15 minutes
EMAIL_CODE_SEND_WINDOW = timedelta(minutes=15)


def use_totp_step(session: Session, account: Account, step: int) -> bool:
    """Record `step` as used, atomically: False when another request used this or a later step first."""
    result = session.execute(
        update(Account)
        .where(Account.id == account.id, or_(Account.totp_last_step.is_(None), Account.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return False
    account.totp_last_step = step
    return True


def refuse_replayed_code(session: Session, account: Account, pending: LoginSession, now: datetime) -> Outcome:
    """A code of an already used step: refused, logged as a security event, the member told."""
    record_change(
        session,
        actor=SIGN_IN_ACTOR,
        action="auth.totp_replayed",
        target=account,
        changes={"event": [None, "authn_token_reuse"], "ip": [None, pending.ip]},
    )
    outcome = note_wrong_code(session, account=account, pending=pending, factor="totp", now=now)
    outcome.notices.append(
        Notice(NoticeKind.TOTP_REPLAYED, account.member.email, account.member.display_name)
    )
    if outcome.step is Step.WRONG:
        outcome.step = Step.REPLAYED
    return outcome


def sign_in_with_totp(
    session: Session,
    *,
    account: Account,
    pending: LoginSession,
    code: str,
    keys: AuthKeys,
    client: ClientInfo,
    now: datetime,
) -> Outcome:
    """The authenticator-app code of the pending sign-in: T-1, T or T+1, each step once."""
    if account.factor_locked_at is not None:
        return Outcome(Step.LOCKED)
    if account.totp_secret_encrypted is None:
        return note_wrong_code(session, account=account, pending=pending, factor="totp", now=now)
    seed = keys.decrypt_seed(account.totp_secret_encrypted)
    match = totp.match_code(seed, code, now=now, last_step=account.totp_last_step)
    if match.replayed or (match.step is not None and not use_totp_step(session, account, match.step)):
        return refuse_replayed_code(session, account, pending, now)
    if match.step is None:
        return note_wrong_code(session, account=account, pending=pending, factor="totp", now=now)
    return complete_sign_in(session, account=account, pending=pending, factor="totp", client=client, now=now)


def _normalise_recovery_code(code: str) -> str:
    return "".join(char for char in code.upper() if char.isalnum())


def use_recovery_code(session: Session, *, account: Account, code: str, now: datetime) -> bool:
    """Spend one unused recovery code of the account; False if none matches."""
    wanted = _normalise_recovery_code(code)
    if len(wanted) != 16:
        return False
    unused = session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.used_at.is_(None),
            RecoveryCode.revoked_at.is_(None),
        )
    )
    for row in unused:
        if verify_password(row.code_hash, wanted):
            result = session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))
    return False


def remaining_recovery_codes(session: Session, account_id: int) -> int:
    """Unused codes left."""
    return int(
        session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.account_id == account_id,
                RecoveryCode.used_at.is_(None),
                RecoveryCode.revoked_at.is_(None),
            )
        )
        or 0
    )


def sign_in_with_recovery_code(
    session: Session, *, account: Account, pending: LoginSession, code: str, client: ClientInfo, now: datetime
) -> Outcome:
    """A recovery code instead of the app; shares the wrong-code counters with TOTP."""
    if account.factor_locked_at is not None:
        return Outcome(Step.LOCKED)
    if not use_recovery_code(session, account=account, code=code, now=now):
        return note_wrong_code(session, account=account, pending=pending, factor="recovery_code", now=now)
    record_change(
        session,
        actor=SIGN_IN_ACTOR,
        action="auth.recovery_code_used",
        target=account,
        changes={"remaining": [None, remaining_recovery_codes(session, account.id)]},
    )
    outcome = complete_sign_in(
        session, account=account, pending=pending, factor="recovery_code", client=client, now=now
    )
    left = str(remaining_recovery_codes(session, account.id))
    outcome.notices.append(
        Notice(
            NoticeKind.RECOVERY_CODE_USED,
            account.member.email,
            account.member.display_name,
            details={"remaining": left},
        )
    )
    return outcome


def email_code_allowed(session: Session, account: Account, *, setting: bool, now: datetime) -> bool:
    """Only plain members may use a mailed code, and only where the settings allow (security plan §9.1)."""
    return setting and bool(account.member.email) and not current_roles(session, account.member_id, now)


def send_email_code(
    session: Session,
    *,
    account: Account,
    login_session: LoginSession,
    keys: AuthKeys,
    allowed: bool,
    now: datetime,
) -> list[Notice]:
    """A new six-digit code bound to this (pending) session; older unused codes of the session lapse."""
    if not allowed:
        raise PermissionDenied(_("Use your authenticator app to sign in."))
    recent = session.scalar(
        select(func.count(EmailCode.id)).where(
            EmailCode.account_id == account.id, EmailCode.created_at > now - EMAIL_CODE_SEND_WINDOW
        )
    )
    if (recent or 0) >= EMAIL_CODE_SENDS:
        raise PermissionDenied(
            _("Three codes have been sent in the last 15 minutes. Use the newest one, or wait.")
        )
    session.execute(
        update(EmailCode)
        .where(
            EmailCode.login_session_id == login_session.id,
            EmailCode.used_at.is_(None),
            EmailCode.superseded_at.is_(None),
        )
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(
        EmailCode(
            account_id=account.id,
            login_session_id=login_session.id,
            code_hash=keys.mac("email-code", str(login_session.id), code),
            created_at=now,
            expires_at=now + EMAIL_CODE_LIFETIME,
        )
    )
    session.flush()
    return [Notice(NoticeKind.EMAIL_CODE, account.member.email, account.member.display_name, secret=code)]


def use_email_code(
    session: Session, *, login_session: LoginSession, code: str, keys: AuthKeys, now: datetime
) -> bool:
    """Spend the session's newest valid code if `code` is it (five tries per code)."""
    row = session.scalar(
        select(EmailCode)
        .where(
            EmailCode.login_session_id == login_session.id,
            EmailCode.used_at.is_(None),
            EmailCode.superseded_at.is_(None),
            EmailCode.expires_at > now,
        )
        .order_by(EmailCode.id.desc())
        .limit(1)
    )
    if row is None or row.attempts >= EMAIL_CODE_TRIES:
        return False
    row.attempts += 1
    candidate = "".join(code.split())
    if not secrets.compare_digest(row.code_hash, keys.mac("email-code", str(login_session.id), candidate)):
        return False
    result = session.execute(
        update(EmailCode)
        .where(EmailCode.id == row.id, EmailCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def sign_in_with_email_code(
    session: Session,
    *,
    account: Account,
    pending: LoginSession,
    code: str,
    keys: AuthKeys,
    client: ClientInfo,
    allowed: bool,
    now: datetime,
) -> Outcome:
    """The mailed code of this pending sign-in (not of any other one)."""
    if not allowed:
        raise PermissionDenied(_("Use your authenticator app to sign in."))
    if account.factor_locked_at is not None:
        return Outcome(Step.LOCKED)
    if not use_email_code(session, login_session=pending, code=code, keys=keys, now=now):
        return note_wrong_code(session, account=account, pending=pending, factor="email_code", now=now)
    return complete_sign_in(
        session, account=account, pending=pending, factor="email_code", client=client, now=now
    )


def new_recovery_codes(
    session: Session, *, account: Account, actor: Actor, now: datetime
) -> tuple[list[str], list[Notice]]:
    """Ten fresh codes (shown once, stored hashed); the previous set stops working."""
    session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.account_id == account.id,
            RecoveryCode.used_at.is_(None),
            RecoveryCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    codes = [
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    for code in codes:
        session.add(RecoveryCode(account_id=account.id, code_hash=PASSWORD_HASHER.hash(code), created_at=now))
    session.flush()
    record_change(
        session,
        actor=actor,
        action="auth.recovery_codes_created",
        target=account,
        changes={"count": [None, RECOVERY_CODE_COUNT]},
    )
    shown = ["-".join(code[i : i + 4] for i in range(0, 16, 4)) for code in codes]
    return shown, [
        Notice(NoticeKind.RECOVERY_CODES_CHANGED, account.member.email, account.member.display_name)
    ]


def confirm_totp_enrolment(
    session: Session,
    *,
    account: Account,
    encrypted_seed: str,
    code: str,
    keys: AuthKeys,
    actor: Actor,
    keep_session_id: int | None,
    now: datetime,
) -> tuple[list[str], list[Notice]]:
    """Bind the app once it shows a correct code; that code's step counts as used (no reuse at sign-in)."""
    seed = keys.decrypt_seed(encrypted_seed)
    match = totp.match_code(seed, code, now=now, last_step=None)
    if match.step is None:
        raise ValidationFailed(_("The code does not match."), fields={"code": _("wrong")})
    replacing = account.has_totp
    account.totp_secret_encrypted, account.totp_enrolled_at = encrypted_seed, now
    account.totp_last_step, account.factor_failures, account.factor_locked_at = match.step, 0, None
    record_change(
        session,
        actor=actor,
        action="auth.totp_enrolled",
        target=account,
        changes={"totp_enrolled_at": [None, now], "replaced": [None, replacing]},
    )
    notices = [Notice(NoticeKind.FACTOR_CHANGED, account.member.email, account.member.display_name)]
    codes: list[str] = []
    if replacing:
        end_account_sessions(session, account.id, reason="factor_changed", now=now, keep_id=keep_session_id)
    if replacing or remaining_recovery_codes(session, account.id) == 0:
        codes, more = new_recovery_codes(session, account=account, actor=actor, now=now)
        notices += more
    return codes, notices


def reset_second_factor(
    session: Session, *, account: Account, proofing: str, actor: Actor, now: datetime
) -> list[Notice]:
    """An admin resets a lost factor after checking identity (how, is recorded); a mailed link re-enrols."""
    if len(proofing.strip()) < 10:
        raise ValidationFailed(
            _("The factor was not reset."), fields={"proofing": _("Describe how the identity was checked.")}
        )
    if actor.kind == "account" and actor.id == account.id:
        raise PermissionDenied(_("Nobody can reset their own second factor."))
    account.totp_secret_encrypted, account.totp_enrolled_at, account.totp_last_step = None, None, None
    account.factor_failures, account.factor_locked_at = 0, None
    session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    end_account_sessions(session, account.id, reason="factor_reset", now=now)
    raw, digest = new_token()
    session.add(
        PasswordLink(
            member_id=account.member_id,
            purpose=LinkPurpose.RESET,
            token_hash=digest,
            created_at=now,
            expires_at=now + LINK_LIFETIME,
        )
    )
    record_change(
        session,
        actor=actor,
        action="auth.factor_reset",
        target=account,
        changes={"proofing": [None, proofing.strip()]},
    )
    member = account.member
    return [
        Notice(
            NoticeKind.FACTOR_RESET_BY_ADMIN,
            member.email,
            member.display_name,
            secret=raw,
            details={"member_number": member.member_number},
        )
    ]
