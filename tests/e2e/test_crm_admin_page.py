"""The sync administration page: admins see runs, dead letters and conflicts, and replay or discard."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_sync.models import OutboxMessage, OutboxStatus, SyncConflict, SyncKind, SyncOutcome, SyncRun
from portal.auth.roles import Role
from portal.auth.testing import csrf_from
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.members.services import update_member


def _dead_and_conflicting(db_session: Session, member_factory) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    first, second = member_factory(city="Utrecht"), member_factory(city="Zeist")
    editor = Actor.system("test")
    (dead,) = update_member(db_session, actor=editor, member=first, changes={"city": "Ede"}).message_ids
    (conflicting,) = update_member(
        db_session, actor=editor, member=second, changes={"city": "Epe"}
    ).message_ids
    db_session.get_one(OutboxMessage, dead).status = OutboxStatus.DEAD
    db_session.get_one(OutboxMessage, dead).last_error = "CiviCRM refused Contact.save (500)"
    db_session.get_one(OutboxMessage, conflicting).status = OutboxStatus.CONFLICT
    db_session.add(
        SyncConflict(
            member_id=second.id, outbox_message_id=conflicting, field="city", detected_by="pull",
            portal_value="Epe", crm_value="Elst", base_value="Zeist", detected_at=utcnow(), resolution="",
        )
    )  # fmt: skip
    db_session.commit()
    return dead, conflicting


def test_admins_see_the_outbox_and_replay_or_discard(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session, member_factory
) -> None:
    dead, conflicting = _dead_and_conflicting(db_session, member_factory)
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    page = admin.get("/admin/sync/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "CiviCRM refused Contact.save" in html
    assert "Elst" in html  # the conflicting CRM value
    token = csrf_from(html)
    replayed = admin.post(f"/admin/sync/outbox/{dead}/replay", data={"csrf_token": token})
    assert replayed.status_code == 302
    discarded = admin.post(f"/admin/sync/outbox/{conflicting}/discard", data={"csrf_token": token})
    assert discarded.status_code == 302
    db_session.expire_all()
    assert db_session.get_one(OutboxMessage, dead).status is OutboxStatus.PENDING
    assert db_session.get_one(OutboxMessage, conflicting).status is OutboxStatus.DISCARDED
    assert db_session.scalars(select(SyncConflict.resolution)).one() == "crm_kept"


def test_only_admins_reach_the_sync_page(signed_in_client, org_tree) -> None:  # type: ignore[no-untyped-def]
    board, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    assert board.get("/admin/sync/").status_code == 403
    assert board.post("/admin/sync/outbox/1/replay").status_code in {400, 403}


def test_runs_read_in_the_admin_s_language(signed_in_client, org_tree, db_session) -> None:  # type: ignore[no-untyped-def]
    started = utcnow()
    db_session.add_all(
        [
            SyncRun(kind=SyncKind.PULL_FULL, outcome=SyncOutcome.SUCCEEDED, adapter="civicrm",
                    started_at=started, finished_at=started, counts={}),
            SyncRun(kind=SyncKind.PULL_INCREMENTAL, outcome=SyncOutcome.ABORTED, adapter="civicrm",
                    started_at=started, finished_at=started, counts={}, error="mass-removal guard"),
        ]
    )  # fmt: skip
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get("/admin/sync/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    for dutch in ("volledige ophaalronde", "geslaagd", "ophaalronde van de wijzigingen", "bewust gestopt"):
        assert dutch in html
    for code in ("pull_full", "pull_incremental", ">succeeded<", ">aborted<"):
        assert code not in html
