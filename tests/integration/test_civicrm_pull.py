"""The first pull fills the replica from the CRM simulator over real HTTP, through the CiviCRM adapter."""

import json

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from audit.models import AuditEntry
from audit.services import verify_chain
from config import Settings
from crm_sync.adapters.civicrm import CiviCrmAdapter, CiviCrmClient
from crm_sync.composition import make_crm_port
from crm_sync.models import SyncOutcome, SyncRun
from crm_sync.ports import CrmError, CrmUnavailable
from crm_sync.pull import MassRemovalAborted, pull_everything
from crm_sync.simulator.testing import SimulatorHandle
from portal.app import create_app
from portal.core.database import Database
from portal.members.models import Member, MembershipStatus, OrgUnit, OrgUnitKind, Position
from portal.members.testing import add_members_unknown_to_the_crm


@pytest.fixture
def pulled(crm_settings: Settings) -> Database:
    app = create_app(crm_settings)
    database: Database = app.extensions["portal"].database
    port = make_crm_port(crm_settings)
    pull_everything(database, port, max_removed_share=0.02)
    port.close()
    return database


def test_first_pull_fills_org_tree_members_and_positions(pulled: Database, crm: SimulatorHandle) -> None:
    with pulled.transaction() as session:
        national = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgUnitKind.NATIONAL)).one()
        regions = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgUnitKind.REGION)).all()
        assert len(regions) == 12
        assert all(region.parent_id == national.id for region in regions)
        branches = session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgUnitKind.BRANCH)).all()
        assert all(branch.parent_id in {region.id for region in regions} for branch in branches)
        members = session.scalars(select(Member)).all()
        assert len(members) >= 380
        assert {member.status for member in members} >= {MembershipStatus.CURRENT, MembershipStatus.LAPSED}
        assert all(member.branch_id is not None for member in members)
        assert any(member.infix for member in members)
        assert all(member.sort_name for member in members)
        with_mobile = [member for member in members if member.mobile]
        assert with_mobile
        assert all(member.mobile.startswith("+") for member in with_mobile)
        assert session.scalar(select(func.count()).select_from(Position)) > 0
        run = session.scalars(select(SyncRun)).one()
        assert run.outcome == SyncOutcome.SUCCEEDED
        assert run.counts["created"] == len(members)
        assert verify_chain(session).is_intact


def test_a_second_pull_of_unchanged_data_writes_nothing(pulled: Database, crm_settings: Settings) -> None:
    with pulled.transaction() as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry))
        versions = dict(session.execute(select(Member.id, Member.version)).all())
    port = make_crm_port(crm_settings)
    run = pull_everything(pulled, port, max_removed_share=0.02)
    port.close()
    assert run.counts["updated"] == 0
    assert run.counts["created"] == 0
    assert run.counts["unchanged"] == len(versions)
    with pulled.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert dict(session.execute(select(Member.id, Member.version)).all()) == versions


def test_changed_members_are_updated_with_an_audit_diff(
    pulled: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    crm.churn(1.0, 5)
    port = make_crm_port(crm_settings)
    run = pull_everything(pulled, port, max_removed_share=0.5)
    port.close()
    assert run.counts["updated"] >= 1
    with pulled.transaction() as session:
        updates = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "member.updated_from_crm")
        ).all()
        assert updates
        assert all(
            entry.changes and all(len(pair) == 2 for pair in entry.changes.values()) for entry in updates
        )
        assert verify_chain(session).is_intact


def test_the_removal_guard_aborts_before_changing_anything(pulled: Database, crm_settings: Settings) -> None:
    with pulled.transaction() as session:
        # members the CRM does not know would all vanish: far more than 2 %
        template = session.scalars(select(Member).limit(1)).one()
        add_members_unknown_to_the_crm(session, branch_id=template.branch_id)
    with pulled.transaction() as session:
        snapshot = sorted(session.execute(select(Member.id, Member.row_hash, Member.removed_at)).all())
    port = make_crm_port(crm_settings)
    with pytest.raises(MassRemovalAborted):
        pull_everything(pulled, port, max_removed_share=0.02)
    port.close()
    with pulled.transaction() as session:
        assert (
            sorted(session.execute(select(Member.id, Member.row_hash, Member.removed_at)).all()) == snapshot
        )
        last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None
        assert last.outcome == SyncOutcome.ABORTED
        assert "would be removed" in last.error


def test_flask_crm_pull_and_status(crm_settings: Settings) -> None:
    app = create_app(crm_settings)
    runner: FlaskCliRunner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "pull"])
    assert result.exit_code == 0, result.output
    assert "Pull succeeded" in result.output
    status = runner.invoke(args=["crm", "status", "--json"])
    body = json.loads(status.output)
    assert body["members_active"] >= 380
    assert body["recent_runs"][0]["outcome"] == "succeeded"
    health = app.test_client().get("/healthz").get_json()
    assert health["last_successful_pull_age_seconds"] is not None


def test_crm_down_fails_the_run_and_leaves_the_replica(
    pulled: Database, crm_settings: Settings, crm: SimulatorHandle
) -> None:
    crm.set_faults(down=True)
    port = make_crm_port(crm_settings)
    with pytest.raises(CrmUnavailable):
        pull_everything(pulled, port, max_removed_share=0.02)
    port.close()
    with pulled.transaction() as session:
        last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc())).first()
        assert last is not None
        assert last.outcome == SyncOutcome.FAILED
        assert (
            session.scalar(select(func.count()).select_from(Member).where(Member.removed_at.is_(None))) >= 380
        )


def test_adapter_reports_refusals_and_rate_limits(crm: SimulatorHandle) -> None:
    bad_key = CiviCrmAdapter(CiviCrmClient(crm.url, api_key="wrong"))
    with pytest.raises(CrmError) as refused:
        next(iter(bad_key.fetch_org_units()))
    assert not refused.value.retryable
    crm.set_faults(rate_limit_retry_after=7)
    limited = CiviCrmAdapter(CiviCrmClient(crm.url, api_key=crm.api_key))
    with pytest.raises(CrmUnavailable) as slow_down:
        next(iter(limited.fetch_org_units()))
    assert slow_down.value.retry_after == 7
    crm.reset_faults()
    assert next(iter(limited.fetch_org_units())).records


def test_unreachable_crm_is_unavailable_not_a_crash() -> None:
    adapter = CiviCrmAdapter(CiviCrmClient("http://127.0.0.1:9", api_key="k", timeout=1))
    with pytest.raises(CrmUnavailable):
        next(iter(adapter.fetch_org_units()))
