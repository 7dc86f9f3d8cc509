"""Seeded, deterministic generator of a Dutch political party's CiviCRM database."""

import os
import random
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from crm_sync.simulator.data.vocabulary import MAILING_GROUPS
from crm_sync.simulator.org_tree import CONTACT_COLUMNS, build_org_tree
from crm_sync.simulator.people import BASE_DATE, PeopleRows, PersonFactory, RowIds
from crm_sync.simulator.positions import Pools, build_positions
from crm_sync.simulator.store import INDEXES_DDL, SCHEMA_VERSION, TABLES_DDL, read_meta

CHILD_COLUMNS: dict[str, tuple[str, ...]] = {
    "civicrm_email": ("id", "contact_id", "email", "is_primary", "location_type_id", "on_hold"),
    "civicrm_phone": (
        "id",
        "contact_id",
        "phone",
        "phone_numeric",
        "phone_type_id",
        "location_type_id",
        "is_primary",
    ),
    "civicrm_address": (
        "id",
        "contact_id",
        "street_name",
        "street_number",
        "street_number_suffix",
        "street_address",
        "postal_code",
        "city",
        "country_id",
        "location_type_id",
        "is_primary",
    ),
    "civicrm_membership": (
        "id",
        "contact_id",
        "membership_type_id",
        "status_id",
        "join_date",
        "start_date",
        "end_date",
        "is_override",
    ),
    "civicrm_group_contact": ("id", "group_id", "contact_id", "status"),
    "civicrm_relationship": (
        "id",
        "contact_id_a",
        "contact_id_b",
        "relationship_type_id",
        "start_date",
        "end_date",
        "is_active",
        "description",
        "created_date",
        "modified_date",
        "party_position_is_public",
    ),
}
_CHUNK = 20_000
_ELIGIBLE = frozenset({"New", "Current", "Grace"})


@dataclass(frozen=True)
class GenerationSummary:
    """What a generation produced (or found already generated)."""

    db_path: str
    members: int
    seed: int
    contacts: int
    organisations: int
    branches: int
    memberships: int
    relationships: int
    seconds: float
    reused: bool


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """Return a parameterised INSERT for `columns` of `table`."""
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def insert_people(conn: sqlite3.Connection, rows: PeopleRows) -> None:
    """Write the pending rows of a PersonFactory (in the caller's transaction)."""
    conn.executemany(insert_sql("civicrm_contact", CONTACT_COLUMNS), rows.contacts)
    for table, pending in (
        ("civicrm_email", rows.emails),
        ("civicrm_phone", rows.phones),
        ("civicrm_address", rows.addresses),
        ("civicrm_membership", rows.memberships),
        ("civicrm_group_contact", rows.group_contacts),
    ):
        conn.executemany(insert_sql(table, CHILD_COLUMNS[table]), pending)
    rows.clear()


def existing_summary(db_path: str | Path, *, members: int, seed: int) -> GenerationSummary | None:
    """Return the stored summary when `db_path` holds exactly this (members, seed) generation."""
    if not Path(db_path).exists():
        return None
    try:
        conn = sqlite3.connect(str(db_path))
        try:
            meta = read_meta(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    wanted = {"members": str(members), "seed": str(seed), "schema_version": SCHEMA_VERSION}
    if any(meta.get(key) != value for key, value in wanted.items()) or "summary" not in meta:
        return None
    stored = orjson.loads(meta["summary"])
    stored.update(db_path=str(db_path), reused=True, seconds=0.0)
    return GenerationSummary(**stored)


def generate(db_path: str | Path, *, members: int, seed: int) -> GenerationSummary:
    """Generate (or reuse) the simulator database for `members` people and `seed`."""
    found = existing_summary(db_path, members=members, seed=seed)
    if found is not None:
        return found
    started = time.perf_counter()
    target = Path(db_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build in a private file and rename: a crash or a parallel run never leaves half a DB.
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    conn = sqlite3.connect(str(temporary), isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(TABLES_DDL)
        conn.execute("BEGIN")
        counts = _fill(conn, members=members, seed=seed)
        conn.execute("COMMIT")
        conn.executescript(INDEXES_DDL)
        conn.execute("ANALYZE")
        seconds = round(time.perf_counter() - started, 3)
        summary = GenerationSummary(
            db_path=str(target), members=members, seed=seed, seconds=seconds, reused=False, **counts
        )
        stored = {k: v for k, v in asdict(summary).items() if k not in ("db_path", "seconds", "reused")}
        conn.executemany(
            "INSERT INTO sim_meta (key, value) VALUES (?, ?)",
            [
                ("members", str(members)),
                ("seed", str(seed)),
                ("schema_version", SCHEMA_VERSION),
                ("base_date", BASE_DATE.isoformat()),
                ("summary", orjson.dumps(stored).decode()),
                # Wall-clock, so outside the deterministic data: lets a benchmark report a cached run.
                ("generation_seconds", str(seconds)),
            ],
        )
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    os.replace(temporary, target)
    return summary


def _fill(conn: sqlite3.Connection, *, members: int, seed: int) -> dict[str, int]:
    # Separate streams per part, so tuning one part does not reshuffle the others.
    tree = build_org_tree(random.Random(f"{seed}:org"))
    conn.executemany(insert_sql("civicrm_contact", CONTACT_COLUMNS), tree.rows)
    conn.executemany(
        "INSERT INTO civicrm_group (id, name, title, is_active) VALUES (?,?,?,1)",
        [(i + 1, name, title) for i, (name, title) in enumerate(MAILING_GROUPS)],
    )
    numbers = random.Random(f"{seed}:numbers").sample(range(100_000, 10_000_000), members)
    rng = random.Random(f"{seed}:people")
    factory = PersonFactory(rng, tree.branches, ids=RowIds(), used_emails=set())
    duplicates = set(rng.sample(range(1, members, 2), min(max(1, members // 2000), members // 2)))
    pools = Pools()
    merged: list[tuple[int, int]] = []
    first_person = len(tree.rows) + 1
    last_branch = 0
    for index in range(members):
        contact_id = first_person + index
        if index in duplicates and factory.last_identity is not None:
            factory.person(
                contact_id,
                str(numbers[index]),
                branch_index=last_branch,
                duplicate_of=factory.last_identity,
                status="Current",
                is_deleted=True,
            )
            merged.append((contact_id, contact_id - 1))
        else:
            info = factory.person(contact_id, str(numbers[index]), is_deleted=rng.random() < 0.002)
            last_branch = info.branch_index
            if info.status in _ELIGIBLE and not info.is_deleted and info.age >= 18:
                pools.add(contact_id, tree.branches[info.branch_index], is_young=info.age < 28)
        if len(factory.rows.contacts) >= _CHUNK:
            insert_people(conn, factory.rows)
    insert_people(conn, factory.rows)
    conn.executemany("INSERT INTO sim_merged_to (contact_id, survivor_id) VALUES (?, ?)", merged)
    positions = build_positions(random.Random(f"{seed}:positions"), tree, pools, members=members)
    conn.executemany(insert_sql("civicrm_relationship", CHILD_COLUMNS["civicrm_relationship"]), positions)
    return {
        "contacts": len(tree.rows) + members,
        "organisations": len(tree.rows),
        "branches": len(tree.branches),
        "memberships": factory.ids.membership - 1,
        "relationships": len(positions),
    }
