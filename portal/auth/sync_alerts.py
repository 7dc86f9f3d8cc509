"""Telling the admins that a CRM pull stopped on purpose (the mass-removal guard), by e-mail.

The CRM sync cannot know who the admins are (that is this package's business), so it publishes
`PullAborted` after recording the run, and this subscriber mails every active account that holds a
current admin grant, in the portal's default language (`PORTAL_DEFAULT_LOCALE`: the scheduler process
that runs the pull has no request to take a language from). A failing mail server is logged, never
raised: the run is recorded either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from babel.support import Translations
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.auth.models import Account, RoleGrant
from portal.auth.roles import Role
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.core.events import PullAborted
from portal.core.mailer import Mailer, OutgoingMail
from portal.members.models import Member

log = logging.getLogger("portal.auth.sync_alerts")
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


def admin_addresses(session: Session, *, now: datetime) -> list[str]:
    """E-mail addresses of active accounts with a current admin grant."""
    rows = session.scalars(
        select(Member.email)
        .join(Account, Account.member_id == Member.id)
        .join(RoleGrant, RoleGrant.member_id == Member.id)
        .where(
            RoleGrant.role == Role.ADMIN,
            RoleGrant.current_at(now),
            Account.disabled_at.is_(None),
            Member.email != "",
        )
        .distinct()
    )
    return sorted(rows)


def pull_aborted_mail(event: PullAborted, recipients: list[str], *, locale: str) -> OutgoingMail:
    """The alert, in `locale` (English where the portal has no catalog for it): what stopped, and that
    nothing was changed. The guard's own reason is quoted as the sync wrote it."""
    _ = Translations.load(str(TRANSLATIONS), [locale]).gettext
    stopped = _(
        "The %(adapter)s pull (run %(run)s) was stopped by the guard against mass removal: %(reason)s"
    ) % {"adapter": event.adapter, "run": event.sync_run_id, "reason": event.reason}
    advice = _(
        "Nothing was changed. Check in the CRM whether these members are really gone; the next pull "
        "tries again."
    )
    return OutgoingMail(
        to=tuple(recipients),
        subject=_("Member portal: CRM synchronisation stopped (mass removal)"),
        text=f"{stopped}\n\n{advice}",
    )


def pull_aborted_handler(database: Database, mailer: Mailer, *, locale: str) -> Callable[[PullAborted], None]:
    """The `PullAborted` subscriber: mails the admins in `locale`."""

    def on_pull_aborted(event: PullAborted) -> None:
        with database.transaction() as session:
            recipients = admin_addresses(session, now=utcnow())
        if not recipients:
            log.error("pull %s aborted and no admin has an e-mail address to tell", event.sync_run_id)
            return
        try:
            mailer.send(pull_aborted_mail(event, recipients, locale=locale))
        except Exception:  # the run is recorded; a mail outage must not hide the guard's own error
            log.exception(
                "could not write or send the admins the alert about aborted pull %s", event.sync_run_id
            )

    return on_pull_aborted
