"""The glue a view calls after its commit: try the push at once, with the short push timeout."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from crm_sync.composition import make_crm_port
from crm_sync.push import RelayReport, deliver_now
from portal.core.extension import state

log = logging.getLogger(__name__)


def push_now(message_ids: Sequence[int]) -> RelayReport:
    """Deliver just-committed outbox messages now; whatever fails waits for the retry job (never raises)."""
    if not message_ids:
        return RelayReport()
    portal = state()
    try:
        port = make_crm_port(portal.settings)
    except Exception:
        log.exception("no CRM adapter; the retry job will deliver messages %s", list(message_ids))
        return RelayReport()
    try:
        return deliver_now(
            portal.database, port, message_ids, timeout=portal.settings.crm_push_timeout_seconds
        )
    except Exception:  # the edit is safe in the outbox; the member must not see an error page for this
        log.exception("immediate push failed; the retry job will deliver messages %s", list(message_ids))
        return RelayReport()
    finally:
        port.close()
