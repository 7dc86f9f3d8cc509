"""The mutation log for admins: every change, filtered by action, person, record and date, newest first.
A member's history holds the entries about their member record, their portal account and the rows
that are theirs elsewhere (presences at meetings, steward duties, suspensions, roll differences, role
grants, edits waiting for the CRM, terms acceptances), and who looked at their data; looking it up is
itself a read access. For the person who acted, it lists whose data they looked at."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import Select, literal, select, union_all

from audit.services import record_change, record_read
from audit.viewer import (
    LogFilter,
    Page,
    chain_head,
    count_matching,
    family_of,
    known_actions,
    log_page,
    reads_page,
)
from crm_sync.models import MemberMerge, OutboxMessage
from crm_sync.pull.bulk import among
from portal.admin.forms import CURSOR_MAX, LogFilterForm
from portal.auth.guards import admin_required, current_actor, fresh_sign_in_required, signed_in
from portal.auth.models import Account, RoleGrant, TermsAcceptance
from portal.core.clock import local_midnight, utcnow
from portal.core.downloads import download
from portal.core.extension import database, db_session
from portal.meetings.models import Attendance, RollDifference, StewardAssignment, VotingSuspension
from portal.members.models import Member
from portal.members.spreadsheets import csv_bytes
from portal.members.views.rate_limits import limit

log = logging.getLogger("portal.admin.log")
blueprint = Blueprint("audit_log", __name__, template_folder="templates", url_prefix="/admin/log")

READ_PURPOSE = "audit log (admin)"
EXPORT_PURPOSE = "audit log export (admin)"
EXPORT_LIMIT = 10_000  # newest first; narrow the filters for older entries
EXPORT_COLUMNS = (
    "seq", "occurred_at", "actor_kind", "actor_id", "actor_label", "action",
    "target_type", "target_id", "changes", "request_id", "entry_hash",
)  # fmt: skip
SHOWN_LENGTH = 200  # a longer value is cut on the page; the log itself keeps it whole
FILTERS = ("action", "member", "actor", "target_type", "target_id", "since", "until")


class _Refused(Exception):
    """A filter that names nobody: the field and what to tell the admin."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _member_numbered(number: str) -> Member | None:
    return db_session().scalars(select(Member).where(Member.member_number == number.strip())).first()


def _account_of(member: Member) -> int | None:
    return db_session().scalars(select(Account.id).where(Account.member_id == member.id)).first()


# Tables whose rows belong to one member (`member_id`): the log's entries about them are that member's.
_OWNED_BY_A_MEMBER = {
    table.__tablename__: table
    for table in (Attendance, StewardAssignment, VotingSuspension, RollDifference, RoleGrant, OutboxMessage)
}


MERGE_DEPTH = 100  # merges of merges followed for one history; deeper chains are cut, with a warning


def _merged_into(member: Member) -> list[Member]:
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


