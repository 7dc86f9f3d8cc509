"""At the door: check-in and check-out semantics, nonce retries, overrides, voting cards, guests, search."""

from datetime import timedelta

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from audit.models import AuditEntry
from audit.services import verify_chain
from portal.core import context
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.meetings import services
from portal.meetings.eligibility import Reason
from portal.meetings.models import Attendance, CheckInAttempt, CheckInMethod, Meeting, VoterRollEntry
from portal.meetings.services import Outcome, Signal
from portal.meetings.testing import make_frozen_meeting, make_meeting, nonce, steward
from portal.members.models import Member, MembershipStatus
from portal.members.testing import make_member, make_org_unit

# PostgreSQL checks a member in with one statement of its own (`_CHECK_IN_ON_ROLL`): both run everything.
pytestmark = pytest.mark.both_backends


@pytest.fixture
def door(db_session: Session) -> dict:
    branch = make_org_unit(db_session, name="Afdeling Utrecht")
    today = utcnow().date()
    people = {
        "voter": make_member(
            db_session, branch_id=branch.id, given_name="Anna", family_name="Vries", infix="de"
        ),
        "unpaid": make_member(db_session, branch_id=branch.id, dues_paid_through=today - timedelta(days=3)),
        "lapsed": make_member(
            db_session,
            branch_id=branch.id,
            status=MembershipStatus.LAPSED,
            member_until=today - timedelta(days=40),
        ),
        "visitor": make_member(db_session, branch_id=make_org_unit(db_session).id),
        "former": make_member(
            db_session, status=MembershipStatus.CANCELLED, branch_id=make_org_unit(db_session).id
        ),
    }
    meeting = make_frozen_meeting(db_session, org_unit_id=branch.id, rule_dues_paid=True)
    return {"meeting": meeting, "branch": branch, **people}


def _check_in(
    session: Session, meeting: Meeting, member: Member | str, number: int = 1, key: str | None = None
):
    number_text = member if isinstance(member, str) else member.member_number
    return services.check_in_member(
        session,
        meeting=meeting,
        member_number=number_text,
        actor=steward(number),
        nonce=nonce() if key is None else key,
    )


def _rows(session: Session, meeting: Meeting) -> list[Attendance]:
    return list(
        session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id).order_by(Attendance.id))
    )


def test_green_orange_red(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    green = _check_in(db_session, meeting, door["voter"])
    assert (green.outcome, green.signal, green.name) == (Outcome.CHECKED_IN, Signal.VOTE, "Anna de Vries")
    orange = _check_in(db_session, meeting, door["unpaid"])
    assert (orange.signal, orange.reasons) == (Signal.NO_VOTE, (Reason.DUES_UNPAID,))
    lapsed = _check_in(db_session, meeting, door["lapsed"])
    assert lapsed.signal is Signal.NO_VOTE
    assert Reason.LAPSED in lapsed.reasons
    visitor = _check_in(db_session, meeting, door["visitor"])
    assert (visitor.signal, visitor.reasons) == (Signal.NO_VOTE, (Reason.NOT_ON_ROLL,))
    for unknown in ("999999999", "' OR 1=1 --", "", "x" * 500):
        assert _check_in(db_session, meeting, unknown).signal is Signal.REFUSED
    former = _check_in(db_session, meeting, door["former"])
    assert (former.outcome, former.signal) == (Outcome.NOT_A_MEMBER, Signal.REFUSED)
    assert len(_rows(db_session, meeting)) == 4
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "meetings.check_in")
        )
        == 4
    )


