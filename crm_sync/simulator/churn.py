"""Churn: the changes a week of member administration makes, applied to a generated DB."""

import random
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

from crm_sync.simulator.contact_details import ascii_slug, display_and_sort_name, make_postcode
from crm_sync.simulator.data.municipalities import MUNICIPALITIES
from crm_sync.simulator.data.names import FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES
from crm_sync.simulator.data.places import STREET_STEMS, STREET_SUFFIXES
from crm_sync.simulator.generator import insert_people
from crm_sync.simulator.org_tree import Unit
from crm_sync.simulator.people import PersonFactory, RowIds
from crm_sync.simulator.store import connect, utc_now_text, write_transaction

#: (kind, share of the churned contacts)
KINDS: tuple[tuple[str, float], ...] = (
    ("phone", 0.20),
    ("email", 0.20),
    ("address", 0.17),
    ("membership", 0.25),
    ("name", 0.12),
    ("trashed", 0.03),
    ("merged", 0.03),
)
_BOARD_MEMBER = 14


def churn(db_path: str | Path, *, percent: float, seed: int) -> dict[str, int]:
    """Change `percent` % of the live members (plus a few joiners and positions); return counts."""
    rng = random.Random(f"{seed}:churn")
    conn = connect(db_path)
    try:
        with write_transaction(conn):
            return _churn(conn, rng, percent)
    finally:
        conn.close()


def _churn(conn: sqlite3.Connection, rng: random.Random, percent: float) -> dict[str, int]:
    now = utc_now_text()
    today = datetime.now(UTC).date()
    live = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM civicrm_contact WHERE contact_type = 'Individual' AND is_deleted = 0 ORDER BY id"
        )
    ]
    chosen = rng.sample(live, min(len(live), round(len(live) * max(percent, 0) / 100)))
    counts = {kind: 0 for kind, _ in KINDS}
    touched: set[int] = set()
    chosen_set = set(chosen)
    survivors = [cid for cid in live if cid not in chosen_set] or live
    for contact_id in chosen:
        roll, kind = rng.random(), KINDS[-1][0]
        for name, share in KINDS:
            if roll < share:
                kind = name
                break
            roll -= share
        counts[kind] += 1
        touched.add(contact_id)
        if kind == "merged":
            survivor = rng.choice(survivors)
            _merge(conn, contact_id, survivor, now)
            touched.add(survivor)
        else:
            _CHANGES[kind](conn, rng, contact_id, today)
    counts["new_members"] = _new_members(
        conn, rng, max(1, round(len(chosen) * 0.03)) if chosen else 0, today, now
    )
    counts["positions_ended"], counts["positions_started"] = _positions(
        conn, rng, max(1, round(len(chosen) * 0.02)) if chosen else 0, today, now, survivors
    )
    conn.executemany(
        "UPDATE civicrm_contact SET modified_date = ? WHERE id = ?", [(now, cid) for cid in touched]
    )
    counts["contacts_changed"] = len(chosen)
    return counts


