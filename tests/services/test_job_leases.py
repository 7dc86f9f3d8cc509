"""Scheduled jobs: the schedule, and the database lease that keeps two processes from running one job."""

import threading
from datetime import timedelta

import pytest
import time_machine
from flask import Flask

from crm_sync.leases import job_lease
from portal import jobs
from portal.core.clock import utcnow
from portal.core.database import Database


@pytest.mark.both_backends
def test_a_job_lease_is_held_by_one_holder_at_a_time(database: Database) -> None:
    ttl = timedelta(minutes=5)
    results: list[bool] = []
    inside = threading.Event()
    release = threading.Event()

    def other() -> None:
        inside.wait(5)
        with job_lease(database, "crm-nightly-pull", holder="b", ttl=ttl) as held:
            results.append(held)
        release.set()

    thread = threading.Thread(target=other)
    thread.start()
    with job_lease(database, "crm-nightly-pull", holder="a", ttl=ttl) as held:
        assert held
        inside.set()
        release.wait(10)
    thread.join()
    assert results == [False]
    with job_lease(database, "crm-nightly-pull", holder="b", ttl=ttl) as held:
        assert held  # released at the end of the first run


def test_a_lease_of_a_dead_process_expires_on_sqlite(database: Database) -> None:
    ttl = timedelta(minutes=5)
    lease = job_lease(database, "crm-outbox-retry", holder="dead", ttl=ttl)
    assert lease.__enter__()  # the holder dies without releasing
    with job_lease(database, "crm-outbox-retry", holder="alive", ttl=ttl) as held:
        assert not held
    later = utcnow() + ttl + timedelta(seconds=1)
    with time_machine.travel(later), job_lease(database, "crm-outbox-retry", holder="alive", ttl=ttl) as held:
        assert held


def test_the_schedule_runs_the_pull_at_half_past_two_and_the_outbox_every_30_seconds(app: Flask) -> None:
    by_name = {job.name: job for job in jobs.SCHEDULE}
    assert by_name["crm-nightly-pull"].when == {"hour": 2, "minute": 30}
    assert by_name["crm-outbox-retry"].when == {"seconds": 30}
    assert by_name["crm-weekly-reconciliation"].trigger == "cron"
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = jobs.build_scheduler(app, BackgroundScheduler(timezone="Europe/Amsterdam"))
    nightly = scheduler.get_job("crm-nightly-pull")
    assert str(nightly.trigger.timezone) == "Europe/Amsterdam"
    assert "hour='2', minute='30'" in str(nightly.trigger)


def test_flask_jobs_once_runs_a_job_under_its_lease(crm_app: Flask, synced: Database) -> None:
    result = crm_app.test_cli_runner().invoke(args=["jobs", "once", "crm-outbox-retry"])
    assert result.exit_code == 0, result.output
    with job_lease(synced, "crm-outbox-retry", holder="someone", ttl=timedelta(minutes=1)) as held:
        assert held
        busy = crm_app.test_cli_runner().invoke(args=["jobs", "once", "crm-outbox-retry"])
        assert busy.exit_code != 0
        assert "another process" in busy.output


def test_the_demo_runs_the_scheduler_in_process(settings) -> None:  # type: ignore[no-untyped-def]
    from portal.app import create_app

    application = create_app(settings.replace(run_scheduler_in_process=True))
    scheduler = application.extensions[jobs.SCHEDULER_KEY]
    try:
        assert scheduler.running
        assert {job.id for job in scheduler.get_jobs()} == {job.name for job in jobs.SCHEDULE}
    finally:
        scheduler.shutdown(wait=False)
        application.extensions["portal"].database.dispose()
