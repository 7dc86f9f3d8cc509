"""The mutation log page: admins read every change and who looked at a member; nobody else reads it;
hostile filters get a clear message and read nothing."""

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry, ReadAccess
from audit.services import record_change, record_read
from crm_sync.models import MemberMerge
from portal.admin.log import EXPORT_PURPOSE, READ_PURPOSE
from portal.auth.models import RoleGrant
from portal.auth.roles import Role
from portal.auth.services.grants import grant_role
from portal.auth.testing import csrf_from
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.meetings import services
from portal.meetings.models import Attendance, StewardAssignment, VotingSuspension
from portal.meetings.services.meetings import assign_steward, record_suspension
from portal.meetings.testing import make_frozen_meeting, nonce, steward
from portal.members.services import update_member

OFFICER = Actor.account(991, "Olga Officer")


def _rows(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return body.count("<tr>")


def test_admins_read_each_change_with_its_person_and_diff(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory
) -> None:
    member = member_factory(family_name="Kuipers", city="Utrecht")
    update_member(db_session, actor=OFFICER, member=member, changes={"city": "Zeist"})
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    page = admin.get("/admin/log/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Olga Officer" in html
    assert "Kuipers" in html
    assert member.member_number in html
    assert re.search(r"Utrecht</span> → Zeist", html)
    assert 'aria-current="page"' in html
    assert "/admin/log/" in html


@pytest.mark.parametrize(
    "role",
    [None, Role.BRANCH_BOARD, Role.REGIONAL_OFFICER, Role.NATIONAL_ADMINISTRATOR, Role.STEWARD],
)
def test_nobody_but_an_admin_reads_the_log(signed_in_client, org_tree, role) -> None:  # type: ignore[no-untyped-def]
    client, _ = signed_in_client(role, org_tree.national.id if role else None)
    assert client.get("/admin/log/").status_code == 403
    assert client.get("/admin/log/?member=1").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/admin/log/")
    assert answer.status_code == 302
    assert "/sign-in" in answer.headers["Location"]


def test_a_members_history_shows_their_record_and_account_who_looked_and_logs_the_look(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    member, other = member_factory(family_name="Visser"), member_factory(family_name="Smit")
    account, _ = account_factory(member=member)
    update_member(db_session, actor=OFFICER, member=member, changes={"city": "Ede"})
    update_member(db_session, actor=OFFICER, member=other, changes={"city": "Epe"})
    record_change(
        db_session, actor=Actor.system("sign-in"), action="auth.totp_replayed", target=account, changes={}
    )
    record_read(db_session, actor=OFFICER, subject_member_id=member.id, purpose="member detail (officer)")
    db_session.commit()
    admin, credentials = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?member={member.member_number}").get_data(as_text=True)
    assert "Ede" in html
    assert "Epe" not in html
    assert "auth.totp_replayed" in html  # about their account
    assert "member detail (officer)" in html
    # on a phone each look is a card of labelled cells, as the entries are (no sideways scrolling)
    assert re.search(r'<td data-label="[^"]+">member detail \(officer\)</td>', html)
    assert READ_PURPOSE in html  # this very look is listed
    looks = db_session.scalars(
        select(ReadAccess).where(
            ReadAccess.subject_member_id == member.id, ReadAccess.purpose == READ_PURPOSE
        )
    ).all()
    assert [look.actor_id for look in looks] == [credentials.account_id]


def test_a_members_history_holds_their_presences_duties_suspensions_and_grants(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    """Entries about rows of theirs in other tables belong to a member's history too (GDPR art. 15);
    the same kind of entry about someone else does not. Exporting that history records a look at them."""
    member = member_factory(family_name="Visser", branch_id=org_tree.branch.id)
    other = member_factory(family_name="Smit", branch_id=org_tree.branch.id)
    meeting = make_frozen_meeting(db_session, org_unit_id=org_tree.branch.id)
    for someone in (member, other):
        services.check_in_member(
            db_session,
            meeting=meeting,
            member_number=someone.member_number,
            actor=steward(),
            nonce=nonce(),
        )
        assign_steward(db_session, meeting=meeting, member_number=someone.member_number, actor=OFFICER)
    record_suspension(
        db_session,
        member_id=member.id,
        starts_on=utcnow().date(),
        ends_on=None,
        reason="Besluit van het bestuur",
        actor=OFFICER,
    )
    granter, _ = account_factory(member=member_factory(family_name="Bakker"))
    now = utcnow()
    grant_role(
        db_session,
        member=member,
        role=Role.BRANCH_BOARD,
        scope_unit_id=org_tree.branch.id,
        ends_at=now + timedelta(days=30),
        reason="Waarnemend secretaris",
        actor=Actor.account(granter.id, "Gerda Granter"),
        now=now,
    )
    db_session.commit()

    def theirs_in(table):  # type: ignore[no-untyped-def]
        return (
            table.__tablename__,
            str(db_session.scalar(select(table.id).where(table.member_id == member.id))),
        )

    theirs = {theirs_in(table) for table in (Attendance, StewardAssignment, VotingSuspension, RoleGrant)}
    db_session.commit()
    admin, credentials = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?member={member.member_number}").get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    linked = set(re.findall(r"target_type=(\w+)&amp;target_id=(\d+)\"", body))
    assert linked == theirs
    for action in ("meetings.check_in", "meetings.assign_steward", "meetings.suspend_voting_right"):
        assert action in body
    assert "Waarnemend secretaris" in body
    export = admin.post(
        "/admin/log/export.csv",
        data={"member": member.member_number, "csrf_token": csrf_from(html)},
    )
    assert export.status_code == 200
    assert "meetings.check_in" in export.get_data(as_text=True)
    looks = db_session.scalars(
        select(ReadAccess.subject_member_id).where(
            ReadAccess.purpose == EXPORT_PURPOSE, ReadAccess.actor_id == credentials.account_id
        )
    ).all()
    assert looks == [member.id]
    presence = next(key for kind, key in theirs if kind == "attendances")
    db_session.rollback()  # a new snapshot (SQLite) for the look the next page records
    by_record = admin.get(f"/admin/log/?target_type=attendances&target_id={presence}")
    assert by_record.status_code == 200  # a record of theirs: a look at them too
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(ReadAccess)
            .where(ReadAccess.subject_member_id == member.id, ReadAccess.purpose == READ_PURPOSE)
        )
        == 2
    )


