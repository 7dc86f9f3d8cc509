"""The simulator's SQLite store: schema (close to CiviCRM's tables), connections and clock."""

import queue
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

SCHEMA_VERSION = "5"

TABLES_DDL = """
CREATE TABLE civicrm_contact (
    id INTEGER PRIMARY KEY,
    contact_type TEXT NOT NULL,
    contact_sub_type TEXT,
    display_name TEXT,
    sort_name TEXT,
    first_name TEXT,
    middle_name TEXT,
    last_name TEXT,
    organization_name TEXT,
    external_identifier TEXT UNIQUE,
    is_deleted INTEGER NOT NULL DEFAULT 0,
    is_deceased INTEGER NOT NULL DEFAULT 0,
    birth_date TEXT,
    gender_id INTEGER,
    do_not_phone INTEGER NOT NULL DEFAULT 0,
    do_not_email INTEGER NOT NULL DEFAULT 0,
    is_opt_out INTEGER NOT NULL DEFAULT 0,
    preferred_language TEXT,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL,
    party_member_branch_id INTEGER,
    party_member_directory_consent INTEGER,
    party_member_interests TEXT,
    party_member_competences TEXT,
    party_unit_parent_id INTEGER,
    party_unit_level TEXT,
    party_unit_code TEXT,
    party_unit_municipality TEXT,
    party_unit_province TEXT
);
CREATE TABLE civicrm_email (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES civicrm_contact(id),
    email TEXT NOT NULL,
    is_primary INTEGER NOT NULL DEFAULT 0,
    location_type_id INTEGER,
    on_hold INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE civicrm_phone (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES civicrm_contact(id),
    phone TEXT NOT NULL,
    phone_numeric TEXT,
    phone_type_id INTEGER,
    location_type_id INTEGER,
    is_primary INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE civicrm_address (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES civicrm_contact(id),
    street_name TEXT,
    street_number INTEGER,
    street_number_suffix TEXT,
    street_address TEXT,
    postal_code TEXT,
    city TEXT,
    country_id INTEGER,
    location_type_id INTEGER,
    is_primary INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE civicrm_membership (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES civicrm_contact(id),
    membership_type_id INTEGER NOT NULL,
    status_id INTEGER NOT NULL,
    join_date TEXT,
    start_date TEXT,
    end_date TEXT,
    is_override INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE civicrm_relationship (
    id INTEGER PRIMARY KEY,
    contact_id_a INTEGER NOT NULL REFERENCES civicrm_contact(id),
    contact_id_b INTEGER NOT NULL REFERENCES civicrm_contact(id),
    relationship_type_id INTEGER NOT NULL,
    start_date TEXT,
    end_date TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    description TEXT,
    created_date TEXT NOT NULL,
    modified_date TEXT NOT NULL,
    party_position_is_public INTEGER
);
CREATE TABLE civicrm_group (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    title TEXT,
    is_active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE civicrm_group_contact (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES civicrm_group(id),
    contact_id INTEGER NOT NULL REFERENCES civicrm_contact(id),
    status TEXT NOT NULL DEFAULT 'Added',
    UNIQUE (contact_id, group_id)
);
CREATE TABLE sim_merged_to (
    contact_id INTEGER PRIMARY KEY,
    survivor_id INTEGER NOT NULL
);
CREATE TABLE sim_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Created after the bulk load: building an index once is much faster than maintaining it
# row by row. The partial unique indexes double as the implicit-join path for *_primary.
# Both contact indexes carry the usual filter columns so keyset pages filter inside the index.
INDEXES_DDL = """
CREATE INDEX contact_modified ON civicrm_contact (modified_date, id, contact_type, is_deleted);
CREATE INDEX contact_type ON civicrm_contact (contact_type, id, is_deleted, modified_date);
CREATE INDEX contact_branch ON civicrm_contact (party_member_branch_id);
CREATE INDEX email_contact ON civicrm_email (contact_id);
CREATE UNIQUE INDEX email_primary ON civicrm_email (contact_id) WHERE is_primary = 1;
CREATE INDEX email_address ON civicrm_email (email);
CREATE INDEX phone_contact ON civicrm_phone (contact_id);
CREATE UNIQUE INDEX phone_primary ON civicrm_phone (contact_id) WHERE is_primary = 1;
CREATE INDEX address_contact ON civicrm_address (contact_id);
CREATE UNIQUE INDEX address_primary ON civicrm_address (contact_id) WHERE is_primary = 1;
CREATE INDEX membership_contact ON civicrm_membership (contact_id);
CREATE INDEX relationship_modified ON civicrm_relationship (modified_date, id);
CREATE INDEX relationship_a ON civicrm_relationship (contact_id_a);
CREATE INDEX relationship_b ON civicrm_relationship (contact_id_b);
CREATE INDEX group_contact_group ON civicrm_group_contact (group_id);
"""


def utc_now_text() -> str:
    """Return the current UTC time in CiviCRM's "YYYY-MM-DD HH:MM:SS" form."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def connect(db_path: str | Path) -> sqlite3.Connection:
    """Open a connection in autocommit mode, tuned for many small reads and WAL writes."""
    conn = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA cache_size = -32000")
    conn.execute("PRAGMA mmap_size = 1073741824")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    """Return the sim_meta key/value pairs (empty when the table is missing)."""
    try:
        return dict(conn.execute("SELECT key, value FROM sim_meta").fetchall())
    except sqlite3.DatabaseError:
        return {}


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block in one IMMEDIATE transaction (so concurrent writers queue, not deadlock)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class ConnectionPool:
    """Hands each request its own connection and keeps them for reuse (warm page cache)."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection for the duration of one request."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = connect(self.db_path)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._closed:
                conn.close()
            else:
                self._idle.put(conn)

    def close(self) -> None:
        """Close every idle connection; connections still in use close when returned."""
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
