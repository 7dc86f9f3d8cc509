"""The CRM's scheduled work, as plain functions of the portal's state (the schedule is `portal/jobs.py`)."""

from __future__ import annotations

import logging
from datetime import timedelta

from crm_sync.composition import make_crm_port
from crm_sync.models import SyncKind
from crm_sync.pull import MassRemovalAborted, pull_full, pull_incremental
from crm_sync.push import drain, outbox_summary
from portal.core.extension import PortalState

log = logging.getLogger(__name__)
OUTBOX_BUDGET_SECONDS = 25.0  # the retry job runs every 30 s; leave it room to finish
ALERT_PENDING_SECONDS = 15 * 60  # security plan §8: alert when the oldest pending edit is older


def nightly_pull(state: PortalState) -> None:
    """The incremental pull (a full one the first time)."""
    settings = state.settings
    port = make_crm_port(settings)
    try:
        pull_incremental(
            state.database,
            port,
            max_removed_share=settings.pull_max_removed_share,
            overlap=timedelta(minutes=settings.pull_overlap_minutes),
            events=state.events,
        )
    except MassRemovalAborted:
        log.error("the nightly pull was aborted by the mass-removal guard; see `flask crm status`")
    finally:
        port.close()


def weekly_reconciliation(state: PortalState) -> None:
    """A full pull with the id-set comparison that finds members the CRM deleted outright."""
    settings = state.settings
    port = make_crm_port(settings)
    try:
        pull_full(
            state.database,
            port,
            max_removed_share=settings.pull_max_removed_share,
            events=state.events,
            kind=SyncKind.RECONCILE,
        )
    except MassRemovalAborted:
        log.error("the weekly reconciliation was aborted by the mass-removal guard")
    finally:
        port.close()


def retry_outbox(state: PortalState) -> None:
    """Deliver the outbox messages that are due (back-off and Retry-After respected)."""
    port = make_crm_port(state.settings)
    try:
        report = drain(
            state.database,
            port,
            timeout=state.settings.crm_timeout_seconds,
            budget_seconds=OUTBOX_BUDGET_SECONDS,
        )
    finally:
        port.close()
    if report.claimed:
        log.info("outbox: %s", report.as_dict())
    with state.database.transaction() as session:
        summary = outbox_summary(session)
    age = summary["oldest_pending_age_seconds"]
    if (age is not None and age > ALERT_PENDING_SECONDS) or summary["dead"]:
        log.warning(
            "outbox needs attention: %d pending (oldest %s s), %d dead, %d in conflict",
            summary["pending"],
            age,
            summary["dead"],
            summary["conflict"],
        )