def test_filter_by_the_person_who_acted_and_by_action(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    acting_member = member_factory(family_name="Dekker")
    account, _ = account_factory(member=acting_member)
    record_change(
        db_session,
        actor=Actor.account(account.id, "Dekker"),
        action="members.update",
        target=("members", 1),
        changes={"city": ["A", "B"]},
    )
    record_change(
        db_session, actor=OFFICER, action="meetings.check_in", target=("attendances", 5), changes={}
    )
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    mine = admin.get(f"/admin/log/?actor={acting_member.member_number}").get_data(as_text=True)
    assert "members.update" in mine
    assert "meetings.check_in</code>" not in mine
    checked = admin.get("/admin/log/?action=meetings.check_in").get_data(as_text=True)
    assert _rows(checked) == 1
    assert "attendances #5" in checked
    family = admin.get("/admin/log/?action=meetings.*").get_data(as_text=True)
    assert _rows(family) == 1


def test_paging_follows_the_older_link_to_the_end(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session
) -> None:
    for index in range(60):
        record_change(
            db_session,
            actor=OFFICER,
            action="members.update",
            target=("members", index),
            changes={"i": [0, index]},
        )
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    first = admin.get("/admin/log/?action=members.update").get_data(as_text=True)
    assert _rows(first) == 50
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    assert "action=members.update" in older.group(1)
    rest = admin.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _rows(rest) == 10
    assert 'rel="next"' not in rest


@pytest.mark.both_backends  # PostgreSQL refuses NUL in text and 32-bit overflow: neither may reach it
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("before=abc", "Page of entries: Not a valid integer value"),
        ("before=-5", "Number must be between 1 and 2147483647"),
        ("action=%27%3B%20DROP%20TABLE%20audit_entries%3B--", "Not a valid choice"),
        ("member=999999999", "No member has this member number"),
        ("actor=999999999", "No portal account belongs to this member number"),
        ("since=2026-05-02&until=2026-05-01", "The end date lies before the start date"),
        ("since=31-31-2026", "Not a valid date value"),
        ("target_id=" + "9" * 65, "Field cannot be longer than 64 characters"),
        ("member=1&target_type=members&target_id=1", "Choose either a member or a record"),
        ("before=2147483648", "Number must be between 1 and 2147483647"),
        ("reads_before=" + "9" * 40, "Number must be between 1 and 2147483647"),
        ("until=9999-12-31", "Give a date between 1900 and 9998"),
        ("since=0001-01-01", "Give a date between 1900 and 9998"),
        ("member=1%07", "Remove the control characters"),  # NUL: the app refuses it for every endpoint
        ("actor=%0d%0a1", "Remove the control characters"),
        ("target_type=members%0a&target_id=1", "Remove the control characters"),
        ("target_id=1%1b%5b2J", "Remove the control characters"),
    ],
)
def test_hostile_or_wrong_filters_get_a_clear_message_and_no_entries(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, query, message
) -> None:
    member_factory(member_number="1")
    record_change(
        db_session, actor=OFFICER, action="members.update", target=("members", 1), changes={"x": [1, 2]}
    )
    db_session.commit()
    reads_before = db_session.scalar(select(func.count()).select_from(ReadAccess))
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    answer = admin.get(f"/admin/log/?{query}", headers={"Accept-Language": "en"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html
    assert "lp-error-summary" in html
    assert _rows(html) == 0
    assert db_session.scalar(select(func.count()).select_from(ReadAccess)) == reads_before


def test_values_in_the_log_are_shown_as_text_never_as_markup(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session
) -> None:
    record_change(
        db_session,
        actor=Actor.account(5, "<img src=x onerror=alert(1)>"),
        action="members.update",
        target=("members<b>", '1"><script>'),
        changes={
            "<i>field</i>": ["<script>alert(1)</script>", {"nested": "<svg onload=alert(2)>"}],
            "note": "x" * 500,
        },
    )
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get("/admin/log/").get_data(as_text=True)
    for raw in ("<script>alert(1)", "<img src=x", "<svg onload", "<i>field</i>", "members<b>", '1"><script>'):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "x" * 200 + "…" in html
    assert "x" * 201 not in html


def test_reading_a_members_entries_by_record_is_recorded_too_and_links_lead_to_the_history(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory
) -> None:
    member = member_factory(family_name="Bos")
    update_member(db_session, actor=OFFICER, member=member, changes={"city": "Elst"})
    db_session.commit()
    admin, credentials = signed_in_client(Role.ADMIN, org_tree.national.id)
    everything = admin.get("/admin/log/").get_data(as_text=True)
    assert (
        f"/admin/log/?member={member.member_number}" in everything
    )  # the member's name leads to the history
    by_record = admin.get(f"/admin/log/?target_type=members&target_id={member.id}").get_data(as_text=True)
    assert "Elst" in by_record
    looks = db_session.scalars(
        select(ReadAccess.actor_id).where(
            ReadAccess.subject_member_id == member.id, ReadAccess.purpose == READ_PURPOSE
        )
    ).all()
    assert looks == [credentials.account_id]
    assert (
        admin.get("/admin/log/?target_type=members&target_id=99999999999").status_code == 200
    )  # no such member


def test_the_person_who_acted_shows_whose_data_they_looked_at(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    officer_member = member_factory(family_name="Mulder")
    account, _ = account_factory(member=officer_member)
    looked_at = member_factory(family_name="Jansen")
    record_read(
        db_session,
        actor=Actor.account(account.id, "Mulder"),
        subject_member_id=looked_at.id,
        purpose="member detail (officer)",
    )
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?actor={officer_member.member_number}").get_data(as_text=True)
    assert "Jansen" in html
    assert looked_at.member_number in html
    assert f"/admin/log/?member={looked_at.member_number}" in html
    assert re.search(r'<td data-label="[^"]+">member detail \(officer\)</td>', html)


def test_the_export_is_formula_safe_filtered_needs_csrf_and_is_itself_logged(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory
) -> None:
    member = member_factory(family_name="Prins")
    formula = Actor.account(992, '=HYPERLINK("http://x","y")')
    record_change(
        db_session, actor=formula, action="members.update", target=member, changes={"city": ["A", "-1+2"]}
    )
    record_change(
        db_session, actor=OFFICER, action="meetings.check_in", target=("attendances", 9), changes={}
    )
    db_session.commit()
    admin, credentials = signed_in_client(Role.ADMIN, org_tree.national.id)
    page = admin.get(f"/admin/log/?member={member.member_number}").get_data(as_text=True)
    assert f'name="member" value="{member.member_number}"' in page  # the export carries the page's filters
    token = csrf_from(page)
    assert admin.post("/admin/log/export.csv", data={"member": member.member_number}).status_code == 400
    answer = admin.post("/admin/log/export.csv", data={"csrf_token": token, "member": member.member_number})
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="mutation-log-')
    text = answer.get_data(as_text=True)
    assert "members.update" in text
    assert "meetings.check_in" not in text  # filtered like the page
    assert '"=HYPERLINK' not in text  # every cell starting like a formula is quoted with a leading '
    assert "\"'=HYPERLINK" in text
    exported = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.log_exported")).one()
    assert exported.actor_id == credentials.account_id
    assert exported.changes["filters"][1] == {"member": member.member_number}
    assert exported.changes["entries"][1] == 1
    export_reads = db_session.scalars(
        select(ReadAccess.subject_member_id).where(ReadAccess.purpose == EXPORT_PURPOSE)
    ).all()
    assert export_reads == [member.id]  # the member whose entries left the portal sees the look
    db_session.rollback()  # the test's write session must not hold SQLite's lock during the next request
    bad = admin.post("/admin/log/export.csv", data={"csrf_token": token, "before": "abc"})
    assert bad.status_code == 302  # back to the page, which names the problem; nothing exported
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "audit.log_exported")
        )
        == 1
    )


