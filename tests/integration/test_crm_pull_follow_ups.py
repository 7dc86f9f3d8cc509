"""What a pull sets off beyond the replica: admins mailed when the mass-removal guard trips, accounts
following a CRM merge, and the member indexes a first load builds afterwards (also when it fails)."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

from audit.models import AuditEntry
from config import Settings
from crm_sync import mapping
from crm_sync.composition import make_crm_port
from crm_sync.models import SyncOutcome, SyncRun
from crm_sync.ports import CrmMember, CrmPort, CrmUnavailable, Page
from crm_sync.pull import MassRemovalAborted, pull_full, pull_incremental
from crm_sync.simulator.testing import SimulatorHandle
from portal.auth.models import Account, LoginSession, SessionStage
from portal.auth.roles import Role
from portal.auth.services.sessions import ClientInfo, create_session
from portal.auth.testing import make_account
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.core.events import EventBus
from portal.core.mailcatcher import MailCatcher
from portal.members.models import Member
from portal.members.testing import add_members_unknown_to_the_crm

pytestmark = pytest.mark.both_backends  # the first load takes a different path on each database


def _events(app: Flask) -> EventBus:
    bus: EventBus = app.extensions["portal"].events
    return bus


def _sim(crm: SimulatorHandle, sql: str, *args: object) -> None:
    with sqlite3.connect(crm.db_path) as connection:
        connection.execute(sql, args)


def _member_indexes(database: Database) -> set[str]:
    with database.engine.connect() as connection:
        return {str(index["name"]) for index in inspect(connection).get_indexes("members")}


def _declared_indexes() -> set[str]:
    return {str(index.name) for index in Member.__table__.indexes}


def test_the_removal_guard_mails_the_admins(
    synced: Database, crm_app: Flask, crm_settings: Settings, mail: MailCatcher
) -> None:
    with closing(synced.session(write=True)) as session:
        _admin, credentials = make_account(
            session, roles=[(Role.ADMIN, None)], totp=False, email="beheer@example.nl"
        )
        template = session.scalars(select(Member).where(Member.crm_id.is_not(None)).limit(1)).one()
        add_members_unknown_to_the_crm(session, branch_id=template.branch_id)  # far more than 2 %
        session.commit()
    with closing(make_crm_port(crm_settings)) as port, pytest.raises(MassRemovalAborted):
        pull_full(synced, port, max_removed_share=0.02, events=_events(crm_app))
    [alert] = mail.wait_for(1)
    assert credentials.email in alert.message["To"]
    assert "massaal verwijderen" in alert.message["Subject"]
    assert "would be removed" in alert.message.get_content()
    with synced.transaction() as session:
        last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None
        assert last.outcome == SyncOutcome.ABORTED


def _merge_in_crm(crm: SimulatorHandle, merged_crm_id: str, survivor_crm_id: str) -> None:
    _sim(
        crm,
        "UPDATE civicrm_contact SET is_deleted = 1, modified_date = datetime('now') WHERE id = ?",
        int(merged_crm_id),
    )
    _sim(
        crm,
        "INSERT INTO sim_merged_to (contact_id, survivor_id) VALUES (?, ?)",
        int(merged_crm_id),
        int(survivor_crm_id),
    )


def _two_members(database: Database) -> tuple[Member, Member]:
    with database.transaction() as session:
        merged, survivor = session.scalars(select(Member).order_by(Member.id).limit(2)).all()
        session.expunge_all()
        return merged, survivor


def test_the_account_of_a_merged_member_moves_to_the_survivor(
    synced: Database, crm_app: Flask, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    merged, survivor = _two_members(synced)
    with closing(synced.session(write=True)) as session:
        account, _credentials = make_account(session, session.get_one(Member, merged.id), totp=False)
    _merge_in_crm(crm, merged.crm_id, survivor.crm_id)
    with closing(make_crm_port(crm_settings)) as port:
        run = pull_incremental(synced, port, max_removed_share=0.02, events=_events(crm_app))
    assert run.counts["merged"] == 1
    with synced.transaction() as session:
        moved = session.get_one(Account, account.id)
        assert moved.member_id == survivor.id
        assert moved.disabled_at is None
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "account.relinked_after_merge")
        ).one()
        assert entry.target_id == str(account.id)


def test_a_merge_onto_a_member_with_an_account_disables_the_other_account(
    synced: Database, crm_app: Flask, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    merged, survivor = _two_members(synced)
    with closing(synced.session(write=True)) as session:
        loser, _ = make_account(session, session.get_one(Member, merged.id), totp=False)
        keeper, _ = make_account(session, session.get_one(Member, survivor.id), totp=False)
        signed_in, _token = create_session(
            session,
            stage=SessionStage.FULLY_AUTHENTICATED,
            account_id=loser.id,
            client=ClientInfo(ip="127.0.0.1", user_agent="test"),
            now=utcnow(),
        )
        session.commit()
    _merge_in_crm(crm, merged.crm_id, survivor.crm_id)
    with closing(make_crm_port(crm_settings)) as port:
        pull_incremental(synced, port, max_removed_share=0.02, events=_events(crm_app))
    with synced.transaction() as session:
        disabled = session.get_one(Account, loser.id)
        kept = session.get_one(Account, keeper.id)
        assert disabled.member_id == merged.id  # nothing moved: an admin decides
        assert disabled.disabled_at is not None
        assert f"account {keeper.id}" in disabled.disabled_reason
        ended = session.get_one(LoginSession, signed_in.id)
        assert (ended.ended_at is not None, ended.end_reason) == (True, "account_disabled")
        assert (kept.member_id, kept.disabled_at) == (survivor.id, None)
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "account.disabled_after_merge")
            )
            == 1
        )


def test_a_first_load_leaves_every_member_index_in_place(synced: Database) -> None:
    assert _declared_indexes() <= _member_indexes(synced)


def test_a_first_load_stores_the_values_it_hashed(synced: Database) -> None:
    """The bulk path (executemany / COPY) stores dates, enums and lists as an ORM write would."""
    with synced.transaction() as session:
        members = session.scalars(select(Member).where(Member.removed_at.is_(None))).all()
        assert len(members) >= 380
        for member in members:
            branch = member.branch.crm_id if member.branch is not None else None
            assert mapping.row_hash(mapping.replica_values(member), branch, False) == member.row_hash
            assert member.synced_at is not None
            assert member.synced_at.tzinfo is not None
            assert member.version == 1


class _FailsAfterOnePage:
    """The real adapter, but the member stream breaks after its first page."""

    def __init__(self, port: CrmPort) -> None:
        self._port = port

    def __getattr__(self, name: str) -> object:
        return getattr(self._port, name)

    def fetch_members(self, **options: object) -> Iterator[Page[CrmMember]]:
        pages = self._port.fetch_members(**options)  # type: ignore[arg-type]
        yield next(iter(pages))
        raise CrmUnavailable("CRM went away in the middle of the first load")


def test_a_failed_first_load_leaves_the_replica_empty_and_its_indexes_in_place(
    crm_app: Flask, crm_settings: Settings
) -> None:
    database: Database = crm_app.extensions["portal"].database
    with closing(make_crm_port(crm_settings)) as port, pytest.raises(CrmUnavailable):
        pull_full(database, _FailsAfterOnePage(port), max_removed_share=0.02)  # type: ignore[arg-type]
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0
    assert _declared_indexes() <= _member_indexes(database)


def test_a_pull_rebuilds_member_indexes_a_killed_first_load_left_out(
    synced: Database, crm_settings: Settings
) -> None:
    [index] = [index for index in Member.__table__.indexes if index.name == "ix_members_sort_name"]
    with synced.transaction() as session:
        index.drop(session.connection())
    assert "ix_members_sort_name" not in _member_indexes(synced)
    with closing(make_crm_port(crm_settings)) as port:
        pull_full(synced, port, max_removed_share=0.02)
    assert _declared_indexes() <= _member_indexes(synced)
