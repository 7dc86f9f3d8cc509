"""Role grants: derived from positions after every pull and at sign-in; explicit ones by an admin."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services import Target, record_change, record_changes
from portal.auth.models import Account, GrantSource, RoleGrant
from portal.auth.notices import _
from portal.auth.roles import DerivedGrant, PositionFacts, Role, derive_grants
from portal.auth.services.sessions import OFFICER_IDLE, end_account_sessions, set_idle_for_account
from portal.core.actors import Actor
from portal.core.clock import local_date, local_midnight
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.members.models import Member, OrgUnit, Position

MAX_EXPLICIT_GRANT = timedelta(days=366)


@dataclass
class GrantChanges:
    """What a recomputation did."""

    added: int = 0
    ended: int = 0
    members_losing_roles: set[int] = field(default_factory=set)


def _end_of(day: date | None) -> datetime | None:
    """A position ending on `day` holds through that whole day on the portal's wall clock."""
    return None if day is None else local_midnight(day + timedelta(days=1))


def _candidates(session: Session, now: datetime) -> set[int]:
    with_positions = set(session.scalars(select(Position.member_id).where(Position.removed_at.is_(None))))
    with_grants = set(session.scalars(select(RoleGrant.member_id).where(RoleGrant.open_at(now))))
    return with_positions | with_grants


def _position_facts(session: Session, member_ids: list[int]) -> dict[int, list[PositionFacts]]:
    facts: dict[int, list[PositionFacts]] = defaultdict(list)
    rows = session.execute(
        select(Position, OrgUnit.kind)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(Position.member_id.in_(member_ids))
    )
    for position, kind in rows:
        facts[position.member_id].append(
            PositionFacts(
                position_id=position.id,
                function=position.function.value,
                unit_id=position.org_unit_id,
                unit_kind=kind.value,
                start_date=position.start_date,
                end_date=position.end_date,
                removed=position.removed_at is not None,
            )
        )
    return facts


def recompute_grants(
    session: Session, *, now: datetime, actor: Actor, member_ids: Iterable[int] | None = None
) -> GrantChanges:
    """Bring derived grants in line with current positions; end every grant of a lapsed member."""
    changes = GrantChanges()
    wanted_ids = sorted(_candidates(session, now) if member_ids is None else set(member_ids))
    audit: list[tuple[str, Target, Mapping[str, Any]]] = []
    gaining: set[int] = set()
    for start in range(0, len(wanted_ids), 500):
        chunk = wanted_ids[start : start + 500]
        members = {
            member.id: member for member in session.scalars(select(Member).where(Member.id.in_(chunk)))
        }
        facts = _position_facts(session, chunk)
        open_grants: dict[int, list[RoleGrant]] = defaultdict(list)
        for grant in session.scalars(
            select(RoleGrant).where(RoleGrant.member_id.in_(chunk), RoleGrant.open_at(now))
        ):
            open_grants[grant.member_id].append(grant)
        for member_id in chunk:
            member = members.get(member_id)
            is_member = member is not None and member.removed_at is None and member.status.is_member
            desired = derive_grants(facts.get(member_id, []), is_member=is_member, today=local_date(now))
            _apply(
                session, member_id, desired, open_grants[member_id], is_member, now, changes, audit, gaining
            )
    session.flush()
    record_changes(session, actor=actor, entries=audit)
    for account_id in _account_ids(session, changes.members_losing_roles):
        end_account_sessions(session, account_id, reason="role_lost", now=now)
    for account_id in _account_ids(session, gaining):
        set_idle_for_account(session, account_id, OFFICER_IDLE)
    return changes


