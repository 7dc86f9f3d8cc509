"""Scheduled auth work (listed in portal/jobs.py)."""

from __future__ import annotations

import logging

from portal.auth.services.sessions import purge_sessions
from portal.core.clock import utcnow
from portal.core.extension import PortalState

log = logging.getLogger(__name__)


def purge_login_sessions(state: PortalState) -> None:
    """Delete lapsed anonymous sessions and signed-in sessions older than 90 days."""
    with state.database.transaction() as session:
        count = purge_sessions(session, utcnow())
    log.info("purged %d login sessions", count)
