"""Accounts, server-side sessions, second factors, role grants and the terms gate."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Protocol

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.roles import Role
from portal.core.clock import utcnow
from portal.core.database import Base
from portal.members.models import Member, OrgUnit


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, validate_strings=True)


class Account(Base):
    """A member's login: password, TOTP factor and the counters that guard them."""

    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("factor_failures >= 0", name="factor_failures_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime]
    # The TOTP seed, encrypted with AES-GCM under a key derived from the app secret (portal.auth.secrets).
    totp_secret_encrypted: Mapped[str | None] = mapped_column(String(255))
    totp_enrolled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # each 30 s step is accepted once
    factor_failures: Mapped[int] = mapped_column(default=0)  # wrong second-factor codes in a row
    factor_locked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    is_demo: Mapped[bool] = mapped_column(
        default=False
    )  # made by `make demo`; production refuses to start with one

    member: Mapped[Member] = relationship()

    # Flask-Login reads these four; the server-side session decides who is signed in.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """False once disabled."""
        return self.disabled_at is None

    def get_id(self) -> str:
        """The id Flask-Login knows the account by."""
        return str(self.id)

    @property
    def has_totp(self) -> bool:
        """Whether an authenticator app is enrolled."""
        return self.totp_secret_encrypted is not None

    def __repr__(self) -> str:
        return f"<Account {self.id} member {self.member_id}>"


class SessionStage(enum.Enum):
    """How far a browser session has come: the server decides, never the client."""

    ANONYMOUS = "anonymous"  # holds only a CSRF token or a flashed message
    PASSWORD_OK = "password_ok"  # noqa: S105 - a stage name; password accepted, second factor pending
    ENROLLING = "enrolling"  # came in through an activation link, enrolling the first factor
    FULLY_AUTHENTICATED = "fully_authenticated"


class LoginSession(Base):
    """A server-side session; the browser's cookie holds only its random id (stored here hashed)."""

    __tablename__ = "login_sessions"
    __table_args__ = (Index("ix_login_sessions_account_open", "account_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    stage: Mapped[SessionStage] = mapped_column(_enum(SessionStage))
    factor: Mapped[str] = mapped_column(String(16), default="")  # totp, recovery_code, email_code
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # absolute end, whatever the activity
    idle_seconds: Mapped[int]
    authenticated_at: Mapped[datetime | None]  # last full sign-in or confirmation (freshness)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    end_reason: Mapped[str] = mapped_column(String(40), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    failed_codes: Mapped[int] = mapped_column(default=0)  # wrong codes in this pending sign-in
    data: Mapped[str] = mapped_column(Text, default="")  # the Flask session dict (CSRF token, flashes)

    account: Mapped[Account | None] = relationship()

    def is_open(self, now: datetime) -> bool:
        """Not ended, not past its absolute end, not idle too long."""
        return session_is_open(self, now)


class SessionTimes(Protocol):
    """What decides whether a session is open: a `LoginSession`, or a row of its columns."""

    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def idle_seconds(self) -> int: ...
    @property
    def expires_at(self) -> datetime: ...
    @property
    def ended_at(self) -> datetime | None: ...


def session_is_open(times: SessionTimes, now: datetime) -> bool:
    """Not ended, not past its absolute end, not idle too long."""
    idle_limit = times.last_seen_at.timestamp() + times.idle_seconds
    return times.ended_at is None and now < times.expires_at and now.timestamp() < idle_limit


class RecoveryCode(Base):
    """One of ten single-use codes, stored as an argon2id hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EmailCode(Base):
    """A six-digit sign-in code sent by mail, bound to one pending sign-in, valid 10 minutes, used once."""

    __tablename__ = "email_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    login_session_id: Mapped[int] = mapped_column(ForeignKey("login_sessions.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]


class LinkPurpose(enum.Enum):
    """Why a set-password link was mailed."""

    ACTIVATE = "activate"
    RESET = "reset"


class PasswordLink(Base):
    """A single-use, 24-hour link to set a password (activation or reset), stored hashed."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    purpose: Mapped[LinkPurpose] = mapped_column(_enum(LinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SignInThrottle(Base):
    """Consecutive failed passwords per account ("account:<id>") or unknown name ("name:<hmac>")."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failure_at: Mapped[datetime]


class GrantSource(enum.Enum):
    """Where a role grant comes from."""

    POSITION = "position"
    EXPLICIT = "explicit"


class RoleGrant(Base):
    """A role over an org unit's subtree (None = everything), derived from a position or granted."""

    __tablename__ = "role_grants"
    __table_args__ = (
        Index("ix_role_grants_member_ends", "member_id", "ends_at"),
        CheckConstraint(
            "source <> 'EXPLICIT' OR (ends_at IS NOT NULL AND length(reason) > 0)", name="explicit_has_end"
        ),
        CheckConstraint(
            "source <> 'POSITION' OR source_position_id IS NOT NULL", name="derived_has_position"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    role: Mapped[Role] = mapped_column(_enum(Role))
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    source: Mapped[GrantSource] = mapped_column(_enum(GrantSource))
    source_position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    end_reason: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    granted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]

    scope_unit: Mapped[OrgUnit | None] = relationship()

    def is_current(self, now: datetime) -> bool:
        """Whether the grant holds at `now` (`current_at` says the same in SQL)."""
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    @classmethod
    def open_at(cls, now: datetime) -> ColumnElement[bool]:
        """SQL: the grant has not ended at `now` (it may start later)."""
        return or_(cls.ends_at.is_(None), cls.ends_at > now)

    @classmethod
    def current_at(cls, now: datetime) -> ColumnElement[bool]:
        """SQL: the grant holds at `now`, as `is_current` says."""
        return and_(cls.starts_at <= now, cls.open_at(now))


class TermsVersion(Base):
    """A published version of the officers' terms (Markdown, rendered with markdown-it `js-default`), in
    the language it was written in: that text is the binding one, translations are a courtesy."""

    __tablename__ = "terms_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(10), server_default="nl")
    published_at: Mapped[datetime]
    requires_reacceptance: Mapped[bool] = mapped_column(default=True)
    published_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))

    translations: Mapped[list[TermsTranslation]] = relationship(
        order_by="TermsTranslation.language", lazy="selectin"
    )


class TermsTranslation(Base):
    """A version's text in another of the portal's languages, published with it and never changed."""

    __tablename__ = "terms_translations"
    __table_args__ = (UniqueConstraint("terms_version_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    terms_version_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id"))
    language: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)


class TermsAcceptance(Base):
    """An officer accepted a terms version: when (UTC), from where, until when."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (Index("ix_terms_acceptances_account_expires", "account_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    terms_version_id: Mapped[int] = mapped_column(ForeignKey("terms_versions.id"))
    accepted_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    language: Mapped[str] = mapped_column(String(10), server_default="")  # the text shown; "" before 0007

    terms_version: Mapped[TermsVersion] = relationship()
