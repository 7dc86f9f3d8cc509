"""GDPR art. 15: everything the portal holds about one member, as JSON-ready sections and CSV rows."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.models import AuditEntry, ReadAccess
from audit.services import record_read
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.members.models import Member, OrgUnit, Position
from portal.members.personal_data import PersonalDataSection, Provider
from portal.members.search_models import MemberSearchTerm

_INTERNAL_COLUMNS = frozenset({"row_hash", "version"})
EXPORT_PURPOSE = "own data export (GDPR art. 15)"


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return value


def _member_record(session: Session, member: Member) -> dict[str, Any]:
    record = {
        column.key: _plain(getattr(member, column.key))
        for column in Member.__table__.columns
        if column.key not in _INTERNAL_COLUMNS
    }
    branch = session.get(OrgUnit, member.branch_id) if member.branch_id else None
    record["branch_name"] = branch.name if branch else ""
    return record


def _positions(session: Session, member_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Position, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Position.org_unit_id)
        .where(Position.member_id == member_id)
        .order_by(Position.start_date, Position.id)
    ).all()
    return [
        {
            "role": position.function.value,
            "body": unit_name,
            "start_date": _plain(position.start_date),
            "end_date": _plain(position.end_date),
            "public": position.public,
            "removed_at": _plain(position.removed_at),
        }
        for position, unit_name in rows
    ]


# CJEU C-579/21 (Pankki S): a member is entitled to when and why their data was consulted or changed,
# not, in principle, to the names of the officers who did it. Officers are therefore named by kind only;
# the member's own actions and the system's (the CRM sync) keep their label. Admins see names in the log.
OFFICER_WITHHELD = "officer (name withheld)"


def _who(actor_kind: str, actor_id: int | None, actor_label: str, viewer: Actor) -> str:
    if actor_kind == "system" or (actor_kind == viewer.kind and actor_id == viewer.id):
        return actor_label
    return OFFICER_WITHHELD


def _read_accesses(session: Session, member_id: int, viewer: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(ReadAccess).where(ReadAccess.subject_member_id == member_id).order_by(ReadAccess.occurred_at)
    )
    return [
        {
            "when": _plain(row.occurred_at),
            "who": _who(row.actor_kind, row.actor_id, row.actor_label, viewer),
            "purpose": row.purpose,
        }
        for row in rows
    ]


def _changes(session: Session, member_id: int, viewer: Actor) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "members", AuditEntry.target_id == str(member_id))
        .order_by(AuditEntry.seq)
    )
    return [
        {
            "when": _plain(row.occurred_at),
            "by": _who(row.actor_kind, row.actor_id, row.actor_label, viewer),
            "action": row.action,
            "changes": row.changes,
        }
        for row in rows
    ]


def collect_personal_data(
    session: Session, member: Member, providers: Sequence[tuple[str, Provider]], *, viewer: Actor
) -> dict[str, Any]:
    """The member's own data, the portal's records about it, and every feature's section.

    `viewer` is the member asking: their own actions are named, officers' are not (C-579/21)."""
    sections: dict[str, Any] = {
        "generated_at": _plain(utcnow()),
        "member": _member_record(session, member),
        "positions": _positions(session, member.id),
        "read_accesses": _read_accesses(session, member.id, viewer),
        "changes": _changes(session, member.id, viewer),
        "search_index_terms": sorted(
            session.scalars(select(MemberSearchTerm.term).where(MemberSearchTerm.member_id == member.id))
        ),
    }
    for key, provider in providers:
        section: PersonalDataSection | None = provider(session, member.id)
        if section is not None:
            sections[key] = [_plain(row) for row in section.rows]
    return sections


def flatten(sections: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """CSV rows `(section, item, field, value)` of the collected data."""
    rows: list[tuple[str, str, str, Any]] = []
    for section, content in sections.items():
        if isinstance(content, dict):
            rows.extend((section, "", name, value) for name, value in content.items())
        elif isinstance(content, list):
            for number, item in enumerate(content, start=1):
                if isinstance(item, dict):
                    rows.extend((section, str(number), name, value) for name, value in item.items())
                else:
                    rows.append((section, str(number), "", item))
        else:
            rows.append((section, "", "", content))
    return rows


def log_own_export(session: Session, *, actor: Actor, member: Member, file_format: str) -> None:
    """Every download of one's own data is written to the read-access log."""
    record_read(session, actor=actor, subject_member_id=member.id, purpose=f"{EXPORT_PURPOSE} {file_format}")
