"""Which org units and members an account's grants reach (grant scopes expanded to their subtrees)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from portal.auth.models import Account, RoleGrant
from portal.auth.roles import Role
from portal.core.clock import utcnow
from portal.members.models import Member, OrgUnit
from portal.members.visibility import Relation

__all__ = ["MemberAccess", "Relation", "access_to_member", "current_roles", "unit_ids_in_scope"]


@dataclass(frozen=True)
class MemberAccess:
    """The relation to one member and the roles whose scope covers them."""

    relation: Relation
    roles: frozenset[Role]


def current_grants(session: Session, member_id: int, now: datetime | None = None) -> list[RoleGrant]:
    """The member's grants that hold now."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(RoleGrant)
            .where(
                RoleGrant.member_id == member_id,
                RoleGrant.current_at(now),
            )
            .order_by(RoleGrant.id)
        )
    )


def current_roles(session: Session, member_id: int, now: datetime | None = None) -> frozenset[Role]:
    """The roles the member holds now (empty for a plain member)."""
    return frozenset(grant.role for grant in current_grants(session, member_id, now))


def subtree_ids(session: Session, root_ids: Iterable[int]) -> frozenset[int]:
    """The given org units and every unit below them (one recursive query)."""
    roots = list(set(root_ids))
    if not roots:
        return frozenset()
    tree = select(OrgUnit.id).where(OrgUnit.id.in_(roots)).cte("tree", recursive=True)
    tree = tree.union(select(OrgUnit.id).where(OrgUnit.parent_id == tree.c.id))
    return frozenset(session.scalars(select(tree.c.id)))


def _all_unit_ids(session: Session) -> frozenset[int]:
    return frozenset(session.scalars(select(OrgUnit.id)))


def unit_ids_in_scope(session: Session, account: Account, *roles: Role) -> frozenset[int]:
    """Org units the account's current grants with one of `roles` (any role if none) reach."""
    wanted = set(roles) or set(Role)
    grants = [grant for grant in current_grants(session, account.member_id) if grant.role in wanted]
    if any(grant.role.covers_everything or grant.scope_unit_id is None for grant in grants):
        return _all_unit_ids(session)
    return subtree_ids(session, [grant.scope_unit_id for grant in grants if grant.scope_unit_id is not None])


def roles_over_unit(session: Session, account: Account, unit_id: int | None) -> frozenset[Role]:
    """The account's current roles whose scope contains `unit_id` (a member's home branch)."""
    covering = set()
    for grant in current_grants(session, account.member_id):
        if (
            grant.role.covers_everything
            or grant.scope_unit_id is None
            or (unit_id is not None and unit_id in subtree_ids(session, [grant.scope_unit_id]))
        ):
            covering.add(grant.role)
    return frozenset(covering)


def access_to_member(session: Session, account: Account, member: Member) -> MemberAccess:
    """OWN for the account's own record, IN_SCOPE when a grant covers the member's branch, else OUT."""
    roles = roles_over_unit(session, account, member.branch_id)
    if member.id == account.member_id:
        return MemberAccess(Relation.OWN, current_roles(session, account.member_id))
    return MemberAccess(Relation.IN_SCOPE if roles else Relation.OUT_OF_SCOPE, roles)


def members_in_scope_clause(session: Session, account: Account, *roles: Role) -> ColumnElement[bool]:
    """A WHERE clause on `Member` limiting a query to members whose branch the grants reach."""
    units = unit_ids_in_scope(session, account, *roles)
    if not units:
        return false()
    return Member.branch_id.in_(sorted(units))
