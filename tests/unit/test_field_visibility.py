"""The field policy as a matrix: every role × own / same branch / other branch / other region × every field.

Rows: D3 (field over-exposure: forbidden keys are absent, not blanked), D4 (mass assignment: only the
allowlisted fields are writable), D9 (a steward sees member number, name and status only). The relation
itself (which member is in whose scope) is resolved in tests/services/test_auth_scopes.py.
"""

from __future__ import annotations

import pytest

from portal.auth.roles import Role
from portal.members.visibility import Relation, all_fields, editable_fields, redact, visible_fields

NAME = {"given_name", "infix", "family_name"}
CONTACT = {"email", "mobile", "phone"}
ADDRESS = {"street", "house_number", "house_number_suffix", "postcode", "city", "country"}
BOARD = NAME | CONTACT | ADDRESS | {"status", "member_since", "branch_id", "positions"}
EXPECTED_VISIBLE: dict[Role | None, frozenset[str]] = {
    None: frozenset(),
    Role.BRANCH_BOARD: frozenset(BOARD),
    Role.REGIONAL_OFFICER: frozenset(BOARD | {"dues_paid_through"}),
    Role.NATIONAL_ADMINISTRATOR: all_fields(),
    Role.STEWARD: frozenset(NAME | {"member_number", "status"}),
    Role.ADMIN: frozenset(NAME | {"member_number", "status", "branch_id"}),
}
OWN_EDITABLE = (
    CONTACT | ADDRESS | {"interests", "competences", "directory_consent", "do_not_call", "do_not_email"}
)
# Where a member stands relative to an officer whose scope is one branch (national roles reach everyone):
PLACES = ("own", "same_branch", "other_branch", "other_region")


def _relation(role: Role | None, place: str) -> Relation:
    if place == "own":
        return Relation.OWN
    if role in {Role.NATIONAL_ADMINISTRATOR, Role.ADMIN}:
        return Relation.IN_SCOPE
    if role is Role.REGIONAL_OFFICER and place in {"same_branch", "other_branch"}:
        return Relation.IN_SCOPE
    if role in {Role.BRANCH_BOARD, Role.STEWARD} and place == "same_branch":
        return Relation.IN_SCOPE
    return Relation.OUT_OF_SCOPE


@pytest.mark.parametrize("field", sorted(all_fields()))
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role.value if role else "member")
def test_D3_field_matrix(role: Role | None, place: str, field: str) -> None:
    roles = frozenset({role}) if role else frozenset()
    relation = _relation(role, place)
    expected = field in EXPECTED_VISIBLE[role] if relation is Relation.IN_SCOPE else relation is Relation.OWN
    assert (field in visible_fields(roles, relation)) is expected


def test_D3_birth_date_and_dues_stay_hidden_from_branch_boards() -> None:
    board = visible_fields(frozenset({Role.BRANCH_BOARD}), Relation.IN_SCOPE)
    assert "birth_date" not in board
    assert "dues_paid_through" not in board
    assert "dues_paid_through" in visible_fields(frozenset({Role.REGIONAL_OFFICER}), Relation.IN_SCOPE)


def test_D3_redact_drops_keys_instead_of_blanking_them() -> None:
    row = {"given_name": "Jan", "birth_date": "1980-05-17", "row_hash": "x", "unknown": 1}
    shown = redact(row, visible_fields(frozenset({Role.BRANCH_BOARD}), Relation.IN_SCOPE))
    assert shown == {"given_name": "Jan"}


def test_D4_members_may_change_only_their_contact_details_and_preferences() -> None:
    assert editable_fields(frozenset(), Relation.OWN) == OWN_EDITABLE
    for forbidden in (
        "status",
        "member_number",
        "branch_id",
        "dues_paid_through",
        "birth_date",
        "given_name",
    ):
        assert forbidden not in editable_fields(frozenset(), Relation.OWN)


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_D4_only_the_national_administration_edits_other_members(role: Role) -> None:
    editable = editable_fields(frozenset({role}), Relation.IN_SCOPE)
    if role is Role.NATIONAL_ADMINISTRATOR:
        assert editable == OWN_EDITABLE | NAME | {"birth_date"}
    else:
        assert editable == frozenset()
    assert editable_fields(frozenset({role}), Relation.OUT_OF_SCOPE) == frozenset()


def test_D9_a_steward_sees_number_name_and_status_only() -> None:
    assert visible_fields(frozenset({Role.STEWARD}), Relation.IN_SCOPE) == NAME | {"member_number", "status"}
    assert visible_fields(frozenset({Role.STEWARD}), Relation.OUT_OF_SCOPE) == frozenset()
