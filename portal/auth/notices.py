"""Mails the auth services ask for; the view layer words and sends them after the commit."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class NoticeKind(enum.Enum):
    """What the member is told."""

    ACTIVATION_LINK = "activation_link"
    RESET_LINK = "reset_link"
    EMAIL_CODE = "email_code"
    TOTP_REPLAYED = "totp_replayed"
    FACTOR_LOCKED = "factor_locked"
    SIGN_IN_LOCKED = "sign_in_locked"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a notice name
    FACTOR_CHANGED = "factor_changed"
    RECOVERY_CODES_CHANGED = "recovery_codes_changed"
    RECOVERY_CODE_USED = "recovery_code_used"
    FACTOR_RESET_BY_ADMIN = "factor_reset_by_admin"
    ACCOUNT_DISABLED = "account_disabled"


@dataclass(frozen=True)
class Notice:
    """One mail to one member; `secret` (a link token or a code) is never logged."""

    kind: NoticeKind
    to: str
    name: str
    secret: str = ""
    details: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Notice({self.kind.value} to member {self.name!r})"


def _(message: str) -> str:
    """Mark a message a service shows to people; the view layer translates it (`gettext(error.message)`)."""
    return message
