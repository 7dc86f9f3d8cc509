"""The mutation log for admins: every change, filtered by action, person, record and date, newest first.
A member's history holds the entries about their member record, their portal account and the rows
that are theirs elsewhere (presences at meetings, steward duties, suspensions, roll differences, role
grants, edits waiting for the CRM, terms acceptances), and who looked at their data; looking it up is
itself a read access. For the person who acted, it lists whose data they looked at."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

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
from portal.admin.forms import LogFilterForm
from portal.admin.log_people import (
    account_of,
    accounts_named,
    member_numbered,
    member_record,
    members_in,
    members_named,
    merged_into,
    records_of,
)
from portal.auth.guards import admin_required, current_actor, fresh_sign_in_required, signed_in
from portal.core.clock import local_midnight, utcnow
from portal.core.downloads import download
from portal.core.extension import database, db_session
from portal.members.models import Member
from portal.members.spreadsheets import csv_bytes
from portal.members.views.rate_limits import limit

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
        member = member_numbered(form.member.data)
        if member is None:
            raise _Refused("member", _("No member has this member number."))
        merged = merged_into(member)
        records = records_of([member.id, *(row.id for row in merged)])
    actor_id, someone = None, None
    if form.actor.data and form.actor.data.strip():
        someone = member_numbered(form.actor.data)
        actor_id = account_of(someone) if someone is not None else None
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
            subject = member or member_record(wanted)
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
    members = members_named(page, reads)
    accounts = accounts_named(page, reads)

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
    subjects = members_in(rows) | (people if rows else set())
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
