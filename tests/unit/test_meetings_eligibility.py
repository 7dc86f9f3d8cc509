"""The voting-rights rule, the quorum rule, door access and export safety: pure, no database."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.meetings import access, exports, quorum
from portal.meetings.eligibility import (
    MeetingFacts,
    MemberFacts,
    Reason,
    UnitScope,
    VotingRule,
    belongs_on_roll,
    compile_rule,
    decode,
    encode,
    judge,
    subtree,
)

MEETING = MeetingFacts(
    cutoff_date=date(2026, 3, 1), meeting_date=date(2026, 3, 15), unit_ids=frozenset({10, 11})
)
GOOD = MemberFacts(
    status="current",
    branch_id=11,
    member_since=date(2020, 1, 1),
    member_until=None,
    dues_paid_through=date(2026, 12, 31),
)
ALL_RULES = VotingRule(
    unit_scope=UnitScope.SUBTREE,
    current_at_cutoff=True,
    dues_paid=True,
    min_membership_days=90,
    exclude_suspended=True,
)


def test_a_current_member_in_the_unit_who_paid_may_vote() -> None:
    verdict = judge(GOOD, MEETING, ALL_RULES)
    assert verdict.may_vote
    assert verdict.reasons == ()
    assert verdict.codes == ""


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "deceased"}, Reason.DECEASED),
        ({"status": "cancelled", "member_until": date(2026, 1, 1)}, Reason.CANCELLED),
        ({"status": "lapsed", "member_until": date(2026, 1, 1)}, Reason.LAPSED),
        ({"is_removed": True}, Reason.REMOVED),
        ({"branch_id": 99}, Reason.NOT_IN_UNIT),
        ({"branch_id": None}, Reason.NOT_IN_UNIT),
        ({"member_since": date(2026, 3, 2)}, Reason.NOT_CURRENT_AT_CUTOFF),
        ({"member_since": None}, Reason.NOT_CURRENT_AT_CUTOFF),
        ({"dues_paid_through": date(2026, 3, 14)}, Reason.DUES_UNPAID),
        ({"dues_paid_through": None}, Reason.DUES_UNPAID),
        ({"member_since": date(2026, 1, 1)}, Reason.MEMBERSHIP_TOO_SHORT),
        ({"is_suspended": True}, Reason.SUSPENDED),
    ],
)
def test_J3_every_reason_code_is_given_and_withholds_the_vote(change: dict, reason: Reason) -> None:
    verdict = judge(replace(GOOD, **change), MEETING, ALL_RULES)
    assert not verdict.may_vote
    assert reason in verdict.reasons


def test_every_reason_code_is_covered_by_a_case() -> None:
    door_only = {Reason.NOT_ON_ROLL}
    covered = {
        Reason.DECEASED, Reason.CANCELLED, Reason.LAPSED, Reason.REMOVED, Reason.NOT_IN_UNIT,
        Reason.NOT_CURRENT_AT_CUTOFF, Reason.DUES_UNPAID, Reason.MEMBERSHIP_TOO_SHORT, Reason.SUSPENDED,
    }  # fmt: skip
    assert covered | door_only == set(Reason)


def test_membership_that_ended_before_the_cutoff_is_not_current() -> None:
    ended = replace(GOOD, member_until=date(2026, 2, 28))
    assert judge(ended, MEETING, ALL_RULES).reasons == (Reason.NOT_CURRENT_AT_CUTOFF,)
    on_the_day = replace(GOOD, member_until=date(2026, 3, 1))
    assert judge(on_the_day, MEETING, ALL_RULES).may_vote


def test_options_that_are_off_are_not_checked() -> None:
    lenient = VotingRule(
        unit_scope=UnitScope.ANY, current_at_cutoff=False, dues_paid=False, exclude_suspended=False
    )
    member = replace(
        GOOD, branch_id=99, dues_paid_through=None, member_since=date(2026, 3, 10), is_suspended=True
    )
    assert judge(member, MEETING, lenient).may_vote


def test_status_never_lets_a_non_member_vote_even_with_every_option_off() -> None:
    lenient = VotingRule(unit_scope=UnitScope.ANY, current_at_cutoff=False, exclude_suspended=False)
    for status, reason in (
        ("lapsed", Reason.LAPSED),
        ("cancelled", Reason.CANCELLED),
        ("deceased", Reason.DECEASED),
    ):
        assert judge(replace(GOOD, status=status), MEETING, lenient).reasons == (reason,)


def test_unit_scope_unit_means_the_unit_itself() -> None:
    only_unit = replace(MEETING, unit_ids=frozenset({10}))
    rule = VotingRule(unit_scope=UnitScope.UNIT)
    assert judge(replace(GOOD, branch_id=10), only_unit, rule).may_vote
    assert judge(replace(GOOD, branch_id=11), only_unit, rule).reasons == (Reason.NOT_IN_UNIT,)


def test_minimum_membership_age_counts_days_to_the_meeting() -> None:
    rule = VotingRule(min_membership_days=14, current_at_cutoff=False)
    exactly = replace(GOOD, member_since=MEETING.meeting_date - timedelta(days=14))
    one_short = replace(GOOD, member_since=MEETING.meeting_date - timedelta(days=13))
    assert judge(exactly, MEETING, rule).may_vote
    assert judge(one_short, MEETING, rule).reasons == (Reason.MEMBERSHIP_TOO_SHORT,)


def test_several_reasons_come_in_a_fixed_order_and_round_trip() -> None:
    member = replace(GOOD, status="lapsed", branch_id=99, dues_paid_through=None, is_suspended=True)
    verdict = judge(member, MEETING, ALL_RULES)
    assert verdict.reasons == (
        Reason.LAPSED, Reason.NOT_IN_UNIT, Reason.DUES_UNPAID, Reason.SUSPENDED,
    )  # fmt: skip
    assert decode(encode(verdict.reasons)) == verdict.reasons
    assert decode("dues_unpaid,<script>,,lapsed") == (Reason.DUES_UNPAID, Reason.LAPSED)


def test_who_is_listed_on_the_roll() -> None:
    assert belongs_on_roll(GOOD, MEETING, ALL_RULES)
    assert not belongs_on_roll(replace(GOOD, branch_id=99), MEETING, ALL_RULES)
    assert not belongs_on_roll(replace(GOOD, status="deceased"), MEETING, ALL_RULES)
    assert not belongs_on_roll(replace(GOOD, is_removed=True), MEETING, ALL_RULES)
    recently = replace(GOOD, status="lapsed", member_until=date(2025, 12, 31))
    long_ago = replace(GOOD, status="cancelled", member_until=date(2019, 1, 1))
    assert belongs_on_roll(recently, MEETING, ALL_RULES)
    assert not belongs_on_roll(long_ago, MEETING, ALL_RULES)
    assert belongs_on_roll(replace(GOOD, branch_id=99), MEETING, VotingRule(unit_scope=UnitScope.ANY))


def test_subtree_follows_the_tree_and_survives_a_cycle() -> None:
    parent_of = {1: None, 2: 1, 3: 1, 4: 2, 5: 4, 6: 3, 7: 7, 8: 9, 9: 8}
    assert subtree(2, parent_of) == {2, 4, 5}
    assert subtree(1, parent_of) == {1, 2, 3, 4, 5, 6}
    assert subtree(8, parent_of) == {8, 9}


@pytest.mark.parametrize(
    ("rule", "eligible", "present", "required", "reached"),
    [
        (quorum.QuorumRule(), 100, 0, None, None),
        (quorum.QuorumRule(quorum.QuorumKind.SHARE_OF_ELIGIBLE, 1, 2), 100, 49, 50, False),
        (quorum.QuorumRule(quorum.QuorumKind.SHARE_OF_ELIGIBLE, 1, 2), 100, 50, 50, True),
        (quorum.QuorumRule(quorum.QuorumKind.SHARE_OF_ELIGIBLE, 2, 3), 100, 66, 67, False),
        (quorum.QuorumRule(quorum.QuorumKind.SHARE_OF_ELIGIBLE, 4, 5), 101, 81, 81, True),
        (quorum.QuorumRule(quorum.QuorumKind.SHARE_OF_ELIGIBLE, 1, 10), 0, 0, 0, True),
        (quorum.QuorumRule(quorum.QuorumKind.FIXED_NUMBER, 25), 3000, 24, 25, False),
        (quorum.QuorumRule(quorum.QuorumKind.FIXED_NUMBER, 25), 3000, 25, 25, True),
    ],
)
def test_quorum_rule(
    rule: quorum.QuorumRule, eligible: int, present: int, required: int | None, reached
) -> None:
    state = quorum.assess(rule, eligible=eligible, present_voters=present)
    assert state.required == required
    assert state.is_reached is reached


def test_quorum_rule_validation() -> None:
    kind = quorum.QuorumKind
    assert quorum.validate(quorum.QuorumRule(kind.SHARE_OF_ELIGIBLE, 1, 2)) == {}
    assert "quorum_numerator" in quorum.validate(quorum.QuorumRule(kind.SHARE_OF_ELIGIBLE, 3, 2))
    assert "quorum_numerator" in quorum.validate(quorum.QuorumRule(kind.SHARE_OF_ELIGIBLE, 0, 2))
    assert "quorum_denominator" in quorum.validate(quorum.QuorumRule(kind.SHARE_OF_ELIGIBLE, 1, 0))
    assert "quorum_numerator" in quorum.validate(quorum.QuorumRule(kind.FIXED_NUMBER, 0))


NOW = datetime(2026, 3, 15, 19, 0, tzinfo=UTC)


def test_J12_steward_access_ends_with_the_meeting_and_is_per_assignment() -> None:
    ends = NOW + timedelta(hours=2)
    assert (
        access.steward_access(assigned=True, ends_at=ends, revoked_at=None, now=NOW)
        is access.StewardAccess.ACTIVE
    )
    assert (
        access.steward_access(assigned=True, ends_at=ends, revoked_at=None, now=ends)
        is access.StewardAccess.ENDED
    )
    assert (
        access.steward_access(assigned=True, ends_at=ends, revoked_at=NOW, now=NOW)
        is access.StewardAccess.NONE
    )
    assert (
        access.steward_access(assigned=False, ends_at=ends, revoked_at=None, now=NOW)
        is access.StewardAccess.NONE
    )


def test_officers_manage_meetings_in_their_scope_only() -> None:
    assert access.can_manage_meeting(5, frozenset({5, 6}))
    assert not access.can_manage_meeting(7, frozenset({5, 6}))
    assert not access.can_manage_meeting(7, frozenset())
    assert access.can_manage_meeting(7, None)


def test_door_is_open_only_with_a_frozen_roll_before_the_end() -> None:
    ends = NOW + timedelta(hours=1)
    assert access.door_is_open(roll_frozen=True, pseudonymised=False, now=NOW, ends_at=ends)
    assert not access.door_is_open(roll_frozen=False, pseudonymised=False, now=NOW, ends_at=ends)
    assert not access.door_is_open(roll_frozen=True, pseudonymised=False, now=ends, ends_at=ends)
    assert not access.door_is_open(roll_frozen=True, pseudonymised=True, now=NOW, ends_at=ends)


@pytest.mark.parametrize("value", ["=1+1", "+31612345678", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("x")'])
def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    text = exports.to_csv(["Naam"], [[value]]).decode("utf-8-sig")
    assert text.splitlines()[1].lstrip('"').startswith("'")


def test_csv_keeps_ordinary_cells_and_quotes_separators() -> None:
    text = exports.to_csv(["Naam", "Nummer"], [["Vries; Jan de", 1234], [None, 'a"b']]).decode("utf-8-sig")
    assert text.splitlines() == ["Naam;Nummer", '"Vries; Jan de";1234', ';"a""b"']


def test_pdf_renders_names_from_all_over_europe() -> None:
    pdf = exports.to_pdf(
        title="Presentielijst <b>",
        lines=["ALV 2026"],
        headings=["Naam", "Stemrecht"],
        rows=[["Şahin, Ayşe", "ja"], ["Øvergård, Åse", "nee"], ["Łukasz <script>", None]],
        widths=[0.7, 0.3],
        footer="Ledenportaal",
    )
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000


def test_grants_reach_a_unit_through_its_ancestors() -> None:
    lineage = frozenset({7, 3, 1})  # branch 7 in region 3 in national 1
    assert access.grants_reach(lineage, [3])
    assert access.grants_reach(lineage, [7])
    assert access.grants_reach(lineage, [None])
    assert not access.grants_reach(lineage, [8, 4])
    assert not access.grants_reach(lineage, [])


DAYS = st.one_of(st.none(), st.dates(min_value=date(2014, 1, 1), max_value=date(2027, 12, 31)))


@settings(max_examples=600, deadline=None)
@given(
    status=st.sampled_from(["new", "current", "grace", "lapsed", "cancelled", "deceased"]),
    branch_id=st.one_of(st.none(), st.integers(9, 12)),
    since=DAYS,
    until=DAYS,
    dues=DAYS,
    suspended=st.booleans(),
    removed=st.booleans(),
    scope=st.sampled_from(list(UnitScope)),
    current=st.booleans(),
    dues_rule=st.booleans(),
    minimum=st.sampled_from([0, 1, 30, 365]),
    exclude=st.booleans(),
)
def test_the_compiled_rule_answers_exactly_like_the_plain_one(  # type: ignore[no-untyped-def]
    status, branch_id, since, until, dues, suspended, removed, scope, current, dues_rule, minimum, exclude
) -> None:
    rule = VotingRule(scope, current, dues_rule, minimum, exclude)
    member = MemberFacts(status, branch_id, since, until, dues, suspended, removed)
    listed, codes = compile_rule(MEETING, rule)(status, branch_id, since, until, dues, suspended, removed)
    assert codes == judge(member, MEETING, rule).codes
    assert listed == belongs_on_roll(member, MEETING, rule)
