"""Meetings' scheduled work, as plain functions of the portal's state (the schedule is `portal/jobs.py`)."""

from __future__ import annotations

import logging

from portal.core.actors import Actor
from portal.core.clock import today
from portal.core.extension import PortalState
from portal.meetings import services

log = logging.getLogger(__name__)
JOB_ACTOR = Actor.system("meetings-job")


def freeze_due_rolls(state: PortalState) -> list[int]:
    """Freeze every voter roll whose cut-off date has passed."""
    with state.database.transaction() as session:
        return services.freeze_due_rolls(session, actor=JOB_ACTOR, today=today())


def pseudonymise_attendance(state: PortalState) -> list[int]:
    """Pseudonymise attendance past each meeting's retention period (default 90 days); counts stay."""
    with state.database.transaction() as session:
        return services.pseudonymise_expired_attendance(session)


def nightly(state: PortalState) -> None:
    """The nightly meetings job: freeze due rolls, then pseudonymise expired attendance (two transactions)."""
    frozen = freeze_due_rolls(state)
    pseudonymised = pseudonymise_attendance(state)
    log.info("meetings nightly: froze rolls %s, pseudonymised meetings %s", frozen, pseudonymised)
