"""Who a page of the mutation log is about: a member's records (their member row, account and rows of
theirs elsewhere, and those of the records the CRM merged into theirs), the member behind a record
filter, and the names of the members and accounts a page shows. The log stores ids and member numbers
only; names are looked up here when a page is drawn."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Select, literal, select, union_all

from audit.viewer import LogFilter, Page
from crm_sync.models import MemberMerge, OutboxMessage
from crm_sync.pull.bulk import among
from portal.admin.forms import CURSOR_MAX
from portal.auth.models import Account, RoleGrant, TermsAcceptance
from portal.core.extension import db_session
from portal.meetings.models import Attendance, RollDifference, StewardAssignment, VotingSuspension
from portal.members.models import Member

log = logging.getLogger("portal.admin.log_people")


def member_numbered(number: str) -> Member | None:
    return db_session().scalars(select(Member).where(Member.member_number == number.strip())).first()


def account_of(member: Member) -> int | None:
    return db_session().scalars(select(Account.id).where(Account.member_id == member.id)).first()


# Tables whose rows belong to one member (`member_id`): the log's entries about them are that member's.
OWNED_BY_A_MEMBER = {
    table.__tablename__: table
    for table in (Attendance, StewardAssignment, VotingSuspension, RollDifference, RoleGrant, OutboxMessage)
}


MERGE_DEPTH = 100  # merges of merges followed for one history; deeper chains are cut, with a warning


def merged_into(member: Member) -> list[Member]:
    """The records the CRM merged into this member, however many merges deep: their history is this
    person's history too. Only records still removed count: a contact the CRM restored after a wrong
    merge is a person of their own again. Ids in the order found; a cycle stops the walk."""
    session = db_session()
    seen, frontier, found = {member.id}, [member.id], []
    for _depth in range(MERGE_DEPTH):
        merged = [
            key
            for key in session.scalars(
                select(MemberMerge.merged_member_id)
                .join(Member, Member.id == MemberMerge.merged_member_id)
                .where(MemberMerge.survivor_member_id.in_(frontier), Member.removed_at.is_not(None))
            )
            if key not in seen
        ]
        if not merged:
            break
        seen.update(merged)
        found.extend(merged)
        frontier = merged
    else:
        log.warning("member %s: more than %s merges deep, the history shown is cut", member.id, MERGE_DEPTH)
    if not found:
        return []
    by_id = {row.id: row for row in session.scalars(select(Member).where(Member.id.in_(found)))}
    return [by_id[key] for key in found]


def records_of(people: list[int]) -> tuple[tuple[str, str], ...]:
    """Every record the log names for this person (`people`: their member id, then the ids merged into
    it): the member rows and accounts, and the rows of theirs in other tables (one query). A presence
    pseudonymised after the meeting is no longer theirs."""
    accounts = list(db_session().scalars(select(Account.id).where(Account.member_id.in_(people))))
    owned: list[Select[str, int]] = [
        select(literal(name), table.id).where(table.member_id.in_(people))
        for name, table in OWNED_BY_A_MEMBER.items()
    ]
    if accounts:
        owned.append(
            select(literal(TermsAcceptance.__tablename__), TermsAcceptance.id).where(
                TermsAcceptance.account_id.in_(accounts)
            )
        )
    rows = db_session().execute(union_all(*owned)).all()
    return (
        *((Member.__tablename__, str(key)) for key in people),
        *((Account.__tablename__, str(key)) for key in sorted(accounts)),
        *sorted((str(kind), str(key)) for kind, key in rows),
    )


def canonical_id(key: str) -> int | None:
    """A stored row id as the log writes it (`str(id)`): `05` or `٣` name no row."""
    if not (key.isascii() and key.isdigit()) or str(int(key)) != key or int(key) > CURSOR_MAX:
        return None
    return int(key)


def member_record(wanted: LogFilter) -> Member | None:
    """The member whose data an explicit record filter shows: their member row, their account, or a
    row of theirs in another table (a presence, a grant, a terms acceptance, …)."""
    key = canonical_id(wanted.target_id)
    if key is None:
        return None
    session = db_session()
    owner: int | None = None
    if wanted.target_type == Member.__tablename__:
        owner = key
    elif wanted.target_type == Account.__tablename__:
        owner = session.scalar(select(Account.member_id).where(Account.id == key))
    elif wanted.target_type == TermsAcceptance.__tablename__:
        owner = session.scalar(
            select(Account.member_id)
            .join(TermsAcceptance, TermsAcceptance.account_id == Account.id)
            .where(TermsAcceptance.id == key)
        )
    elif (table := OWNED_BY_A_MEMBER.get(wanted.target_type)) is not None:
        owner = session.scalar(select(table.member_id).where(table.id == key))
    return session.get(Member, owner) if owner is not None else None


def members_in(rows: list[Any]) -> set[int]:
    """The existing members whose data the entries show: member rows and accounts named as targets."""
    wanted: dict[str, set[int]] = {Member.__tablename__: set(), Account.__tablename__: set()}
    for entry in rows:
        key = canonical_id(entry.target_id)
        if key is not None and entry.target_type in wanted:
            wanted[entry.target_type].add(key)
    session = db_session()
    dialect = session.get_bind().dialect.name  # up to 10,000 ids: one array parameter, not 10,000
    accounts, members = sorted(wanted[Account.__tablename__]), sorted(wanted[Member.__tablename__])
    found = set(session.scalars(select(Account.member_id).where(among(dialect, Account.id, accounts))))
    return found | set(session.scalars(select(Member.id).where(among(dialect, Member.id, members))))


def members_named(page: Page, reads: Page) -> dict[str, Member]:
    """The members the page names, by the id the log holds: its entries' targets and the subjects of its
    look-ups (one query)."""
    ids = {
        key
        for entry in page.rows
        if entry.target_type == Member.__tablename__ and (key := canonical_id(entry.target_id)) is not None
    } | {read.subject_member_id for read in reads.rows}
    if not ids:
        return {}
    return {str(row.id): row for row in db_session().scalars(select(Member).where(Member.id.in_(ids)))}


def accounts_named(page: Page, reads: Page) -> dict[int, Member]:
    """The people behind the accounts that acted on the page (its entries and look-ups), by account id
    (one query): the log stores only their member number, the page shows their name beside it."""
    ids = {row.actor_id for row in [*page.rows, *reads.rows] if row.actor_kind == "account" and row.actor_id}
    if not ids:
        return {}
    rows = db_session().execute(
        select(Account.id, Member).join(Member, Member.id == Account.member_id).where(Account.id.in_(ids))
    )
    return dict(rows.all())
