"""Pure auth rules: throttling delays, password policy, TOTP window, hashing parameters, role derivation.

Security-plan rows proven here (fully or the pure half): A1 (delay curve), A8 (password rules), A13 (argon2id
parameters), B4/B5 (TOTP window), B15 (seed encryption), C9 (token entropy).
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from cryptography.exceptions import InvalidTag

from portal.auth import crypto, passwords, throttling, totp
from portal.auth.roles import PositionFacts, Role, derive_grants

NOW = datetime(2026, 11, 22, 12, 0, 15, tzinfo=UTC)
SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
WORDS = passwords.context_words(["D66", "Regio Utrecht", "Afdeling Amersfoort", "Afdeling 's-Hertogenbosch"])


def test_A1_delay_grows_from_the_sixth_failure_and_caps_at_an_hour() -> None:
    assert [throttling.delay_for(n).total_seconds() for n in range(5)] == [0] * 5
    assert throttling.delay_for(5) == timedelta(seconds=30)
    assert throttling.delay_for(6) == timedelta(seconds=60)
    assert throttling.delay_for(12) == timedelta(hours=1)
    assert throttling.delay_for(99) == timedelta(hours=1)
    assert not throttling.is_hard_stopped(99)
    assert throttling.is_hard_stopped(100)
    assert throttling.seconds_to_wait(5, NOW, NOW + timedelta(seconds=10)) == 20
    assert throttling.seconds_to_wait(5, NOW, NOW + timedelta(seconds=31)) == 0
    assert throttling.seconds_to_wait(100, NOW, NOW + timedelta(days=30)) == 3600


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Password1", "too_short"),
        ("kort", "too_short"),
        ("password1234", "common"),
        ("Password1234", "common"),
        ("Zomer2024!", "too_short"),
        ("D66Utrecht2026", "guessable"),
        ("amersfoortd66!", "guessable"),
        ("democraten66!!", "guessable"),
        ("Welkom12345!", "guessable"),
        ("x" * 1025, "too_long"),
    ],
)
def test_A8_weak_common_and_party_passwords_are_refused(password: str, problem: str) -> None:
    assert passwords.password_problem(password, WORDS) == problem


@pytest.mark.parametrize(
    "password",
    [
        "mijn fiets is rood",  # no composition rules: lower case words only is fine
        "zeven fietsen in de regen",
        "kx7-Pq2m-Lz9w" + "a" * 51,  # 64 characters
        "Het is een lange zin met precies genoeg woorden om hier honderdachtentwintig tekens te halen, "
        "en dat is de bedoeling van deze test!",
        "kraanvogel boven de polder   ",  # trailing spaces are part of the password
    ],
)
def test_A8_long_and_uncomposed_passwords_are_accepted(password: str) -> None:
    assert passwords.password_problem(password, WORDS) is None


def test_A8_passwords_are_compared_exactly_as_typed() -> None:
    stored = crypto.hash_password("kraanvogel boven de polder  ")
    assert crypto.verify_password(stored, "kraanvogel boven de polder  ")
    assert not crypto.verify_password(stored, "kraanvogel boven de polder")
    assert not crypto.verify_password(stored, "Kraanvogel boven de polder  ")


def test_A13_password_hash_is_argon2id_with_owasp_parameters() -> None:
    stored = crypto.hash_password("kraanvogel boven de polder")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    salt = stored.split("$")[4]
    assert len(base64.b64decode(salt + "==")) >= 16
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash("x")
    assert crypto.needs_rehash(weaker)
    assert crypto.needs_rehash("pbkdf2:sha256:1000$abc$def")
    assert not crypto.needs_rehash(stored)


def test_C9_tokens_carry_256_bits_and_are_stored_as_digests() -> None:
    raw, digest = crypto.new_token()
    assert len(base64.urlsafe_b64decode(raw + "=")) == 32
    assert digest == crypto.token_digest(raw)
    assert raw not in digest
    assert len(digest) == 64
    assert len({crypto.new_token()[0] for _ in range(1000)}) == 1000


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_B4_codes_of_one_step_either_side_are_accepted_two_steps_are_not(offset: int, accepted: bool) -> None:
    current = totp.step_at(NOW)
    code = totp.code_for_step(SEED, current + offset)
    assert totp.match_code(SEED, code, now=NOW, last_step=None).accepted is accepted


def test_B4_checks_the_server_clock_at_step_boundaries() -> None:
    boundary = datetime.fromtimestamp(totp.step_at(NOW) * 30, UTC)
    just_before = boundary - timedelta(microseconds=1)
    code = totp.code_for_step(SEED, totp.step_at(boundary) + 1)
    assert totp.match_code(SEED, code, now=boundary, last_step=None).accepted
    assert not totp.match_code(SEED, code, now=just_before, last_step=None).accepted


def test_B5_window_is_one_30_second_step_each_way() -> None:
    assert totp.STEP_SECONDS == 30
    assert totp.WINDOW == 1
    assert totp.DIGITS == 6


def test_B1_a_step_at_or_before_the_last_used_one_is_a_replay() -> None:
    current = totp.step_at(NOW)
    code = totp.code_for_step(SEED, current)
    assert totp.match_code(SEED, code, now=NOW, last_step=current).replayed
    assert totp.match_code(SEED, code, now=NOW, last_step=current + 1).replayed
    assert totp.match_code(SEED, code, now=NOW, last_step=current - 1).accepted
    assert not totp.match_code(SEED, "12345", now=NOW, last_step=None).accepted
    assert not totp.match_code(SEED, "abcdef", now=NOW, last_step=None).accepted


def test_B15_seed_is_sealed_with_a_key_derived_from_the_secret() -> None:
    keys = crypto.AuthKeys.from_secret("a-secret-key-of-enough-length-for-tests")
    sealed = keys.encrypt_seed(SEED)
    assert SEED not in sealed
    assert sealed != keys.encrypt_seed(SEED)  # fresh nonce each time
    assert keys.decrypt_seed(sealed) == SEED
    other = crypto.AuthKeys.from_secret("another-secret-key-of-enough-length")
    with pytest.raises(InvalidTag):
        other.decrypt_seed(sealed)


def _position(function: str, kind: str, unit: int = 7, end: date | None = None) -> PositionFacts:
    return PositionFacts(
        position_id=1, function=function, unit_id=unit, unit_kind=kind, start_date=None, end_date=end
    )


@pytest.mark.parametrize(
    ("function", "kind", "role", "scope"),
    [
        ("chair", "branch", Role.BRANCH_BOARD, 7),
        ("treasurer", "branch", Role.BRANCH_BOARD, 7),
        ("board_member", "branch", Role.BRANCH_BOARD, 7),
        ("regional_secretary", "region", Role.REGIONAL_OFFICER, 7),
        ("chair", "region", Role.REGIONAL_OFFICER, 7),
        ("membership_administrator", "national", Role.NATIONAL_ADMINISTRATOR, None),
        ("steward", "branch", Role.STEWARD, 7),
    ],
)
def test_positions_give_roles_by_the_policy_file(
    function: str, kind: str, role: Role, scope: int | None
) -> None:
    grants = derive_grants([_position(function, kind)], is_member=True, today=NOW.date())
    assert {(grant.role, grant.scope_unit_id) for grant in grants} == {(role, scope)}


def test_no_role_for_ended_positions_lapsed_members_or_other_functions() -> None:
    today = NOW.date()
    assert not derive_grants(
        [_position("chair", "branch", end=today - timedelta(days=1))], is_member=True, today=today
    )
    assert not derive_grants([_position("chair", "branch")], is_member=False, today=today)
    assert not derive_grants([_position("council_member", "faction")], is_member=True, today=today)
    assert not derive_grants([_position("treasurer", "region")], is_member=True, today=today)
