"""Telling the admins that a CRM pull stopped on purpose (the mass-removal guard), by e-mail.

The CRM sync cannot know who the admins are (that is this package's business), so it publishes
`PullAborted` after recording the run, and this subscriber mails every active account that holds a
current admin grant. A failing mail server is logged, never raised: the run is recorded either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

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


def pull_aborted_mail(event: PullAborted, recipients: list[str]) -> OutgoingMail:
    """The alert: what stopped, and that nothing was changed."""
    text = (
        f"De {event.adapter}-synchronisatie (run {event.sync_run_id}) is gestopt door de "
        f"bewaking op massaal verwijderen: {event.reason}\n\n"
        "Er is niets gewijzigd. Controleer in het CRM of deze leden echt weg zijn; de volgende "
        "pull probeert het opnieuw.\n\n"
        f"The {event.adapter} pull (run {event.sync_run_id}) was stopped by the mass-removal guard; "
        "nothing was changed."
    )
    return OutgoingMail(
        to=tuple(recipients),
        subject="Ledenportaal: CRM-synchronisatie gestopt (massaal verwijderen)",
        text=text,
    )


def pull_aborted_handler(database: Database, mailer: Mailer) -> Callable[[PullAborted], None]:
    """The `PullAborted` subscriber: mails the admins."""

    def on_pull_aborted(event: PullAborted) -> None:
        with database.transaction() as session:
            recipients = admin_addresses(session, now=utcnow())
        if not recipients:
            log.error("pull %s aborted and no admin has an e-mail address to tell", event.sync_run_id)
            return
        try:
            mailer.send(pull_aborted_mail(event, recipients))
        except Exception:  # the run is recorded; a mail outage must not hide the guard's own error
            log.exception("could not mail the admins about aborted pull %s", event.sync_run_id)

    return on_pull_aborted
