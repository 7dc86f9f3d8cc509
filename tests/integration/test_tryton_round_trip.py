"""The Tryton adapter against a real trytond (own venv, SQLite, loopback): pull, edit, push, conflicts."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from config import Settings
from crm_sync.adapters.tryton import TrytonAdapter, TrytonClient
from crm_sync.adapters.tryton.testing import TrytondHandle
from crm_sync.composition import make_crm_port
from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict
from crm_sync.ports import CrmCredentialsRefused
from crm_sync.pull import pull_full, pull_incremental
from crm_sync.push import deliver_now
from portal.app import create_app
from portal.core.actors import Actor
from portal.core.database import Database
from portal.members.models import Member, OrgUnit, OrgUnitKind, Position, PositionFunction
from portal.members.services import update_member

pytestmark = pytest.mark.slow


@pytest.fixture
def pulled(tryton_settings: Settings) -> Database:
    app = create_app(tryton_settings)
    database: Database = app.extensions["portal"].database
    port = make_crm_port(tryton_settings)
    run = pull_full(database, port, max_removed_share=0.02)
    port.close()
    assert run.counts["created"] == 24
    return database


def _edit(database: Database, member_id: int, **changes: object) -> list[int]:
    with database.transaction() as session:
        member = session.get_one(Member, member_id)
        return update_member(session, actor=Actor.system("test"), member=member, changes=changes).message_ids


def _party(tryton: TrytondHandle, party_id: str) -> dict[str, object]:
    client = tryton.client()
    row = client.call("model.party.party.read", [int(party_id)], ["name", "contact_mechanisms"], {})[0]
    mechanisms = client.call(
        "model.party.contact_mechanism.read", row["contact_mechanisms"], ["type", "value"], {}
    )
    addresses = client.call(
        "model.party.address.search_read",
        [["party", "=", int(party_id)]],
        0,
        None,
        None,
        ["city", "postal_code"],
        {},
    )
    client.close()
    return {"name": row["name"], **{m["type"]: m["value"] for m in mechanisms}, "city": addresses[0]["city"]}


def test_pull_maps_parties_branches_positions_and_status(pulled: Database) -> None:
    with pulled.transaction() as session:
        branches = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgUnitKind.BRANCH)).all()
        assert {branch.code for branch in branches} == {"GM0344", "GM0307", "GM0392"}
        assert all(branch.parent_id is not None for branch in branches)
        member = session.scalars(select(Member).where(Member.member_number == "900101")).one()
        assert (member.given_name, member.infix, member.family_name) == ("Anna", "de", "Vries")
        assert member.mobile == "+31612340001"
        assert member.branch_id in {b.id for b in branches}
        assert member.directory_consent is True
        chairs = session.scalars(select(Position).where(Position.function == PositionFunction.CHAIR)).all()
        assert len(chairs) == 3


def test_round_trip_edit_in_the_portal_lands_in_tryton(
    pulled: Database, tryton_settings: Settings, tryton: TrytondHandle
) -> None:
    with pulled.transaction() as session:
        member = session.scalars(select(Member).where(Member.member_number == "900102")).one()
    ids = _edit(
        pulled,
        member.id,
        given_name="Pieter",
        infix="van",
        email="pieter@example.org",
        city="Zeist",
        interests=["Klimaat"],
        do_not_call=True,
    )
    port = make_crm_port(tryton_settings)
    report = deliver_now(pulled, port, ids, timeout=5)
    assert report.delivered == 1, report
    party = _party(tryton, member.crm_id)
    assert party["name"] == "Berg, Pieter van"
    assert party["email"] == "pieter@example.org"
    assert party["city"] == "Zeist"
    run = pull_incremental(
        pulled, port, max_removed_share=0.02
    )  # reads back what was pushed: nothing changes
    port.close()
    assert run.counts["updated"] == 0
    with pulled.transaction() as session:
        again = session.get_one(Member, member.id)
        assert (again.interests, again.do_not_call) == (["Klimaat"], True)


def test_a_stale_edit_gives_a_recorded_conflict(
    pulled: Database, tryton_settings: Settings, tryton: TrytondHandle
) -> None:
    with pulled.transaction() as session:
        member = session.scalars(select(Member).where(Member.member_number == "900103")).one()
    client = tryton.client()  # the administration changes the e-mail in Tryton after the portal's pull
    mechanism = client.call(
        "model.party.contact_mechanism.search",
        [["party", "=", int(member.crm_id)], ["type", "=", "email"]],
        0,
        None,
        None,
        {},
    )
    client.call("model.party.contact_mechanism.write", mechanism, {"value": "kantoor@example.org"}, {})
    client.close()
    ids = _edit(pulled, member.id, email="thuis@example.org")
    port = make_crm_port(tryton_settings)
    report = deliver_now(pulled, port, ids)
    port.close()
    assert report.conflicts == 1
    with pulled.transaction() as session:
        assert session.get_one(OutboxMessage, ids[0]).status is OutboxStatus.CONFLICT
        conflict = session.scalars(select(SyncConflict)).one()
        assert (conflict.field, conflict.crm_value, conflict.portal_value) == (
            "email",
            "kantoor@example.org",
            "thuis@example.org",
        )
    assert _party(tryton, member.crm_id)["email"] == "kantoor@example.org"  # nothing overwritten


def test_a_write_between_read_and_write_trips_the_timestamp(
    pulled: Database, tryton_settings: Settings, tryton: TrytondHandle
) -> None:
    with pulled.transaction() as session:
        member = session.scalars(select(Member).where(Member.member_number == "900104")).one()
    ids = _edit(pulled, member.id, city="Gouda")
    port = make_crm_port(tryton_settings)
    assert isinstance(port, TrytonAdapter)
    original = port.current_values

    def meanwhile(row, details):  # type: ignore[no-untyped-def]
        other = tryton.client()  # someone saves the party in Tryton right after our read
        other.call("model.party.party.write", [row["id"]], {"name": row["name"] + " "}, {})
        other.close()
        return original(row, details)

    port.current_values = meanwhile  # type: ignore[method-assign]
    report = deliver_now(pulled, port, ids)
    port.close()
    assert report.conflicts == 1
    with pulled.transaction() as session:
        assert "modified in the meanwhile" in session.get_one(OutboxMessage, ids[0]).last_error


def test_a_wrong_password_is_tried_once_then_the_client_backs_off(tryton: TrytondHandle) -> None:
    client = TrytonClient(tryton.url, database=tryton.database, username="admin", password="wrong")
    with pytest.raises(CrmCredentialsRefused):
        client.call("model.party.party.search_count", [], 0, None, {})
    started = datetime.now(UTC)
    with pytest.raises(CrmCredentialsRefused, match="cooling down"):
        client.call("model.party.party.search_count", [], 0, None, {})
    assert datetime.now(UTC) - started < timedelta(seconds=1)  # refused locally: Tryton was not asked again
    client.close()
    good = tryton.client()
    assert (
        good.call("model.party.party.search_count", [], 0, None, {}) > 0
    )  # one failure does not lock the account
    good.close()
