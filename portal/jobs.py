"""The schedule: every periodic job of the portal in one list, run by APScheduler 3.

`flask jobs run` runs the scheduler as its own process (production: exactly one, though a second
does no harm); `make demo` runs it inside the web process (`settings.run_scheduler_in_process`).
Every job holds a database lease while it runs, so two processes never run the same job at once.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import click
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import AppGroup

from crm_sync import jobs as crm_jobs
from crm_sync.leases import job_lease
from portal.auth import jobs as auth_jobs
from portal.core.extension import PortalState, state
from portal.meetings import jobs as meeting_jobs

log = logging.getLogger(__name__)
SCHEDULER_KEY = "portal.scheduler"


@dataclass(frozen=True)
class Job:
    """One periodic job: an APScheduler trigger ("cron" or "interval" with its arguments) and a function."""

    name: str
    trigger: str
    when: dict[str, Any]
    run: Callable[[PortalState], None]
    lease: timedelta
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


SCHEDULE: list[Job] = [
    Job(
        "crm-nightly-pull",
        "cron",
        {"hour": 2, "minute": 30},
        crm_jobs.nightly_pull,
        timedelta(hours=2),
        "incremental pull from the CRM (02:30 in the portal's time zone)",
    ),
    Job(
        "crm-outbox-retry",
        "interval",
        {"seconds": 30},
        crm_jobs.retry_outbox,
        timedelta(minutes=5),
        "deliver outbox messages that are due",
    ),
    Job(
        "crm-weekly-reconciliation",
        "cron",
        {"day_of_week": "sun", "hour": 4, "minute": 0},
        crm_jobs.weekly_reconciliation,
        timedelta(hours=4),
        "full pull with id-set reconciliation",
    ),
    Job(
        "auth-purge-sessions",
        "cron",
        {"hour": 3, "minute": 45},
        auth_jobs.purge_login_sessions,
        timedelta(minutes=30),
        "delete lapsed anonymous sessions and sign-ins older than 90 days",
    ),
    Job(
        "meetings-nightly",
        "cron",
        {"hour": 5, "minute": 15},
        meeting_jobs.nightly,
        timedelta(hours=1),
        "freeze voter rolls past their cut-off date; pseudonymise attendance past its retention",
    ),
]


def holder_name() -> str:
    """Who holds a lease: host and process."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def run_job(app: Flask, job: Job) -> bool:
    """Run one job under its lease in an app context; False when another process holds the lease."""
    with app.app_context():
        portal = state()
        with job_lease(portal.database, job.name, holder=holder_name(), ttl=job.lease) as held:
            if not held:
                return False
            try:
                job.run(portal)
            except Exception:
                log.exception("job %s failed", job.name)
            return True


def build_scheduler(app: Flask, scheduler: BaseScheduler) -> BaseScheduler:
    """Add every job of the schedule to `scheduler`, in the portal's time zone."""
    timezone = app.extensions["portal"].settings.timezone
    for job in SCHEDULE:
        scheduler.add_job(
            run_job,
            job.trigger,
            args=(app, job),
            id=job.name,
            name=job.description or job.name,
            timezone=timezone,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=600,
            **job.when,
            **job.options,
        )
    return scheduler


jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


@jobs_cli.command("run")
def run_command() -> None:
    """Run the scheduler in this process until Ctrl-C."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = build_scheduler(app, BlockingScheduler(timezone=state().settings.timezone))
    for job in scheduler.get_jobs():
        click.echo(f"{job.id:<28} {job.trigger}")
    click.echo("Scheduler running; Ctrl-C stops it.")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


@jobs_cli.command("list")
def list_command() -> None:
    """Show the schedule."""
    for job in SCHEDULE:
        click.echo(f"{job.name:<28} {job.trigger} {job.when}  {job.description}")


@jobs_cli.command("once")
@click.argument("name")
def once_command(name: str) -> None:
    """Run one job now (under its lease), e.g. `flask jobs once crm-outbox-retry`."""
    job = next((job for job in SCHEDULE if job.name == name), None)
    if job is None:
        raise click.ClickException(f"no job {name!r}; see `flask jobs list`")
    if not run_job(current_app._get_current_object(), job):  # type: ignore[attr-defined]
        raise click.ClickException(f"{name} is running in another process")
    click.echo(f"{name} done")


def start_in_process(app: Flask) -> BackgroundScheduler:
    """Start the scheduler in a background thread of this (web) process."""
    timezone = app.extensions["portal"].settings.timezone
    scheduler = build_scheduler(app, BackgroundScheduler(timezone=timezone))
    scheduler.start()
    app.extensions[SCHEDULER_KEY] = scheduler
    atexit.register(lambda: scheduler.shutdown(wait=False) if scheduler.running else None)
    log.info("scheduler running in process: %s", ", ".join(job.name for job in SCHEDULE))
    return scheduler


def init_app(app: Flask) -> None:
    """Register `flask jobs`, and start the in-process scheduler when the settings ask for it."""
    app.cli.add_command(jobs_cli)
    if app.extensions["portal"].settings.run_scheduler_in_process:
        start_in_process(app)
