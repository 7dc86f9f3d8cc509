"""Words the auth notices in the member's language and sends them, after the commit."""

from __future__ import annotations

import logging

from flask import url_for
from flask_babel import gettext as _

from portal.auth.notices import Notice, NoticeKind
from portal.core.extension import settings, state
from portal.core.mailer import OutgoingMail

log = logging.getLogger("portal.auth.mail")


def _link(endpoint: str, token: str) -> str:
    return settings().base_url.rstrip("/") + url_for(endpoint, token=token)


def _wording(notice: Notice) -> tuple[str, str]:
    hello = _("Dear %(name)s,", name=notice.name)
    signature = _("Kind regards,\nThe membership administration")
    security = _("If this was not you, change your password and contact the membership administration.")
    match notice.kind:
        case NoticeKind.ACTIVATION_LINK:
            body = _(
                "You asked to activate your account for the member portal (member number %(number)s). "
                "Choose your password with this link, which works once and for 24 hours:\n\n%(link)s\n\n"
                "If you did not ask for this, you can ignore this message.",
                number=notice.details.get("member_number", ""),
                link=_link("auth.password_link", token=notice.secret),
            )
            return _("Activate your member portal account"), f"{hello}\n\n{body}\n\n{signature}"
        case NoticeKind.RESET_LINK | NoticeKind.FACTOR_RESET_BY_ADMIN:
            body = _(
                "Choose a new password for the member portal (member number %(number)s) with this link, "
                "which works once and for 24 hours:\n\n%(link)s\n\n"
                "You will still be asked for your second factor when you sign in. "
                "If you did not ask for this, you can ignore this message.",
                number=notice.details.get("member_number", ""),
                link=_link("auth.password_link", token=notice.secret),
            )
            return _("Choose a new password"), f"{hello}\n\n{body}\n\n{signature}"
        case NoticeKind.EMAIL_CODE:
            body = _("Your sign-in code is %(code)s. It works once, for 10 minutes.", code=notice.secret)
            return _("Your sign-in code"), f"{hello}\n\n{body}\n\n{security}\n\n{signature}"
        case NoticeKind.TOTP_REPLAYED:
            body = _(
                "Someone tried to sign in to your account with a code from your authenticator app that had "
                "already been used. The attempt was refused."
            )
        case NoticeKind.FACTOR_LOCKED:
            body = _(
                "After ten wrong codes in a row, signing in to your account with a second factor has been "
                "locked. Ask for a new password link to unlock it."
            )
        case NoticeKind.SIGN_IN_LOCKED:
            body = _(
                "After 100 wrong passwords in a row, signing in to your account has been stopped. Ask for a "
                "new password link to unlock it."
            )
        case NoticeKind.PASSWORD_CHANGED:
            body = _(
                "The password of your member portal account has been changed. Your other sessions were ended."
            )
        case NoticeKind.FACTOR_CHANGED:
            body = _("An authenticator app has been set up for your member portal account.")
        case NoticeKind.RECOVERY_CODES_CHANGED:
            body = _(
                "New recovery codes were made for your member portal account; the old ones no longer work."
            )
        case NoticeKind.RECOVERY_CODE_USED:
            body = _(
                "Someone signed in to your account with a recovery code. %(remaining)s codes are left.",
                remaining=notice.details.get("remaining", "?"),
            )
        case NoticeKind.ACCOUNT_DISABLED:
            body = _(
                "Your member portal account has been disabled. Contact the membership administration if you "
                "think this is a mistake."
            )
    return _(
        "Security notice for your member portal account"
    ), f"{hello}\n\n{body}\n\n{security}\n\n{signature}"


def send_notices(notices: list[Notice]) -> None:
    """Send each notice; a mail failure is logged, never shown (the answer must not depend on it)."""
    mailer = state().mailer
    for notice in notices:
        if not notice.to:
            continue
        subject, text = _wording(notice)
        try:
            mailer.send(OutgoingMail(to=(notice.to,), subject=subject, text=text))
        except Exception:
            log.exception("could not send %s", notice.kind.value)
