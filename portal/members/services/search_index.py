"""Keeping the name-search index in step with the replica (the pull and portal edits call this)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from portal.members.models import Member
from portal.members.name_search import member_terms
from portal.members.search_models import SORT_KEY_LENGTH, MemberSearchTerm

_BATCH = 2000


def _terms_rows(session: Session, member_ids: list[int]) -> list[dict[str, object]]:
    rows = session.execute(
        select(
            Member.id,
            Member.given_name,
            Member.infix,
            Member.family_name,
            Member.interests,
            Member.branch_id,
            Member.sort_name,
        ).where(Member.id.in_(member_ids), Member.removed_at.is_(None))
    )
    return [
        {
            "term": term,
            "sort_name": row.sort_name[:SORT_KEY_LENGTH],
            "member_id": row.id,
            "branch_id": row.branch_id,
        }
        for row in rows
        for term in member_terms(row.given_name, row.infix, row.family_name, row.interests or [])
    ]


def refresh_search_entries(session: Session, member_ids: Iterable[int]) -> int:
    """Rewrite the index rows of these members (removed members lose theirs); returns rows written."""
    ids = sorted(set(member_ids))
    written = 0
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        session.execute(delete(MemberSearchTerm).where(MemberSearchTerm.member_id.in_(batch)))
        rows = _terms_rows(session, batch)
        if rows:
            session.execute(insert(MemberSearchTerm), rows)
        written += len(rows)
    session.flush()
    return written


def rebuild_search_index(session: Session) -> int:
    """Empty the index and fill it again from every member in the replica; returns rows written."""
    session.execute(delete(MemberSearchTerm))
    written = 0
    last_id = 0
    while True:
        ids = list(
            session.scalars(
                select(Member.id)
                .where(Member.id > last_id, Member.removed_at.is_(None))
                .order_by(Member.id)
                .limit(_BATCH)
            )
        )
        if not ids:
            break
        rows = _terms_rows(session, ids)
        if rows:
            session.execute(insert(MemberSearchTerm), rows)
        written += len(rows)
        last_id = ids[-1]
    session.flush()
    return written
