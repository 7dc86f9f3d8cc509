"""Scopes and grants on a real database: who reaches which member (D1), grants that follow positions.

D1's matrix: every role × own / same branch / other branch / other region resolves to the relation the
field policy expects (the field half of the matrix is tests/unit/test_field_visibility.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from portal.auth.models import GrantSource, LoginSession, RoleGrant
from portal.auth.roles import Role
from portal.auth.scopes import access_to_member, current_roles, members_in_scope_clause, unit_ids_in_scope
from portal.auth.services.grants import grant_role, recompute_grants
from portal.auth.testing import make_account, make_org_tree, sign_in
from portal.core.actors import Actor
from portal.core.clock import local_midnight
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.members.models import Member, MembershipStatus, Position, PositionFunction
from portal.members.testing import make_member
from portal.members.visibility import Relation, visible_fields

ACTOR = Actor.system("test")
NOW = datetime.now(UTC)


@pytest.fixture
def tree(db_session):  # type: ignore[no-untyped-def]
    built = make_org_tree(db_session)
    db_session.commit()
    return built


def _scope_unit(tree, role: Role) -> int | None:  # type: ignore[no-untyped-def]
    return {
        Role.BRANCH_BOARD: tree.branch.id,
        Role.STEWARD: tree.branch.id,
        Role.REGIONAL_OFFICER: tree.region.id,
    }.get(role)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role.value if role else "member")
def test_D1_relation_matrix(app, db_session, tree, role) -> None:  # type: ignore[no-untyped-def]
    officer = make_member(db_session, branch_id=tree.branch.id)
    roles = [(role, _scope_unit(tree, role))] if role else []
    account, _ = make_account(db_session, officer, roles=roles, keys=app.extensions["auth_keys"])
    places = {
        "own": officer,
        "same_branch": make_member(db_session, branch_id=tree.branch.id),
        "other_branch": make_member(db_session, branch_id=tree.sibling.id),
        "other_region": make_member(db_session, branch_id=tree.far_branch.id),
    }
    national = role in {Role.NATIONAL_ADMINISTRATOR, Role.ADMIN}
    expected = {
        "own": Relation.OWN,
        "same_branch": Relation.IN_SCOPE if role else Relation.OUT_OF_SCOPE,
        "other_branch": Relation.IN_SCOPE
        if national or role is Role.REGIONAL_OFFICER
        else Relation.OUT_OF_SCOPE,
        "other_region": Relation.IN_SCOPE if national else Relation.OUT_OF_SCOPE,
    }
    for place, member in places.items():
        access = access_to_member(db_session, account, member)
        assert access.relation is expected[place], place
        if access.relation is Relation.OUT_OF_SCOPE:
            assert visible_fields(access.roles, access.relation) == frozenset()
    in_scope = set(db_session.scalars(select(Member.id).where(members_in_scope_clause(db_session, account))))
    assert in_scope == {
        member.id
        for place, member in places.items()
        if expected[place] is not Relation.OUT_OF_SCOPE and place != "own"
    } | ({officer.id} if role else set())


def test_unit_ids_in_scope_expand_to_subtrees(app, db_session, tree) -> None:  # type: ignore[no-untyped-def]
    keys = app.extensions["auth_keys"]
    regional, _ = make_account(
        db_session, make_member(db_session), roles=[(Role.REGIONAL_OFFICER, tree.region.id)], keys=keys
    )
    national, _ = make_account(
        db_session, make_member(db_session), roles=[(Role.NATIONAL_ADMINISTRATOR, None)], keys=keys
    )
    assert unit_ids_in_scope(db_session, regional) == {tree.region.id, tree.branch.id, tree.sibling.id}
    assert unit_ids_in_scope(db_session, regional, Role.BRANCH_BOARD) == frozenset()
    assert unit_ids_in_scope(db_session, national) == {unit.id for unit in vars(tree).values()}


def _position(db_session, member, unit_id, function, **extra) -> Position:  # type: ignore[no-untyped-def]
    position = Position(
        crm_id=f"p-{member.id}-{function.value}",
        member_id=member.id,
        org_unit_id=unit_id,
        function=function,
        **extra,
    )
    db_session.add(position)
    db_session.flush()
    return position


def test_a_position_starting_today_counts_from_local_midnight(app, db_session, tree) -> None:  # type: ignore[no-untyped-def]
    """At 00:30 on 15 March in Amsterdam (23:30 UTC on the 14th) a chair whose term begins on the 15th
    is on the board already."""
    chair = make_member(db_session, branch_id=tree.branch.id)
    _position(db_session, chair, tree.branch.id, PositionFunction.CHAIR, start_date=date(2027, 3, 15))
    half_past_midnight = datetime(2027, 3, 14, 23, 30, tzinfo=UTC)
    assert recompute_grants(db_session, now=half_past_midnight - timedelta(hours=1), actor=ACTOR).added == 0
    assert recompute_grants(db_session, now=half_past_midnight, actor=ACTOR).added == 1
    assert current_roles(db_session, chair.id, half_past_midnight) == {Role.BRANCH_BOARD}


def test_grants_follow_positions_and_end_with_them(app, db_session, tree) -> None:  # type: ignore[no-untyped-def]
    chair = make_member(db_session, branch_id=tree.branch.id)
    account, _ = make_account(db_session, chair, keys=app.extensions["auth_keys"])
    position = _position(
        db_session, chair, tree.branch.id, PositionFunction.CHAIR, end_date=(NOW + timedelta(days=10)).date()
    )
    changes = recompute_grants(db_session, now=NOW, actor=ACTOR)
    assert changes.added == 1
    grant = db_session.scalar(select(RoleGrant).where(RoleGrant.member_id == chair.id))
    assert (grant.role, grant.scope_unit_id, grant.source_position_id) == (
        Role.BRANCH_BOARD,
        tree.branch.id,
        position.id,
    )
    assert grant.ends_at is not None
    # ends by itself, at the end of the position's last day in Amsterdam (23:00 or 22:00 UTC)
    assert grant.ends_at == local_midnight(position.end_date + timedelta(days=1))
    last_evening = grant.ends_at - timedelta(minutes=30)
    assert current_roles(db_session, chair.id, last_evening) == {Role.BRANCH_BOARD}
    assert current_roles(db_session, chair.id, last_evening + timedelta(hours=1)) == frozenset()
    assert recompute_grants(db_session, now=NOW, actor=ACTOR).added == 0  # idempotent
    assert current_roles(db_session, chair.id, NOW + timedelta(days=12)) == frozenset()
    chair.status = MembershipStatus.LAPSED
    db_session.flush()
    changes = recompute_grants(db_session, now=NOW, actor=ACTOR)
    assert changes.ended == 1
    assert chair.id in changes.members_losing_roles
    actions = list(db_session.scalars(select(AuditEntry.action)))
    assert "auth.grant_derived" in actions
    assert "auth.grant_ended" in actions
    assert account.member_id == chair.id


def test_role_loss_ends_the_holders_sessions(app, db_session, tree, client) -> None:  # type: ignore[no-untyped-def]
    chair = make_member(db_session, branch_id=tree.branch.id)
    position = _position(db_session, chair, tree.branch.id, PositionFunction.SECRETARY)
    recompute_grants(db_session, now=NOW, actor=ACTOR)
    _, creds = make_account(db_session, chair, keys=app.extensions["auth_keys"])
    sign_in(client, creds)
    position.removed_at = NOW
    recompute_grants(db_session, now=NOW, actor=ACTOR)
    db_session.commit()
    open_rows = db_session.scalars(
        select(LoginSession).where(
            LoginSession.account_id == creds.account_id, LoginSession.ended_at.is_(None)
        )
    ).all()
    assert open_rows == []


def test_explicit_grants_have_an_end_a_reason_and_never_go_to_oneself(app, db_session, tree) -> None:  # type: ignore[no-untyped-def]
    admin, _ = make_account(
        db_session, make_member(db_session), roles=[(Role.ADMIN, None)], keys=app.extensions["auth_keys"]
    )
    actor = Actor.account(admin.id, "admin")
    member = make_member(db_session, branch_id=tree.branch.id)
    with pytest.raises(ValidationFailed):
        grant_role(
            db_session,
            member=member,
            role=Role.STEWARD,
            scope_unit_id=tree.branch.id,
            ends_at=NOW + timedelta(days=400),
            reason="x",
            actor=actor,
            now=NOW,
        )
    with pytest.raises(ValidationFailed):
        grant_role(
            db_session,
            member=member,
            role=Role.STEWARD,
            scope_unit_id=tree.branch.id,
            ends_at=NOW + timedelta(days=4),
            reason=" ",
            actor=actor,
            now=NOW,
        )
    with pytest.raises(PermissionDenied):
        grant_role(
            db_session,
            member=admin.member,
            role=Role.ADMIN,
            scope_unit_id=None,
            ends_at=NOW + timedelta(days=4),
            reason="zelf",
            actor=actor,
            now=NOW,
        )
    grant = grant_role(
        db_session,
        member=member,
        role=Role.STEWARD,
        scope_unit_id=tree.branch.id,
        ends_at=NOW + timedelta(days=4),
        reason="ALV",
        actor=actor,
        now=NOW,
    )
    assert grant.source is GrantSource.EXPLICIT
    assert grant.granted_by_account_id == admin.id
    assert (
        recompute_grants(db_session, now=NOW, actor=ACTOR).ended == 0
    )  # the pull leaves explicit grants alone


def test_the_first_admin_comes_from_the_command_line(runner, db_session, tree) -> None:  # type: ignore[no-untyped-def]
    member = make_member(db_session, branch_id=tree.branch.id)
    db_session.commit()
    until = (NOW + timedelta(days=90)).date().isoformat()
    result = runner.invoke(
        args=[
            "auth",
            "grant-admin",
            "--member-number",
            member.member_number,
            "--until",
            until,
            "--reason",
            "Eerste beheerder",
        ]
    )
    assert result.exit_code == 0, result.output
    assert current_roles(db_session, member.id) == frozenset({Role.ADMIN})
    db_session.rollback()  # end the read, so the commands below can write
    assert runner.invoke(args=["auth", "recompute-grants"]).exit_code == 0
    assert runner.invoke(args=["auth", "purge-sessions"]).exit_code == 0


@pytest.mark.both_backends
def test_grant_validity_in_sql_agrees_with_python(db_session, tree) -> None:  # type: ignore[no-untyped-def]
    """`RoleGrant.current_at` / `open_at` (SQL, every scope check) and `is_current` (Python) draw the same
    lines: a start in the future, an end exactly now, no end at all (a grant derived from a position)."""
    member = make_member(db_session)
    position = _position(db_session, member, tree.branch.id, PositionFunction.CHAIR)
    now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    periods = {
        "running": (now - hour, None),
        "ends_later": (now - hour, now + hour),
        "ended_now": (now - hour, now),
        "ended": (now - 2 * hour, now - hour),
        "starts_now": (now, now + hour),
        "starts_later": (now + hour, None),
    }
    for reason, (starts, ends) in periods.items():
        source = GrantSource.EXPLICIT if ends else GrantSource.POSITION
        db_session.add(
            RoleGrant(
                member_id=member.id, role=Role.BRANCH_BOARD, scope_unit_id=None, source=source,
                source_position_id=None if ends else position.id, starts_at=starts, ends_at=ends,
                reason=reason, created_at=now,
            )
        )  # fmt: skip
    db_session.flush()
    grants = db_session.scalars(select(RoleGrant).where(RoleGrant.member_id == member.id)).all()
    mine = RoleGrant.member_id == member.id
    current = set(db_session.scalars(select(RoleGrant.reason).where(mine, RoleGrant.current_at(now))))
    still_open = set(db_session.scalars(select(RoleGrant.reason).where(mine, RoleGrant.open_at(now))))
    assert current == {grant.reason for grant in grants if grant.is_current(now)}
    assert current == {"running", "ends_later", "starts_now"}
    assert still_open == {"running", "ends_later", "starts_now", "starts_later"}