def _phone(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    number = f"06-{rng.randrange(10**8):08d}"
    numeric = number.replace("-", "")
    updated = conn.execute(
        "UPDATE civicrm_phone SET phone = ?, phone_numeric = ? WHERE contact_id = ? AND is_primary = 1",
        (number, numeric, contact_id),
    )
    if updated.rowcount == 0:
        conn.execute(
            "INSERT INTO civicrm_phone (contact_id, phone, phone_numeric, "
            "phone_type_id, location_type_id, is_primary) VALUES (?, ?, ?, 2, 1, 1)",
            (contact_id, number, numeric),
        )


def _email(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    first, last = conn.execute(
        "SELECT first_name, last_name FROM civicrm_contact WHERE id = ?", (contact_id,)
    ).fetchone()
    address = (
        f"{ascii_slug(first or 'lid')}.{ascii_slug(last or 'lid')}.{contact_id}"
        f"{rng.randrange(100)}@example.nl"
    )
    updated = conn.execute(
        "UPDATE civicrm_email SET email = ?, on_hold = 0 WHERE contact_id = ? AND is_primary = 1",
        (address, contact_id),
    )
    if updated.rowcount == 0:
        conn.execute(
            "INSERT INTO civicrm_email (contact_id, email, is_primary, "
            "location_type_id, on_hold) VALUES (?, ?, 1, 1, 0)",
            (contact_id, address),
        )


def _address(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    row = conn.execute(
        "SELECT id, postal_code FROM civicrm_address WHERE contact_id = ? AND is_primary = 1", (contact_id,)
    ).fetchone()
    street = rng.choice(STREET_STEMS) + rng.choice(STREET_SUFFIXES)
    number = rng.randint(1, 180)
    digits = int(row[1][:4]) if row and row[1] and row[1][:4].isdigit() else 1011
    # A move within the same town: a postcode close to the old one.
    postcode = make_postcode(rng.random, max(1000, digits - 3), 7)
    if row is None:
        conn.execute(
            "INSERT INTO civicrm_address (contact_id, street_name, street_number, "
            "street_address, postal_code, country_id, location_type_id, is_primary) "
            "VALUES (?, ?, ?, ?, ?, 1152, 1, 1)",
            (contact_id, street, number, f"{street} {number}", postcode),
        )
    else:
        conn.execute(
            "UPDATE civicrm_address SET street_name = ?, street_number = ?, "
            "street_number_suffix = NULL, street_address = ?, postal_code = ? "
            "WHERE id = ?",
            (street, number, f"{street} {number}", postcode, row[0]),
        )


def _membership(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    row = conn.execute(
        "SELECT id, status_id FROM civicrm_membership WHERE contact_id = ? ORDER BY id DESC LIMIT 1",
        (contact_id,),
    ).fetchone()
    if row is None:
        return
    membership_id, status = row
    if status == 2 and rng.random() < 0.5:
        changes = (3, date(today.year - 1, 12, 31).isoformat(), 0)  # missed a payment
    elif status == 2:
        changes = (6, today.isoformat(), 1)  # cancelled
    else:
        changes = (2, date(today.year + 1, 12, 31).isoformat(), 0)  # (re)paid
    conn.execute(
        "UPDATE civicrm_membership SET status_id = ?, end_date = ?, is_override = ? WHERE id = ?",
        (*changes, membership_id),
    )


def _name(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    first, middle, last, gender = conn.execute(
        "SELECT first_name, middle_name, last_name, gender_id FROM civicrm_contact WHERE id = ?",
        (contact_id,),
    ).fetchone()
    if middle and rng.random() < 0.5:
        middle = middle.capitalize() if middle.islower() else middle.lower()
    else:
        names = FEMALE_GIVEN_NAMES if gender == 1 else MALE_GIVEN_NAMES
        first = rng.choice([n for n in names if n != first])
    display, sort = display_and_sort_name(first, middle, last)
    conn.execute(
        "UPDATE civicrm_contact SET first_name = ?, middle_name = ?, "
        "display_name = ?, sort_name = ? WHERE id = ?",
        (first, middle, display, sort, contact_id),
    )


def _trash(conn: sqlite3.Connection, rng: random.Random, contact_id: int, today: date) -> None:
    conn.execute("UPDATE civicrm_contact SET is_deleted = 1 WHERE id = ?", (contact_id,))


def _merge(conn: sqlite3.Connection, contact_id: int, survivor: int, now: str) -> None:
    conn.execute("UPDATE civicrm_contact SET is_deleted = 1 WHERE id = ?", (contact_id,))
    conn.execute(
        "INSERT OR REPLACE INTO sim_merged_to (contact_id, survivor_id) VALUES (?, ?)", (contact_id, survivor)
    )
    conn.execute(
        "UPDATE civicrm_relationship SET contact_id_a = ?, modified_date = ? WHERE contact_id_a = ?",
        (survivor, now, contact_id),
    )


_CHANGES = {
    "phone": _phone,
    "email": _email,
    "address": _address,
    "membership": _membership,
    "name": _name,
    "trashed": _trash,
}


def _new_members(conn: sqlite3.Connection, rng: random.Random, count: int, today: date, now: str) -> int:
    if count == 0:
        return 0
    codes = {code: (province, population) for _, province, code, population in MUNICIPALITIES}
    branches = [
        Unit(
            row[0],
            row[1],
            "Branch",
            row[2],
            row[3],
            municipality=row[4],
            population=codes.get(row[2], ("NH", 10))[1],
            province_code=codes.get(row[2], ("NH", 10))[0],
        )
        for row in conn.execute(
            "SELECT id, display_name, party_unit_code, party_unit_parent_id, "
            "party_unit_municipality FROM civicrm_contact WHERE contact_sub_type = "
            "'[\"Branch\"]' ORDER BY id"
        )
    ]
    if not branches:
        return 0
    ids = RowIds(
        *(
            conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}").fetchone()[0]
            for table in (
                "civicrm_email",
                "civicrm_phone",
                "civicrm_address",
                "civicrm_membership",
                "civicrm_group_contact",
            )
        )
    )
    group_ids = [row[0] for row in conn.execute("SELECT id FROM civicrm_group ORDER BY id")]
    used = {row[0] for row in conn.execute("SELECT email FROM civicrm_email")}
    factory = PersonFactory(
        rng, branches, ids=ids, used_emails=used, today=today, group_ids=[*group_ids, 1, 2, 3][:3]
    )
    next_contact = conn.execute("SELECT MAX(id) + 1 FROM civicrm_contact").fetchone()[0]
    for offset in range(count):
        number = str(rng.randrange(1_000_000, 10_000_000))
        while conn.execute(
            "SELECT 1 FROM civicrm_contact WHERE external_identifier = ?", (number,)
        ).fetchone():
            number = str(rng.randrange(1_000_000, 10_000_000))
        factory.person(next_contact + offset, number, status="New", now_text=now)
    insert_people(conn, factory.rows)
    return count


def _positions(
    conn: sqlite3.Connection, rng: random.Random, count: int, today: date, now: str, live: list[int]
) -> tuple[int, int]:
    if count == 0 or not live:
        return 0, 0
    active = [
        row[0] for row in conn.execute("SELECT id FROM civicrm_relationship WHERE is_active = 1 ORDER BY id")
    ]
    ended = rng.sample(active, min(count, len(active)))
    conn.executemany(
        "UPDATE civicrm_relationship SET end_date = ?, is_active = 0, modified_date = ? WHERE id = ?",
        [(today.isoformat(), now, rid) for rid in ended],
    )
    branches = conn.execute(
        "SELECT id, display_name FROM civicrm_contact WHERE contact_sub_type = '[\"Branch\"]' ORDER BY id"
    ).fetchall()
    started = []
    for _ in range(count if branches else 0):
        branch_id, branch_name = rng.choice(branches)
        started.append(
            (
                rng.choice(live),
                branch_id,
                _BOARD_MEMBER,
                today.isoformat(),
                f"Bestuurslid van {branch_name}",
                now,
                now,
            )
        )
    conn.executemany(
        "INSERT INTO civicrm_relationship (contact_id_a, contact_id_b, "
        "relationship_type_id, start_date, is_active, description, "
        "created_date, modified_date, party_position_is_public) "
        "VALUES (?, ?, ?, ?, 1, ?, ?, ?, 1)",
        started,
    )
    return len(ended), len(started)
