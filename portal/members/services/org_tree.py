"""The party's org tree as the directory and the member search need it (subtrees, choices, regions)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from portal.members.models import OrgUnit, OrgUnitKind


def subtree_ids(session: Session, root_ids: Iterable[int]) -> set[int]:
    """The given units and every unit below them (recursive query, one round trip)."""
    roots = sorted(set(root_ids))
    if not roots:
        return set()
    tree = select(OrgUnit.id).where(OrgUnit.id.in_(roots), OrgUnit.removed_at.is_(None)).cte(recursive=True)
    child = aliased(OrgUnit)
    tree = tree.union(select(child.id).where(child.parent_id == tree.c.id, child.removed_at.is_(None)))
    return set(session.scalars(select(tree.c.id)))


def covers_everything(session: Session, unit_ids: Iterable[int]) -> bool:
    """True when the set holds a root of the tree (the national party): no scope filter is needed."""
    ids = set(unit_ids)
    if not ids:
        return False
    return (
        session.scalar(select(OrgUnit.id).where(OrgUnit.id.in_(ids), OrgUnit.parent_id.is_(None)).limit(1))
        is not None
    )


def units_of_kind(session: Session, kind: OrgUnitKind, *, within: set[int] | None = None) -> list[OrgUnit]:
    """Current units of one kind, by name, optionally only those in `within`."""
    statement = select(OrgUnit).where(OrgUnit.kind == kind, OrgUnit.removed_at.is_(None))
    if within is not None:
        statement = statement.where(OrgUnit.id.in_(sorted(within)))
    return list(session.scalars(statement.order_by(OrgUnit.name)))