def test_an_export_of_many_people_records_a_look_at_each_and_needs_a_fresh_sign_in(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    edited, signed_in = member_factory(family_name="Kok"), member_factory(family_name="Wit")
    account, _ = account_factory(member=signed_in)
    update_member(db_session, actor=OFFICER, member=edited, changes={"city": "Ede"})
    record_change(
        db_session, actor=Actor.system("sign-in"), action="auth.totp_replayed", target=account, changes={}
    )
    record_change(
        db_session, actor=OFFICER, action="meetings.check_in", target=("attendances", 3), changes={}
    )
    record_change(db_session, actor=OFFICER, action="members.update", target=("members", "05"), changes={})
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    token = csrf_from(admin.get("/admin/log/").get_data(as_text=True))
    assert admin.post("/admin/log/export.csv", data={"csrf_token": token}).status_code == 200
    looked = set(
        db_session.scalars(select(ReadAccess.subject_member_id).where(ReadAccess.purpose == EXPORT_PURPOSE))
    )
    assert looked == {edited.id, signed_in.id}  # member rows and accounts; "05" names no row
    db_session.rollback()
    with time_machine.travel(utcnow() + timedelta(minutes=11)):
        stale = admin.post("/admin/log/export.csv", data={"csrf_token": token})
    assert stale.status_code == 302
    assert "/confirm" in stale.headers["Location"] or "reauth" in stale.headers["Location"]


def test_the_actors_list_leaves_out_their_own_data_and_a_record_filter_on_an_account_is_a_look(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    officer_member = member_factory(family_name="Meijer")
    account, _ = account_factory(member=officer_member)
    mine = Actor.account(account.id, "Meijer")
    record_read(db_session, actor=mine, subject_member_id=officer_member.id, purpose="download own data")
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?actor={officer_member.member_number}").get_data(as_text=True)
    assert "download own data" not in html
    assert "looked at no other member" in html or "geen gegevens van andere leden" in html
    admin.get(f"/admin/log/?target_type=accounts&target_id={account.id}")
    admin.get(f"/admin/log/?target_type=members&target_id=0{officer_member.id}")  # not how the log names it
    looks = db_session.scalars(
        select(ReadAccess.subject_member_id).where(ReadAccess.purpose == READ_PURPOSE)
    ).all()
    assert looks == [officer_member.id]


def test_a_members_history_holds_the_records_the_crm_merged_into_theirs(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    survivor = member_factory(family_name="Jansen")
    merged = member_factory(family_name="Jansen-Bakker")  # the same person, twice in the CRM
    older = member_factory(family_name="Bakker")  # merged into `merged` before that merge
    stranger = member_factory(family_name="Smit")
    restored = member_factory(family_name="Jansen")  # merged wrongly, restored in the CRM: someone else
    account, _ = account_factory(member=merged)  # the account stays with the record it was made for
    update_member(db_session, actor=OFFICER, member=merged, changes={"city": "Ede"})
    update_member(db_session, actor=OFFICER, member=older, changes={"city": "Elst"})
    update_member(db_session, actor=OFFICER, member=stranger, changes={"city": "Epe"})
    update_member(db_session, actor=OFFICER, member=restored, changes={"city": "Assen"})
    record_change(
        db_session, actor=Actor.system("sign-in"), action="auth.totp_replayed", target=account, changes={}
    )
    record_read(db_session, actor=OFFICER, subject_member_id=merged.id, purpose="call list (before merge)")
    now = utcnow()
    merged.removed_at = older.removed_at = now  # a merged-away record is a tombstone in the replica
    db_session.add_all(
        [
            MemberMerge(merged_member_id=merged.id, survivor_member_id=survivor.id, detected_at=now),
            MemberMerge(merged_member_id=older.id, survivor_member_id=merged.id, detected_at=now),
            MemberMerge(merged_member_id=restored.id, survivor_member_id=survivor.id, detected_at=now),
        ]
    )
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?member={survivor.member_number}").get_data(as_text=True)
    assert "Ede" in html
    assert "Elst" in html  # two merges deep
    assert "Epe" not in html
    assert "Assen" not in html
    assert restored.member_number not in html
    assert "auth.totp_replayed" in html  # the merged record's account
    assert "call list (before merge)" in html  # who looked at the merged record
    assert merged.member_number in html
    assert older.member_number in html
    assert "samengevoegd" in html  # the admin is told why other member numbers appear
    alone = admin.get(f"/admin/log/?member={stranger.member_number}").get_data(as_text=True)
    assert "samengevoegd" not in alone
    looked = db_session.scalars(
        select(ReadAccess.subject_member_id).where(ReadAccess.purpose == READ_PURPOSE)
    )
    assert {survivor.id, merged.id, older.id} <= set(looked)  # the look is recorded under each record shown


def test_the_person_who_acted_is_named_and_leads_to_what_else_they_did(  # type: ignore[no-untyped-def]
    signed_in_client, org_tree, db_session: Session, member_factory, account_factory
) -> None:
    officer = member_factory(given_name="Fenna", family_name="Wierda")
    account, _ = account_factory(member=officer)
    acting = Actor.account(account.id, officer.member_number)  # what the log stores: the member number
    target = member_factory(family_name="Dijkstra")
    update_member(db_session, actor=acting, member=target, changes={"city": "Sneek"})
    record_read(db_session, actor=acting, subject_member_id=target.id, purpose="call list")
    at_the_door = Actor.account(account.id, f"Fenna Wierda ({officer.member_number})")  # as stewards are
    update_member(db_session, actor=at_the_door, member=target, changes={"city": "Joure"})
    db_session.commit()
    admin, _ = signed_in_client(Role.ADMIN, org_tree.national.id)
    html = admin.get(f"/admin/log/?member={target.member_number}").get_data(as_text=True)
    named = f'<a href="/admin/log/?actor={officer.member_number}">Fenna Wierda</a> ({officer.member_number})'
    assert html.count(named) == 3  # two changes and the look, the name never twice
    assert "(Fenna Wierda" not in html
    prankster = member_factory(given_name="<script>alert(1)</script>", family_name="Bos")
    pranks, _ = account_factory(member=prankster)
    update_member(
        db_session,
        actor=Actor.account(pranks.id, prankster.member_number),
        member=target,
        changes={"city": "Urk"},
    )
    db_session.commit()
    html = admin.get(f"/admin/log/?member={target.member_number}").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bos</a>" in html
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "member.updated")).first()
    assert entry is not None
    assert entry.actor_label == officer.member_number  # the name is looked up, never written into the log