def _records_of(people: list[int]) -> tuple[tuple[str, str], ...]:
    """Every record the log names for this person (`people`: their member id, then the ids merged into
    it): the member rows and accounts, and the rows of theirs in other tables (one query). A presence
    pseudonymised after the meeting is no longer theirs."""
    accounts = list(db_session().scalars(select(Account.id).where(Account.member_id.in_(people))))
    owned: list[Select[str, int]] = [
        select(literal(name), table.id).where(table.member_id.in_(people))
        for name, table in _OWNED_BY_A_MEMBER.items()
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


def _wanted(
    form: LogFilterForm, actions: list[str]
) -> tuple[LogFilter, Member | None, list[Member], Member | None]:
    """The form's fields as a filter; a member number becomes the member's records and account, and
    those of the records the CRM merged into theirs (returned too)."""
    chosen = form.action.data or ""
    if chosen.endswith(".*"):
        selected = tuple(action for action in actions if family_of(action) == chosen[:-2])
    else:
        selected = (chosen,) if chosen else ()
    target_type, target_id = (form.target_type.data or "").strip(), (form.target_id.data or "").strip()
    member: Member | None = None
    merged: list[Member] = []
    records: tuple[tuple[str, str], ...] = ()
    if form.member.data and form.member.data.strip():
        if target_type or target_id:
            raise _Refused("member", _("Choose either a member or a record type and number."))
        member = _member_numbered(form.member.data)
        if member is None:
            raise _Refused("member", _("No member has this member number."))
        merged = _merged_into(member)
        records = _records_of([member.id, *(row.id for row in merged)])
    actor_id, someone = None, None
    if form.actor.data and form.actor.data.strip():
        someone = _member_numbered(form.actor.data)
        actor_id = _account_of(someone) if someone is not None else None
        if actor_id is None:
            raise _Refused("actor", _("No portal account belongs to this member number."))
    since, until = form.since.data, form.until.data
    wanted = LogFilter(
        actions=selected,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        records=records,
        since=local_midnight(since) if since else None,
        until=local_midnight(until + timedelta(days=1)) if until else None,
    )
    return wanted, member, merged, someone


def _canonical_id(key: str) -> int | None:
    """A stored row id as the log writes it (`str(id)`): `05` or `٣` name no row."""
    if not (key.isascii() and key.isdigit()) or str(int(key)) != key or int(key) > CURSOR_MAX:
        return None
    return int(key)


def _member_record(wanted: LogFilter) -> Member | None:
    """The member whose data an explicit record filter shows: their member row, their account, or a
    row of theirs in another table (a presence, a grant, a terms acceptance, …)."""
    key = _canonical_id(wanted.target_id)
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
    elif (table := _OWNED_BY_A_MEMBER.get(wanted.target_type)) is not None:
        owner = session.scalar(select(table.member_id).where(table.id == key))
    return session.get(Member, owner) if owner is not None else None


def _members_in(rows: list[Any]) -> set[int]:
    """The existing members whose data the entries show: member rows and accounts named as targets."""
    wanted: dict[str, set[int]] = {Member.__tablename__: set(), Account.__tablename__: set()}
    for entry in rows:
        key = _canonical_id(entry.target_id)
        if key is not None and entry.target_type in wanted:
            wanted[entry.target_type].add(key)
    session = db_session()
    dialect = session.get_bind().dialect.name  # up to 10,000 ids: one array parameter, not 10,000
    accounts, members = sorted(wanted[Account.__tablename__]), sorted(wanted[Member.__tablename__])
    found = set(session.scalars(select(Account.member_id).where(among(dialect, Account.id, accounts))))
    return found | set(session.scalars(select(Member.id).where(among(dialect, Member.id, members))))


def _shown(value: Any) -> str:
    """A diff value as text for the page: None as a dash, structures as JSON, long text cut."""
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"


def _changes(changes: Any) -> list[tuple[str, str, str | None]]:
    """`(field, old, new)` for `{field: [old, new]}` diffs; `(field, value, None)` for anything else."""
    if not isinstance(changes, dict):
        return [("", _shown(changes), None)]
    return [
        (str(name), _shown(value[0]), _shown(value[1]))
        if isinstance(value, list) and len(value) == 2
        else (str(name), _shown(value), None)
        for name, value in changes.items()
    ]


def _members_named(page: Page, reads: Page) -> dict[str, Member]:
    """The members the page names, by the id the log holds: its entries' targets and the subjects of its
    look-ups (one query)."""
    ids = {
        key
        for entry in page.rows
        if entry.target_type == Member.__tablename__ and (key := _canonical_id(entry.target_id)) is not None
    } | {read.subject_member_id for read in reads.rows}
    if not ids:
        return {}
    return {str(row.id): row for row in db_session().scalars(select(Member).where(Member.id.in_(ids)))}


def _accounts_named(page: Page, reads: Page) -> dict[int, Member]:
    """The people behind the accounts that acted on the page (its entries and look-ups), by account id
    (one query): the log stores only their member number, the page shows their name beside it."""
    ids = {row.actor_id for row in [*page.rows, *reads.rows] if row.actor_kind == "account" and row.actor_id}
    if not ids:
        return {}
    rows = db_session().execute(
        select(Account.id, Member).join(Member, Member.id == Account.member_id).where(Account.id.in_(ids))
    )
    return dict(rows.all())


def _link(**changed: Any) -> str:
    """This page's URL with the current filters and `changed` (a None value drops the parameter)."""
    args = {**_filters_of(request.args), **changed}
    return url_for("audit_log.index", **{name: value for name, value in args.items() if value is not None})


def _filter_form(data: Any, actions: list[str]) -> LogFilterForm:
    """The filter with the log's own actions, and each family of them, as the action's choices."""
    form = LogFilterForm(data)
    families = sorted({family_of(action) for action in actions})
    form.action.choices = [
        ("", _("All actions")),
        *((f"{family}.*", _("%(family)s: every action", family=family)) for family in families),
        *((action, action) for action in actions),
    ]
    return form


def _record_look(subjects: list[Member]) -> None:
    """Whoever reads a member's diffs is recorded under each member id shown (theirs and the records
    merged into it), before the log is read (the admin sees this look listed). In its own short
    transaction, so a busy SQLite never has to upgrade the page's read transaction to a write."""
    with database().transaction() as writing:
        for subject in subjects:
            record_read(writing, actor=current_actor(), subject_member_id=subject.id, purpose=READ_PURPOSE)
    db_session().commit()  # end the read snapshot taken before the look was recorded


@blueprint.get("/")
@admin_required
def index() -> ResponseReturnValue:
    """The log, newest first, 50 entries a page; older pages by the sequence number."""
    session = db_session()
    actions = known_actions(session)
    form = _filter_form(request.args, actions)
    page, reads, member, acting, total = Page(), Page(), None, None, (0, False)
    merged: list[Member] = []
    if form.validate():
        try:
            wanted, member, merged, acting = _wanted(form, actions)
        except _Refused as refused:
            getattr(form, refused.field).errors = [refused.message]
        else:
            subject = member or _member_record(wanted)
            if subject is not None:
                _record_look([subject, *merged])
            page = log_page(session, wanted, before=form.before.data)
            total = count_matching(session, wanted)
            if member is not None:
                reads = reads_page(
                    session,
                    subject_member_ids=[member.id, *(row.id for row in merged)],
                    before=form.reads_before.data,
                )
            elif acting is not None:  # whose data this person looked at: how misuse is traced
                reads = reads_page(
                    session,
                    actor_id=wanted.actor_id,
                    excluding_subject=acting.id,  # their own page and downloads are not a look at others
                    before=form.reads_before.data,
                )
    status = 200 if not form.errors else 400
    members = _members_named(page, reads)
    accounts = _accounts_named(page, reads)

    def record_link(kind: str, key: str) -> str:
        """A member's entries lead to their history (a recorded look); other records to their entries."""
        someone = members.get(key) if kind == Member.__tablename__ else None
        if someone is not None:
            return url_for("audit_log.index", member=someone.member_number)
        return url_for("audit_log.index", target_type=kind, target_id=key)

    return render_template(
        "admin/log.html",
        form=form,
        page=page,
        reads=reads,
        member=member,
        merged=merged,
        acting=acting,
        members=members,
        accounts=accounts,
        total=total,
        head=chain_head(session),
        changes=_changes,
        older=_link(before=page.older, reads_before=None) if page.older else None,
        older_reads=_link(before=form.before.data, reads_before=reads.older) if reads.older else None,
        newest=_link() if form.before.data or form.reads_before.data else None,
        record_link=record_link,
        export_filters=_filters_of(request.args),
        export_limit=EXPORT_LIMIT,
    ), status


@blueprint.post("/export.csv")
@admin_required
@fresh_sign_in_required
def export() -> ResponseReturnValue:
    """The filtered log as CSV, newest first, at most EXPORT_LIMIT entries, formula-safe; like the member
    export, after a fresh sign-in and rate-limited. The export is itself an entry in the log (its filters
    and size), and every member whose row or account it holds entries about, or whose history it is,
    gets a recorded look."""
    limit("export")
    session = db_session()
    actions = known_actions(session)
    form = _filter_form(request.form, actions)
    back = redirect(url_for("audit_log.index", **_filters_of(request.form)))
    if not form.validate():
        return back  # the page shows what is wrong with the filters
    try:
        wanted, member, merged, _acting = _wanted(form, actions)
    except _Refused:
        return back
    rows = log_page(session, wanted, size=EXPORT_LIMIT).rows
    exporter, me = current_actor(), signed_in()
    people = {member.id, *(row.id for row in merged)} if member is not None else set()
    subjects = _members_in(rows) | (people if rows else set())
    for subject_id in sorted(subjects - ({me.member_id} if me is not None else set())):
        record_read(session, actor=exporter, subject_member_id=subject_id, purpose=EXPORT_PURPOSE)
    record_change(
        session,
        actor=exporter,
        action="audit.log_exported",
        target=("audit_entries", rows[0].seq if rows else 0),
        changes={"filters": [None, _filters_of(request.form)], "entries": [None, len(rows)]},
    )
    session.commit()
    body = csv_bytes(
        EXPORT_COLUMNS,
        (
            (
                entry.seq,
                entry.occurred_at,
                entry.actor_kind,
                entry.actor_id,
                entry.actor_label,
                entry.action,
                entry.target_type,
                entry.target_id,
                json.dumps(entry.changes, ensure_ascii=False, sort_keys=True),
                entry.request_id,
                entry.entry_hash,
            )
            for entry in rows
        ),
    )
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return download(body, filename=f"mutation-log-{stamp}.csv", mimetype="text/csv")


def _filters_of(data: Any) -> dict[str, Any]:
    """The filter fields a request carried, for a redirect back or the export's own log entry."""
    return {name: str(data[name]) for name in FILTERS if data.get(name)}
