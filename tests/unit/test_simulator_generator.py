"""The CRM simulator's generator: structure and realism of the party, and determinism."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from crm_sync.simulator.generator import generate
from crm_sync.simulator.options import MEMBERSHIP_STATUS_NAMES, RELATIONSHIP_TYPE_NAMES
from crm_sync.simulator.people import BASE_DATE

MEMBERS = 2000
POSTCODE = re.compile(r"^[1-9][0-9]{3} [A-Z]{2}$")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """One generated party of 2,000 members, read-only for every test here."""
    path = tmp_path_factory.mktemp("generator") / "party.sqlite"
    generate(path, members=MEMBERS, seed=5)
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def _units(db: sqlite3.Connection, sub_type: str) -> list[tuple[int, int | None, str]]:
    return db.execute(
        "SELECT id, party_unit_parent_id, party_unit_level FROM civicrm_contact WHERE contact_sub_type = ?",
        (orjson.dumps([sub_type]).decode(),),
    ).fetchall()


def test_org_tree_has_national_regions_and_branches_under_regions(db: sqlite3.Connection) -> None:
    (national,) = _units(db, "National")
    regions = _units(db, "Region")
    branches = _units(db, "Branch")
    assert national[1] is None
    assert national[2] == "national"
    assert len(regions) == 12
    assert {parent for _, parent, _ in regions} == {national[0]}
    region_ids = {region_id for region_id, _, _ in regions}
    assert len(branches) >= 300
    assert all(parent in region_ids and level == "local" for _, parent, level in branches)
    codes = [
        row[0]
        for row in db.execute(
            "SELECT party_unit_code FROM civicrm_contact WHERE contact_sub_type = ?", ('["Branch"]',)
        )
    ]
    assert all(re.fullmatch(r"GM\d{4}", code) for code in codes)
    assert len(set(codes)) == len(codes)


def test_factions_groups_committees_and_youth_exist(db: sqlite3.Connection) -> None:
    (national,) = _units(db, "National")
    branch_ids = {unit_id for unit_id, _, _ in _units(db, "Branch")}
    region_ids = {unit_id for unit_id, _, _ in _units(db, "Region")}
    factions = _units(db, "Faction")
    parents = Counter(
        "branch" if p in branch_ids else "region" if p in region_ids else "national" for _, p, _ in factions
    )
    assert parents["national"] == 3
    assert parents["region"] == 12
    assert 100 <= parents["branch"] < len(branch_ids)
    knowledge_groups = _units(db, "Knowledge_Group")
    assert len(knowledge_groups) >= 12
    assert {parent for _, parent, _ in knowledge_groups} == {national[0]}
    assert len(_units(db, "Committee")) >= 3
    youth = _units(db, "Youth_Organisation")
    (youth_root,) = [unit for unit in youth if unit[1] == national[0]]
    assert sum(1 for unit in youth if unit[1] == youth_root[0]) >= 10


def test_every_members_branch_is_a_branch(db: sqlite3.Connection) -> None:
    orphans = db.execute(
        "SELECT COUNT(*) FROM civicrm_contact c "
        "LEFT JOIN civicrm_contact b ON b.id = c.party_member_branch_id "
        "WHERE c.contact_type = 'Individual' AND (b.contact_sub_type IS NOT '[\"Branch\"]')"
    ).fetchone()[0]
    assert orphans == 0
    assert (
        db.execute("SELECT COUNT(*) FROM civicrm_contact WHERE contact_type = 'Individual'").fetchone()[0]
        == MEMBERS
    )


def test_branch_sizes_are_skewed_towards_cities(db: sqlite3.Connection) -> None:
    sizes = dict(
        db.execute(
            "SELECT b.party_unit_municipality, COUNT(*) FROM civicrm_contact c JOIN civicrm_contact b "
            "ON b.id = c.party_member_branch_id GROUP BY 1"
        ).fetchall()
    )
    assert sizes["Amsterdam"] > 5 * max(sizes.get("Vlieland", 0), sizes.get("Schiermonnikoog", 0), 1)
    assert sizes["Amsterdam"] == max(sizes.values())


def test_membership_statuses_come_in_plausible_shares(db: sqlite3.Connection) -> None:
    rows = db.execute(
        "SELECT status_id, COUNT(*) FROM civicrm_membership m WHERE id = "
        "(SELECT MAX(id) FROM civicrm_membership WHERE contact_id = m.contact_id) GROUP BY 1"
    ).fetchall()
    total = sum(count for _, count in rows)
    shares = {MEMBERSHIP_STATUS_NAMES[status]: count / total for status, count in rows}
    expected = {
        "New": 0.04,
        "Current": 0.80,
        "Grace": 0.06,
        "Expired": 0.06,
        "Cancelled": 0.03,
        "Deceased": 0.01,
    }
    assert set(shares) == set(expected)
    for name, share in expected.items():
        assert abs(shares[name] - share) < max(0.02, share / 2), name


def test_membership_dates_follow_the_status(db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT status_id, join_date, end_date FROM civicrm_membership").fetchall()
    assert min(join for _, join, _ in rows) >= "1966-10-14"
    base = BASE_DATE.isoformat()
    for status, join, end in rows:
        assert join <= end
        name = MEMBERSHIP_STATUS_NAMES[status]
        if name in ("Current", "New"):
            assert end >= f"{BASE_DATE.year}-12-31"
        elif name == "Grace":
            assert "2025-09-01" <= end < base
        elif name == "Expired":
            assert end < "2025-09-01"


def test_names_have_tussenvoegsels_and_diacritics(db: sqlite3.Connection) -> None:
    people = db.execute(
        "SELECT first_name, middle_name, last_name, display_name, sort_name FROM civicrm_contact "
        "WHERE contact_type = 'Individual'"
    ).fetchall()
    with_infix = [p for p in people if p[1]]
    assert 0.18 < len(with_infix) / len(people) < 0.32
    assert {"van", "de", "van der", "van den"} <= {p[1] for p in with_infix}
    assert any(not (p[0] + p[2]).isascii() for p in people)
    first, middle, last, display, sort = with_infix[0]
    assert display == f"{first} {middle} {last}"
    assert sort == f"{last}, {first} {middle}"


def test_postcodes_phones_and_emails_look_dutch(db: sqlite3.Connection) -> None:
    postcodes = [row[0] for row in db.execute("SELECT postal_code FROM civicrm_address")]
    assert all(POSTCODE.match(code) for code in postcodes)
    assert not [code for code in postcodes if code[-2:] in ("SS", "SA", "SD")]
    phones = [row[0] for row in db.execute("SELECT phone FROM civicrm_phone WHERE is_primary = 1")]
    assert 0.85 < len(phones) / MEMBERS < 0.95
    assert any(phone.startswith("06-") for phone in phones)
    assert any(phone.startswith("+316") for phone in phones)
    emails = [row[0] for row in db.execute("SELECT email FROM civicrm_email WHERE is_primary = 1")]
    assert 0.92 < len(emails) / MEMBERS < 0.98
    assert len(set(emails)) == len(emails)
    suffixed = db.execute(
        "SELECT COUNT(*) FROM civicrm_address WHERE street_number_suffix IS NOT NULL"
    ).fetchone()[0]
    assert suffixed > 0


def test_member_numbers_are_unique_digits_not_in_id_order(db: sqlite3.Connection) -> None:
    numbers = [
        row[0]
        for row in db.execute(
            "SELECT external_identifier FROM civicrm_contact WHERE contact_type = 'Individual' ORDER BY id"
        )
    ]
    assert len(set(numbers)) == len(numbers)
    assert all(number.isdigit() and 6 <= len(number) <= 7 for number in numbers)
    assert numbers != sorted(numbers, key=int)


def test_ages_and_modified_dates_are_anchored_at_the_base_date(db: sqlite3.Connection) -> None:
    births = [
        date.fromisoformat(row[0])
        for row in db.execute("SELECT birth_date FROM civicrm_contact WHERE contact_type = 'Individual'")
    ]
    ages = [(BASE_DATE - born).days // 365 for born in births]
    assert min(ages) >= 16
    assert max(ages) <= 96
    latest = db.execute("SELECT MAX(modified_date) FROM civicrm_contact").fetchone()[0]
    assert latest < BASE_DATE.isoformat()


def test_some_contacts_are_trashed_and_some_merged(db: sqlite3.Connection) -> None:
    trashed = db.execute("SELECT COUNT(*) FROM civicrm_contact WHERE is_deleted = 1").fetchone()[0]
    assert 1 <= trashed <= MEMBERS * 0.01
    merged = db.execute(
        "SELECT m.contact_id, c.is_deleted, s.is_deleted FROM sim_merged_to m "
        "JOIN civicrm_contact c ON c.id = m.contact_id "
        "JOIN civicrm_contact s ON s.id = m.survivor_id"
    ).fetchall()
    assert merged
    assert all(gone == 1 and kept == 0 for _, gone, kept in merged)


def test_positions_include_vacant_chairs_ended_seats_and_private_ones(db: sqlite3.Connection) -> None:
    types = {name: type_id for type_id, name in RELATIONSHIP_TYPE_NAMES.items()}
    branches = {
        row[0] for row in db.execute("SELECT id FROM civicrm_contact WHERE contact_sub_type = '[\"Branch\"]'")
    }
    chaired = {
        row[0]
        for row in db.execute(
            "SELECT contact_id_b FROM civicrm_relationship WHERE relationship_type_id = ? AND is_active = 1",
            (types["Chair_of"],),
        )
    }
    vacant = branches - chaired
    assert 0 < len(vacant) < 0.15 * len(branches)
    total, ended, private = db.execute(
        "SELECT COUNT(*), SUM(end_date IS NOT NULL AND is_active = 0), SUM(party_position_is_public = 0) "
        "FROM civicrm_relationship"
    ).fetchone()
    assert 0.05 < ended / total < 0.2
    assert private > 0
    used = {row[0] for row in db.execute("SELECT DISTINCT relationship_type_id FROM civicrm_relationship")}
    assert used == set(types.values())
    holders_are_people = db.execute(
        "SELECT COUNT(*) FROM civicrm_relationship r JOIN civicrm_contact c ON c.id = r.contact_id_a "
        "WHERE c.contact_type != 'Individual'"
    ).fetchone()[0]
    assert holders_are_people == 0


def _fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    conn = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for table in tables:
            # The one wall-clock value in the file is how long the generation took.
            skip = " WHERE key != 'generation_seconds'" if table == "sim_meta" else ""
            for row in conn.execute(f"SELECT * FROM {table}{skip} ORDER BY 1"):
                digest.update(repr(row).encode())
    finally:
        conn.close()
    return digest.hexdigest()


def test_same_seed_gives_identical_data_and_another_seed_differs(tmp_path: Path) -> None:
    first = generate(tmp_path / "a.sqlite", members=300, seed=9)
    second = generate(tmp_path / "b.sqlite", members=300, seed=9)
    other = generate(tmp_path / "c.sqlite", members=300, seed=10)
    assert not first.reused
    assert not second.reused
    assert _fingerprint(tmp_path / "a.sqlite") == _fingerprint(tmp_path / "b.sqlite")
    assert _fingerprint(tmp_path / "a.sqlite") != _fingerprint(tmp_path / "c.sqlite")
    assert (first.contacts, first.relationships) == (second.contacts, second.relationships)
    assert other.seed == 10


def test_an_existing_generation_is_reused_and_a_different_size_is_not(tmp_path: Path) -> None:
    path = tmp_path / "party.sqlite"
    generate(path, members=300, seed=1)
    stamp = path.stat().st_mtime_ns
    again = generate(path, members=300, seed=1)
    assert again.reused
    assert path.stat().st_mtime_ns == stamp
    bigger = generate(path, members=350, seed=1)
    assert not bigger.reused
    assert bigger.contacts == bigger.organisations + 350