def _apply(
    session: Session,
    member_id: int,
    desired: frozenset[DerivedGrant],
    existing: list[RoleGrant],
    is_member: bool,
    now: datetime,
    changes: GrantChanges,
    audit: list[tuple[str, Target, Mapping[str, Any]]],
    gaining: set[int],
) -> None:
    by_key = {
        (g.role, g.scope_unit_id, g.source_position_id): g
        for g in existing
        if g.source is GrantSource.POSITION
    }
    for want in desired:
        grant = by_key.pop((want.role, want.scope_unit_id, want.position_id), None)
        if grant is None:
            grant = RoleGrant(
                member_id=member_id,
                role=want.role,
                scope_unit_id=want.scope_unit_id,
                source=GrantSource.POSITION,
                source_position_id=want.position_id,
                starts_at=now,
                ends_at=_end_of(want.ends_on),
                created_at=now,
            )
            session.add(grant)
            session.flush()
            changes.added += 1
            gaining.add(member_id)
            audit.append(
                (
                    "auth.grant_derived",
                    grant,
                    {"role": [None, want.role], "scope": [None, want.scope_unit_id]},
                )
            )
        elif grant.ends_at != _end_of(want.ends_on):
            audit.append(("auth.grant_end_moved", grant, {"ends_at": [grant.ends_at, _end_of(want.ends_on)]}))
            grant.ends_at = _end_of(want.ends_on)
    leftovers = list(by_key.values())
    if not is_member:
        leftovers += [g for g in existing if g.source is GrantSource.EXPLICIT]
    for grant in leftovers:
        grant.ends_at, grant.end_reason = now, ("position ended" if is_member else "membership ended")
        changes.ended += 1
        changes.members_losing_roles.add(member_id)
        audit.append(
            ("auth.grant_ended", grant, {"ends_at": [None, now], "end_reason": [None, grant.end_reason]})
        )


def _account_ids(session: Session, member_ids: set[int]) -> list[int]:
    if not member_ids:
        return []
    return list(session.scalars(select(Account.id).where(Account.member_id.in_(sorted(member_ids)))))


def grant_role(
    session: Session,
    *,
    member: Member,
    role: Role,
    scope_unit_id: int | None,
    ends_at: datetime,
    reason: str,
    actor: Actor,
    now: datetime,
) -> RoleGrant:
    """An explicit grant by an administrator: always with an end date and a reason; never to oneself."""
    reason = reason.strip()
    problems = {}
    if not reason:
        problems["reason"] = _("A reason is required.")
    if ends_at <= now or ends_at > now + MAX_EXPLICIT_GRANT:
        problems["ends_at"] = _("The end date must lie in the coming year.")
    if role is not Role.ADMIN and not role.covers_everything and scope_unit_id is None:
        problems["scope_unit_id"] = _("This role needs an org unit.")
    if not member.status.is_member or member.removed_at is not None:
        problems["member"] = _("Only current members can hold a role.")
    if problems:
        raise ValidationFailed(_("The grant was not added."), fields=problems)
    granter = session.scalar(select(Account.member_id).where(Account.id == actor.id)) if actor.id else None
    if granter == member.id:
        raise PermissionDenied(_("Nobody can grant a role to themselves."))
    grant = RoleGrant(
        member_id=member.id,
        role=role,
        scope_unit_id=None if role.covers_everything else scope_unit_id,
        source=GrantSource.EXPLICIT,
        starts_at=now,
        ends_at=ends_at,
        reason=reason,
        granted_by_account_id=actor.id if actor.kind == "account" else None,
        created_at=now,
    )
    session.add(grant)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="auth.grant_added",
        target=grant,
        changes={
            "member_id": [None, member.id],
            "role": [None, role],
            "scope": [None, grant.scope_unit_id],
            "ends_at": [None, ends_at],
            "reason": [None, reason],
        },
    )
    for account_id in _account_ids(session, {member.id}):
        set_idle_for_account(session, account_id, OFFICER_IDLE)
    return grant


def end_grant(session: Session, *, grant: RoleGrant, reason: str, actor: Actor, now: datetime) -> None:
    """End an explicit grant now; the holder's sessions end with it (role loss)."""
    if grant.source is not GrantSource.EXPLICIT:
        raise PermissionDenied(_("Grants that come from a position end with the position."))
    if grant.ends_at is not None and grant.ends_at <= now:
        return
    record_change(
        session,
        actor=actor,
        action="auth.grant_ended",
        target=grant,
        changes={"ends_at": [grant.ends_at, now], "end_reason": [None, reason.strip() or "ended by admin"]},
    )
    grant.ends_at, grant.end_reason = now, (reason.strip() or "ended by admin")[:80]
    for account_id in _account_ids(session, {grant.member_id}):
        end_account_sessions(session, account_id, reason="role_lost", now=now)
