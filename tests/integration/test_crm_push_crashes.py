"""Crashes and races around the push, with real processes: SIGKILL between commit and push (I1), between
the CRM's write and the `delivered` mark (I3), timeouts (I6), two relays at once (I9)."""

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from config import Settings
from crm_sync.composition import make_crm_port
from crm_sync.models import OutboxMessage, OutboxStatus
from crm_sync.push import deliver_now, drain
from crm_sync.push.backoff import CAP_SECONDS
from crm_sync.simulator.testing import SimulatorHandle
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.members.models import Member

CHILD = """
import sys, time
from config import load_settings
from portal.app import create_app
from crm_sync.composition import make_crm_port
from crm_sync.push import drain
from portal.core.actors import Actor
from portal.members.models import Member
from portal.members.services import update_member

app = create_app(load_settings())
database = app.extensions["portal"].database
mode, member_id = sys.argv[1], int(sys.argv[2])
if mode == "edit":
    with database.transaction() as session:
        update_member(session, actor=Actor.system("child"), member=session.get_one(Member, member_id),
                      changes={"city": "Na de crash"})
    print("committed", flush=True)   # the view would call push_now here; the process dies first
    time.sleep(60)
else:
    port = make_crm_port(app.extensions["portal"].settings)
    real = port.push_member_changes
    def applied_then_hang(changes, **kw):
        outcomes = real(changes, **kw)
        print("applied", flush=True)  # the CRM has it; the outbox does not know yet
        time.sleep(60)
        return outcomes
    port.push_member_changes = applied_then_hang
    drain(database, port)
"""


def _child_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_SECRET_KEY": settings.secret_key,
        "PORTAL_INSTANCE_PATH": str(settings.instance_path),
        "PORTAL_DATABASE_URL": settings.database_url,
        "PORTAL_CRM_URL": settings.crm_url,
        "PORTAL_CRM_API_KEY": settings.crm_api_key,
    }


def _run_until(settings: Settings, mode: str, member_id: int, line: str) -> None:
    """Start the child, wait for `line`, then SIGKILL it: no chance to clean up."""
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(member_id)],
        stdout=subprocess.PIPE,
        env=_child_env(settings),
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == line
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def _first_member(database: Database) -> tuple[int, str]:
    with database.transaction() as session:
        member = session.scalars(select(Member).order_by(Member.id)).first()
        assert member is not None
        return member.id, member.crm_id


def _city(crm: SimulatorHandle, crm_id: str) -> str:
    import sqlite3

    with sqlite3.connect(crm.db_path) as connection:
        return str(
            connection.execute(
                "SELECT city FROM civicrm_address WHERE contact_id = ? AND is_primary = 1", (int(crm_id),)
            ).fetchone()[0]
        )


def test_I1_killed_between_commit_and_push_the_edit_is_delivered_after_restart(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    member_id, crm_id = _first_member(synced)
    _run_until(crm_settings, "edit", member_id, "committed")
    assert _city(crm, crm_id) != "Na de crash"
    port = make_crm_port(crm_settings)
    assert drain(synced, port).delivered == 1  # the restarted relay finds it in the outbox
    port.close()
    assert _city(crm, crm_id) == "Na de crash"


def test_I3_relay_killed_after_the_crm_applied_redelivers_harmlessly(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    member_id, crm_id = _first_member(synced)
    edit_member(member_id, city="Eenmaal")
    _run_until(crm_settings, "relay", member_id, "applied")
    assert _city(crm, crm_id) == "Eenmaal"
    crm.clear_requests()
    port = make_crm_port(crm_settings)
    assert drain(synced, port).claimed == 0  # the dead relay's claim still stands …
    with time_machine.travel(utcnow() + timedelta(minutes=3), tick=True):
        assert drain(synced, port).delivered == 1  # … until it expires; then delivered again
    port.close()
    assert crm.requests() == []  # second delivery, nothing applied twice


def test_I6_a_timeout_is_retried_with_capped_jittered_back_off(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    member_id, _crm_id = _first_member(synced)
    ids = edit_member(member_id, city="Traag")
    crm.set_faults(latency_ms=1500)
    port = make_crm_port(crm_settings)
    with time_machine.travel(utcnow(), tick=False) as clock:
        for attempt in range(1, 14):
            start = utcnow()
            deliver_now(synced, port, ids, timeout=0.5) if attempt == 1 else drain(synced, port, timeout=0.5)
            with synced.transaction() as session:
                message = session.get_one(OutboxMessage, ids[0])
                assert message.status is OutboxStatus.PENDING
                assert message.attempts == attempt
                wait = (message.next_attempt_at - start).total_seconds()
            assert 0 <= wait <= max(min(CAP_SECONDS, 2.0**attempt), 5.0)  # full jitter under the cap
            clock.shift(timedelta(seconds=CAP_SECONDS + 1))
    crm.reset_faults()
    port.close()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_I9_two_relays_on_postgresql_never_send_a_message_twice(
    synced: Database, crm_settings: Settings, crm: SimulatorHandle, edit_member
) -> None:
    with synced.transaction() as session:
        members = session.scalars(select(Member.id).order_by(Member.id).limit(150)).all()
    for member_id in members:
        edit_member(member_id, given_name=f"Uniek{member_id}")
    crm.clear_requests()

    def relay() -> None:
        port = make_crm_port(crm_settings)
        while drain(synced, port, batch_size=10).claimed:
            pass
        port.close()

    relays = [threading.Thread(target=relay) for _ in range(2)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join(timeout=120)
    sent = [
        record["first_name"]
        for request in crm.requests("Contact", "save")
        for record in request["params"]["records"]
    ]
    assert sorted(sent) == sorted(f"Uniek{member_id}" for member_id in members)  # each exactly once
