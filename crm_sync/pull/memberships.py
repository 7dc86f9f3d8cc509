"""The nightly membership scan: memberships carry no change marker in CiviCRM, so every night all of
them are read compactly and compared with the replica; members whose membership differs are refetched
(and validated in full) by the normal member path."""

from __future__ import annotations

from contextlib import closing
from datetime import date

from sqlalchemy import select

from crm_sync.ports import CrmMembershipState, CrmPort
from crm_sync.pull.counts import PullCounts
from portal.core.database import Database
from portal.members.models import Member, MembershipStatus

Stored = tuple[str, str, str, str]  # status name, member since, member until, dues paid through


def _text(value: date | str | None) -> str:
    return "" if value is None else str(value)[:10]


def _replica(database: Database) -> dict[str, Stored]:
    """crm_id → the membership columns as stored, read raw (no ORM type processing: 400,000 rows)."""
    with closing(database.session()) as session:
        result = session.connection().exec_driver_sql(
            "SELECT crm_id, status, member_since, member_until, dues_paid_through FROM members "
            "WHERE removed_at IS NULL"
        )
        return {row[0]: (str(row[1]), _text(row[2]), _text(row[3]), _text(row[4])) for row in result}


def _differs(stored: Stored, state: CrmMembershipState) -> bool:
    # A deceased contact keeps "deceased" whatever the membership says; the contact pass sees that.
    status_differs = stored[0] != MembershipStatus.DECEASED.name and stored[0] != state.status.name
    dates = (_text(state.member_since), _text(state.member_until), _text(state.dues_paid_through))
    return status_differs or stored[1:] != dates


def members_with_changed_membership(database: Database, port: CrmPort, counts: PullCounts) -> list[str]:
    """CRM ids of replica members whose membership in the CRM differs from the replica's copy."""
    replica = _replica(database)
    stale: list[str] = []
    for page in port.fetch_memberships():
        counts.note_invalid(page.invalid)
        for state in page.records:
            stored = replica.get(state.member_crm_id)
            if stored is not None and _differs(stored, state):
                stale.append(state.member_crm_id)
    return stale


def members_marked_stale(database: Database) -> list[str]:
    """Members whose stored hash was cleared (an admin discarded an edit): the pull rewrites them."""
    with closing(database.session()) as session:
        return list(
            session.scalars(select(Member.crm_id).where(Member.row_hash == "", Member.removed_at.is_(None)))
        )
