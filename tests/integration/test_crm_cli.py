"""`flask crm …` for the outbox: push, status with outbox depth, listing, replay and discard."""

import json

from flask import Flask
from sqlalchemy import select

from crm_sync.models import OutboxMessage, OutboxStatus
from crm_sync.simulator.testing import SimulatorHandle
from portal.core.database import Database
from portal.members.models import Member


def _member_ids(database: Database, count: int) -> list[int]:
    with database.transaction() as session:
        return list(session.scalars(select(Member.id).order_by(Member.id).limit(count)))


def test_status_shows_the_outbox_and_push_drains_it(
    crm_app: Flask, synced: Database, crm: SimulatorHandle, edit_member
) -> None:
    runner = crm_app.test_cli_runner()
    for member_id in _member_ids(synced, 3):
        edit_member(member_id, city="Leeuwarden")
    status = json.loads(runner.invoke(args=["crm", "status", "--json"]).output)
    assert status["outbox"]["pending"] == 3
    assert status["outbox"]["oldest_pending_age_seconds"] is not None
    text = runner.invoke(args=["crm", "status"]).output
    assert "Outbox: 3 pending" in text
    pushed = runner.invoke(args=["crm", "push"])
    assert pushed.exit_code == 0, pushed.output
    assert '"delivered": 3' in pushed.output
    assert json.loads(runner.invoke(args=["crm", "status", "--json"]).output)["outbox"]["pending"] == 0


def test_dead_letters_are_listed_replayed_and_discarded(
    crm_app: Flask, synced: Database, crm: SimulatorHandle, edit_member
) -> None:
    runner = crm_app.test_cli_runner()
    first, second = _member_ids(synced, 2)
    bad = edit_member(first, email="geen-adres")[0]
    other = edit_member(second, email="ook-geen-adres")[0]
    runner.invoke(args=["crm", "push"])
    listing = runner.invoke(args=["crm", "outbox", "--status", "dead"]).output
    assert f"#{bad} " in listing
    assert f"#{other} " in listing
    replayed = runner.invoke(args=["crm", "replay", str(bad)])
    assert replayed.exit_code == 0
    assert "queued again" in replayed.output
    assert runner.invoke(args=["crm", "replay", "999999"]).exit_code != 0
    discarded = runner.invoke(args=["crm", "discard", str(other)])
    assert discarded.exit_code == 0, discarded.output
    with synced.transaction() as session:
        assert session.get_one(OutboxMessage, bad).status is OutboxStatus.PENDING
        assert session.get_one(OutboxMessage, other).status is OutboxStatus.DISCARDED
        assert session.get_one(Member, second).row_hash == ""  # the next pull restores the CRM's value
    pulled = runner.invoke(args=["crm", "pull"])
    assert pulled.exit_code == 0, pulled.output
    with synced.transaction() as session:
        assert session.get_one(Member, second).email != "ook-geen-adres"


def test_pull_full_and_simulator_churn_still_work(
    crm_app: Flask, synced: Database, crm: SimulatorHandle
) -> None:
    runner = crm_app.test_cli_runner()
    churned = runner.invoke(args=["crm", "simulator-churn", "--percent", "1", "--db", str(crm.db_path)])
    assert churned.exit_code == 0, churned.output
    assert "contacts_changed" in churned.output
    full = runner.invoke(args=["crm", "pull", "--full"])
    assert full.exit_code == 0, full.output
    assert "Pull succeeded" in full.output
