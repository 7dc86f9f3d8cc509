"""The name-search index: one row per (term, member); see `portal.members.name_search` for the terms."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.database import Base

# Byte order on PostgreSQL too, so `low <= term < high` is exactly "starts with" and the marks
# (`~`, `=`, `#`) keep their own key ranges whatever the database's collation is.
TERM_TYPE = String(64).with_variant(String(64, collation="C"), "postgresql")
SORT_KEY_LENGTH = 64
INTERESTS_ONLY = "term < '0'"  # the interest mark `#` sorts before digits and letters


class MemberSearchTerm(Base):
    """A folded name word, sound key, joined tussenvoegsel or interest of one member.

    The key (term, sort_name, member_id) lets a prefix search read its matches already in name order
    and stop after one page; the branch copy lets an officer's scope be checked without the member row.
    """

    __tablename__ = "member_search_terms"
    __table_args__ = (
        Index("ix_member_search_terms_member_term", "member_id", "term"),
        # Interests only (`#…` sorts before every word): "interested in X, in my region" from the index alone.
        Index(
            "ix_member_search_terms_interest_branch",
            "term",
            "branch_id",
            "member_id",
            postgresql_where=text(INTERESTS_ONLY),
            sqlite_where=text(INTERESTS_ONLY),
        ),
        {"sqlite_with_rowid": False},
    )

    term: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)
    sort_name: Mapped[str] = mapped_column(TERM_TYPE, primary_key=True)  # the member's sort key, cut to 64
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int | None]  # a copy of the member's home branch, so scope is checked in the index