def test_J10_failed_lookups_are_logged(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    _check_in(db_session, meeting, "424242")
    _check_in(db_session, meeting, door["former"])
    attempts = db_session.scalars(select(CheckInAttempt).order_by(CheckInAttempt.id)).all()
    assert [(a.query, a.outcome, a.steward) for a in attempts] == [
        ("424242", "unknown", "Steward 1"),
        (door["former"].member_number, "not_a_member", "Steward 1"),
    ]
    assert all(a.occurred_at and a.method is CheckInMethod.NUMBER for a in attempts)


def test_J1_a_second_steward_hears_who_checked_in_when(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    first = _check_in(db_session, meeting, door["voter"], number=1)
    second = _check_in(db_session, meeting, door["voter"], number=2)
    assert second.outcome is Outcome.ALREADY_PRESENT
    assert (second.checked_in_by, second.checked_in_at) == ("Steward 1", first.checked_in_at)
    assert len(_rows(db_session, meeting)) == 1
    attempt = db_session.scalar(select(CheckInAttempt))
    assert attempt is not None
    assert (attempt.outcome, attempt.steward) == ("already_present", "Steward 2")


def test_J2_a_retried_nonce_returns_the_first_answer(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    key = nonce()
    first = _check_in(db_session, meeting, door["voter"], key=key)
    again = _check_in(db_session, meeting, door["voter"], key=key)
    assert (again.outcome, again.attendance_id, again.replayed) == (
        Outcome.CHECKED_IN,
        first.attendance_id,
        True,
    )
    assert len(_rows(db_session, meeting)) == 1
    with pytest.raises(Conflict):
        _check_in(db_session, meeting, door["unpaid"], key=key)
    for bad in ("", "short", "x" * 65, "<script>alert(1)</script>"):
        with pytest.raises(ValidationFailed):
            _check_in(db_session, meeting, door["voter"], key=bad)


def test_check_out_and_re_entry_make_a_new_interval_never_a_toggle(db_session: Session, door: dict) -> None:
    meeting, voter = door["meeting"], door["voter"]
    _check_in(db_session, meeting, voter)
    out_key = nonce()
    out = services.check_out_member(
        db_session, meeting=meeting, member_number=voter.member_number, actor=steward(), nonce=out_key
    )
    assert out.outcome is Outcome.CHECKED_OUT
    assert out.checked_out_at is not None
    again = services.check_out_member(
        db_session, meeting=meeting, member_number=voter.member_number, actor=steward(), nonce=out_key
    )
    assert again.replayed
    twice = services.check_out_member(
        db_session, meeting=meeting, member_number=voter.member_number, actor=steward(), nonce=nonce()
    )
    assert twice.outcome is Outcome.NOT_PRESENT
    back = _check_in(db_session, meeting, voter)
    assert back.outcome is Outcome.CHECKED_IN
    # A late retry of the first check-out must not close the new interval.
    services.check_out_member(
        db_session, meeting=meeting, member_number=voter.member_number, actor=steward(), nonce=out_key
    )
    rows = _rows(db_session, meeting)
    assert len(rows) == 2
    assert rows[0].checked_out_at is not None
    assert rows[1].checked_out_at is None
    assert (
        services.check_out_member(
            db_session, meeting=meeting, member_number="nope", actor=steward(), nonce=nonce()
        ).outcome
        is Outcome.UNKNOWN
    )


def test_J4_override_needs_a_reason_is_recorded_and_reported(db_session: Session, door: dict) -> None:
    meeting, unpaid = door["meeting"], door["unpaid"]
    assert _check_in(db_session, meeting, unpaid).signal is Signal.NO_VOTE
    with pytest.raises(ValidationFailed):
        services.override_voting_right(
            db_session,
            meeting=meeting,
            member_number=unpaid.member_number,
            reason=" ",
            actor=steward(2),
            nonce=nonce(),
        )
    result = services.override_voting_right(
        db_session,
        meeting=meeting,
        member_number=unpaid.member_number,
        reason="Betaalbewijs van gisteren getoond",
        actor=steward(2),
        nonce=nonce(),
    )
    assert (result.signal, result.is_override) == (Signal.VOTE, True)
    (row,) = services.overrides(db_session, meeting)
    assert (row.override_reason, row.override_by, row.may_vote) == (
        "Betaalbewijs van gisteren getoond",
        "Steward 2",
        True,
    )
    assert services.live_counts(db_session, meeting).overrides == 1
    with pytest.raises(Conflict):
        services.override_voting_right(
            db_session,
            meeting=meeting,
            member_number=unpaid.member_number,
            reason="nogmaals",
            actor=steward(2),
            nonce=nonce(),
        )
    lapsed = services.override_voting_right(
        db_session,
        meeting=meeting,
        member_number=door["lapsed"].member_number,
        reason="Bestuursbesluit",
        actor=steward(),
        nonce=nonce(),
    )
    assert lapsed.outcome is Outcome.CHECKED_IN
    assert lapsed.is_override
    assert (
        db_session.scalar(select(AuditEntry).where(AuditEntry.action == "meetings.override_voting_right"))
        is not None
    )


def test_J5_an_override_never_admits_an_unknown_number_or_non_member(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    for number in ("31337", door["former"].member_number):
        with pytest.raises(NotFound):
            services.override_voting_right(
                db_session,
                meeting=meeting,
                member_number=number,
                reason="Hij zegt dat hij lid is",
                actor=steward(),
                nonce=nonce(),
            )
    assert _rows(db_session, meeting) == []


def test_J3_no_voting_card_without_voting_right_and_cards_are_unique(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    voter = _check_in(db_session, meeting, door["voter"])
    unpaid = _check_in(db_session, meeting, door["unpaid"])
    with pytest.raises(Conflict):
        services.record_voting_card(
            db_session, meeting=meeting, attendance_id=unpaid.attendance_id, card_number="17", actor=steward()
        )
    result = services.record_voting_card(
        db_session, meeting=meeting, attendance_id=voter.attendance_id, card_number="17", actor=steward()
    )
    assert result.voting_card_number == "17"
    other = services.override_voting_right(
        db_session,
        meeting=meeting,
        member_number=door["unpaid"].member_number,
        reason="Betaald aan de deur",
        actor=steward(),
        nonce=nonce(),
    )
    with pytest.raises(Conflict):
        services.record_voting_card(
            db_session, meeting=meeting, attendance_id=other.attendance_id, card_number="17", actor=steward()
        )
    for bad in ("", "=1+1", "x" * 33):
        with pytest.raises(ValidationFailed):
            services.record_voting_card(
                db_session,
                meeting=meeting,
                attendance_id=other.attendance_id,
                card_number=bad,
                actor=steward(),
            )
    with pytest.raises(NotFound):
        services.record_voting_card(
            db_session, meeting=meeting, attendance_id=987654, card_number="18", actor=steward()
        )


def test_the_door_is_closed_before_the_freeze_and_after_the_end(db_session: Session, door: dict) -> None:
    open_meeting = make_meeting(db_session, org_unit_id=door["branch"].id)
    with pytest.raises(Conflict):
        _check_in(db_session, open_meeting, door["voter"])
    ended = make_frozen_meeting(
        db_session,
        org_unit_id=door["branch"].id,
        starts_at=utcnow() - timedelta(hours=5),
        ends_at=utcnow() - timedelta(minutes=1),
    )
    with pytest.raises(Conflict):
        _check_in(db_session, ended, door["voter"])


def test_guests_are_counted_apart_and_have_no_vote(db_session: Session, door: dict) -> None:
    meeting = door["meeting"]
    key = nonce()
    guest = services.register_guest(
        db_session, meeting=meeting, name="  Pers  NRC ", note="pers", actor=steward(), nonce=key
    )
    assert (guest.signal, guest.name) == (Signal.NO_VOTE, "Pers NRC")
    assert services.register_guest(
        db_session, meeting=meeting, name="Pers NRC", note="pers", actor=steward(), nonce=key
    ).replayed
    with pytest.raises(ValidationFailed):
        services.register_guest(db_session, meeting=meeting, name="", note="", actor=steward(), nonce=nonce())
    with pytest.raises(ValidationFailed):
        services.register_guest(
            db_session, meeting=meeting, name="x" * 201, note="", actor=steward(), nonce=nonce()
        )
    _check_in(db_session, meeting, door["voter"])
    counts = services.live_counts(db_session, meeting)
    assert (counts.present, counts.present_voters, counts.guests) == (2, 1, 1)
    out = services.check_out_attendance(
        db_session, meeting=meeting, attendance_id=guest.attendance_id, actor=steward(), nonce=nonce()
    )
    assert out.outcome is Outcome.CHECKED_OUT
    assert services.live_counts(db_session, meeting).guests == 0


def test_name_search_finds_only_people_on_the_meetings_roll(db_session: Session, door: dict) -> None:
    """A branch's steward does not search the whole party: someone the roll does not list (another
    branch's member, or one who joined after the freeze) is checked in by card or number instead."""
    meeting = door["meeting"]
    visitor = door["visitor"]
    latecomer = make_member(db_session, branch_id=door["branch"].id, given_name="Joost", family_name="Laat")
    for person in (visitor, latecomer):
        found = services.search_members(
            db_session, meeting=meeting, query=person.family_name, actor=steward()
        )
        assert person.member_number not in [candidate.member_number for candidate in found.candidates]
    lapsed = door["lapsed"]  # on the roll, without a voting right: found, with their status
    found = services.search_members(db_session, meeting=meeting, query=lapsed.family_name, actor=steward())
    assert (lapsed.member_number, "lapsed") in [(c.member_number, c.status) for c in found.candidates]
    by_number = _check_in(db_session, meeting, visitor)
    assert (by_number.outcome, by_number.signal) == (Outcome.CHECKED_IN, Signal.NO_VOTE)
    assert Reason.NOT_ON_ROLL in by_number.reasons


def test_name_search_narrows_by_postcode_and_birth_year_without_showing_them(
    db_session: Session, door: dict
) -> None:
    from datetime import date

    branch = door["branch"].id
    make_member(
        db_session,
        branch_id=branch,
        given_name="Anna",
        infix="de",
        family_name="Vries",
        postcode="1234 AB",
        birth_date=date(1990, 1, 1),
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch)  # its roll lists both Annas
    result = services.search_members(db_session, meeting=meeting, query="anna de vries", actor=steward())
    assert result.same_name_count == 2
    assert all(not hasattr(candidate, "postcode") for candidate in result.candidates)
    by_postcode = services.search_members(
        db_session, meeting=meeting, query="Vries", postcode="1234ab", actor=steward()
    )
    assert [c.name for c in by_postcode.candidates] == ["Anna de Vries"]
    assert by_postcode.same_name_count == 1
    by_year = services.search_members(
        db_session, meeting=meeting, query="vries anna", birth_year=1980, actor=steward()
    )
    assert [c.member_number for c in by_year.candidates] == [door["voter"].member_number]
    typo = services.search_members(db_session, meeting=meeting, query="Anna Vriess", actor=steward())
    assert typo.candidates
    nothing = services.search_members(db_session, meeting=meeting, query="Zzyzx Qwerty", actor=steward())
    assert nothing.candidates == ()
    assert (
        db_session.scalar(select(CheckInAttempt.outcome).where(CheckInAttempt.method == CheckInMethod.SEARCH))
        == "no_match"
    )
    assert (
        services.search_members(db_session, meeting=meeting, query="%_'\"; --", actor=steward()).candidates
        == ()
    )


@pytest.mark.parametrize("roll_read", ["member_by_member", "from_the_name_index"])
def test_a_common_name_is_narrowed_by_postcode_and_birth_year_before_any_limit(
    db_session: Session, door: dict, roll_read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a congress 2,000 people may be called Bakker: the steward asks for the postcode, and the one
    person there is found however many others share the name (it was filtered after reading the first
    200, so the person at the asked postcode was often not found at all). Both ways of reading the roll:
    a branch's (member by member) and a congress's (the name index drives; forced here with a low bar)."""
    from datetime import date

    from portal.meetings.services import search

    if roll_read == "from_the_name_index":
        monkeypatch.setattr(search, "SMALL_ROLL", 2)
    branch = door["branch"].id
    for index in range(205):  # more than any page of candidates, all before the one wanted by name order
        make_member(db_session, branch_id=branch, given_name=f"Anna{index:03d}", family_name="Bakker")
    wanted = make_member(
        db_session,
        branch_id=branch,
        given_name="Zus",
        family_name="Bakker",
        postcode="9999 ZZ",
        birth_date=date(1961, 3, 4),
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch)
    everyone = services.search_members(db_session, meeting=meeting, query="Bakker", actor=steward())
    assert len(everyone.candidates) == search.MAX_RESULTS
    assert everyone.more
    for narrowed in (
        services.search_members(
            db_session, meeting=meeting, query="bakker", postcode="9999zz", actor=steward()
        ),
        services.search_members(
            db_session, meeting=meeting, query="Bakker", postcode=" 9999 ZZ ", actor=steward()
        ),
        services.search_members(
            db_session, meeting=meeting, query="Bakker", birth_year=1961, actor=steward()
        ),
        services.search_members(
            db_session, meeting=meeting, query="Bakkr", postcode="9999ZZ", actor=steward()
        ),  # misspelt, narrowed the same way
    ):
        assert [c.member_number for c in narrowed.candidates] == [wanted.member_number]
        assert not narrowed.more
    nobody = services.search_members(
        db_session, meeting=meeting, query="Bakker", postcode="1000AA", actor=steward()
    )
    assert nobody.candidates == ()


def test_a_misspelt_common_name_is_narrowed_before_the_misspellings_are_cut(
    db_session: Session, door: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Misspelt, a common name stands for thousands of candidates at a congress, cut at a bound: the
    roll and the postcode apply before that cut, or the one person asked for may fall past it."""
    from portal.members.services import name_matching

    monkeypatch.setattr(name_matching, "SIMILAR_CANDIDATES", 5)
    branch = door["branch"].id
    for index in range(12):
        make_member(db_session, branch_id=branch, given_name=f"Anna{index:02d}", family_name="Jansen")
    wanted = make_member(
        db_session, branch_id=branch, given_name="Zus", family_name="Jansen", postcode="9999 ZZ"
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch)
    found = services.search_members(
        db_session, meeting=meeting, query="Jnsen", postcode="9999zz", actor=steward()
    )
    assert [c.member_number for c in found.candidates] == [wanted.member_number]


def test_a_foreign_postcode_matches_whatever_its_case(db_session: Session, door: dict) -> None:
    """The CRM keeps foreign postcodes as given ('d02 x285'); the steward types them in any case."""
    branch = door["branch"].id
    dublin = make_member(
        db_session, branch_id=branch, given_name="Siobhan", family_name="Murphy", postcode="d02 x285"
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch)
    for typed in ("D02 X285", "d02x285", "D02X285"):
        found = services.search_members(
            db_session, meeting=meeting, query="Murphy", postcode=typed, actor=steward()
        )
        assert [c.member_number for c in found.candidates] == [dublin.member_number], typed


def test_J11_a_check_in_runs_a_bounded_number_of_queries(
    db_session: Session, door: dict, backend: str
) -> None:
    meeting = door["meeting"]
    statements: list[str] = []
    engine = db_session.get_bind()

    def count(*_args: object) -> None:
        statements.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        _check_in(db_session, meeting, door["voter"])
        first = len(statements)
        _check_in(db_session, meeting, door["voter"], number=2)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # PostgreSQL: find, insert and audit in one statement. SQLite: the look-up, the insert, the audit
    # head, its move and the entry.
    assert first == (1 if backend == "postgresql" else 5)
    assert len(statements) <= 30


def test_the_stored_name_is_the_display_name_whatever_the_spacing(db_session: Session) -> None:
    branch = make_org_unit(db_session)
    member = make_member(
        db_session, branch_id=branch.id, given_name="Anna \t Maria", infix="van  der", family_name="Berg"
    )
    meeting = make_frozen_meeting(db_session, org_unit_id=branch.id)

    result = _check_in(db_session, meeting, member)

    assert result.signal is Signal.VOTE
    assert result.name == "Anna Maria van der Berg"
    assert [row.name for row in _rows(db_session, meeting)] == ["Anna Maria van der Berg"]


def _entries_of(session: Session, meeting: Meeting) -> list[AuditEntry]:
    session.flush()
    ids = [str(row.id) for row in _rows(session, meeting)]
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.target_type == "attendances", AuditEntry.target_id.in_(ids))
            .order_by(AuditEntry.seq)
        )
    )


def test_a_check_ins_audit_entry_is_what_record_change_writes_and_the_chain_holds(
    db_session: Session, door: dict
) -> None:
    """On PostgreSQL the check-in statement appends its own entry, hashing in SQL around the values
    only it knows; the entry must read and hash exactly as one `record_change` wrote."""
    meeting = door["meeting"]
    odd = Actor.account(8100, 'Zoë "Z" O\'Neill \\ ⚖\n\t\u2028\x7f (8100)')  # quotes, escapes, controls
    asked = context.request_id.set('r"\\\n\u2028ü')  # the client may choose the request id
    try:
        services.check_in_member(
            db_session, meeting=meeting, member_number=door["voter"].member_number, actor=odd, nonce=nonce()
        )
    finally:
        context.request_id.reset(asked)
    _check_in(db_session, meeting, door["unpaid"])  # may not vote: the reason is recorded
    services.check_in_member(
        db_session,
        meeting=meeting,
        member_number=door["lapsed"].member_number,
        actor=steward(2),
        nonce=nonce(),
        override_reason='Betaald aan de deur — "bon" 12\r\n\x1f',
    )
    entries = _entries_of(db_session, meeting)
    presences = _rows(db_session, meeting)
    assert [entry.target_id for entry in entries] == [str(row.id) for row in presences]
    assert [entry.action for entry in entries] == [
        "meetings.check_in", "meetings.check_in", "meetings.override_check_in",
    ]  # fmt: skip
    assert (entries[0].actor_label, entries[0].actor_id) == (odd.label, 8100)
    assert entries[0].request_id == 'r"\\\n\u2028ü'
    for entry, presence in zip(entries, presences, strict=True):
        assert entry.changes == {
            "meeting_id": [None, meeting.id],
            "member_id": [None, presence.member_id],
            "may_vote": [None, presence.may_vote],
            "reasons": [None, presence.reasons],
            "override_reason": [None, presence.override_reason or None],
        }
    assert entries[1].changes["reasons"][1] == Reason.DUES_UNPAID.value
    assert entries[2].changes["may_vote"] == [None, True]
    assert verify_chain(db_session).is_intact  # each entry hashes as record_change's would


def _give_odd_reasons(session: Session, meeting: Meeting, member: Member) -> None:
    """Reasons on the member's roll entry that are not plain codes (a quote, a backslash)."""
    entry = session.scalar(
        select(VoterRollEntry).where(
            VoterRollEntry.meeting_id == meeting.id, VoterRollEntry.member_id == member.id
        )
    )
    assert entry is not None
    entry.reasons = 'dues_unpaid,"odd\\'


def test_reasons_the_statement_does_not_splice_are_audited_by_record_change(
    db_session: Session, door: dict
) -> None:
    """Reason codes are plain words; should a roll ever hold anything else, the check-in still gets
    its entry (written the ordinary way) and the chain still holds."""
    meeting = door["meeting"]
    _give_odd_reasons(db_session, meeting, door["unpaid"])
    db_session.flush()
    result = _check_in(db_session, meeting, door["unpaid"])
    assert result.outcome is Outcome.CHECKED_IN
    (written,) = _entries_of(db_session, meeting)
    assert written.target_id == str(result.attendance_id)
    assert verify_chain(db_session).is_intact


def _visible_elsewhere(session: Session, meeting: Meeting) -> tuple[int, int]:
    """Presences of the meeting and their audit entries as another connection sees them (committed)."""
    with session.get_bind().connect().execution_options(sqlite_begin="DEFERRED") as other:
        presences = other.scalar(
            select(func.count()).select_from(Attendance).where(Attendance.meeting_id == meeting.id)
        )
        entries = other.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.target_type == "attendances")
        )
    return int(presences or 0), int(entries or 0)


def _committed_only_with_the_request(session: Session, meeting: Meeting) -> None:
    """The check-in's presence and entry are not seen elsewhere until the session commits, then both."""
    assert _visible_elsewhere(session, meeting) == (0, 0)
    session.commit()
    assert _visible_elsewhere(session, meeting) == (1, 1)


def test_a_check_in_commits_by_itself_on_postgresql_and_with_the_request_on_sqlite(
    db_session: Session, door: dict, backend: str
) -> None:
    """With no transaction open (as at the door, after the session and guard reads), PostgreSQL's
    check-in statement is a transaction of its own: presence and entry committed together as it ends,
    no BEGIN or COMMIT round trips, the chain's head not held while the worker builds its answer.
    SQLite commits them with the request."""
    meeting = door["meeting"]
    db_session.commit()
    result = _check_in(db_session, meeting, door["unpaid"])
    assert result.outcome is Outcome.CHECKED_IN
    if backend == "postgresql":
        assert _visible_elsewhere(db_session, meeting) == (1, 1)  # before the session commits
        driver = db_session.connection().connection.driver_connection
        assert driver is not None
        assert driver.autocommit is False
        assert driver.info.transaction_status == TransactionStatus.IDLE
        db_session.rollback()  # nothing left to undo
        assert _visible_elsewhere(db_session, meeting) == (1, 1)
    else:
        _committed_only_with_the_request(db_session, meeting)
    assert verify_chain(db_session).is_intact


def test_a_check_in_the_statement_cannot_audit_commits_only_with_its_entry(
    db_session: Session, door: dict, backend: str
) -> None:
    """Reasons the statement cannot splice into JSON: it inserts nothing, and the presence and its
    ordinary entry wait for the request's commit together (a crash between them loses both, never one)."""
    meeting = door["meeting"]
    _give_odd_reasons(db_session, meeting, door["unpaid"])
    db_session.commit()
    result = _check_in(db_session, meeting, door["unpaid"])
    assert result.outcome is Outcome.CHECKED_IN
    _committed_only_with_the_request(db_session, meeting)
    assert verify_chain(db_session).is_intact


def test_a_refused_or_repeated_check_in_writes_in_the_requests_transaction(
    db_session: Session, door: dict, backend: str
) -> None:
    """What the statement did not insert (already present, not a member) is logged in the request's
    own transaction, as on SQLite."""
    meeting = door["meeting"]
    db_session.commit()
    _check_in(db_session, meeting, door["voter"])
    again = _check_in(db_session, meeting, door["voter"], number=2)
    refused = _check_in(db_session, meeting, door["former"])
    assert (again.outcome, refused.outcome) == (Outcome.ALREADY_PRESENT, Outcome.NOT_A_MEMBER)
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(CheckInAttempt)) == 0
    # PostgreSQL's first check-in had committed by itself; SQLite's went with the rollback.
    assert _visible_elsewhere(db_session, meeting) == ((1, 1) if backend == "postgresql" else (0, 0))
