"""The admins' mutation log at scale: one page view (a page of 50 and the capped count) per kind of filter.

    .venv/bin/python tests/bench/bench_audit_log.py                      # 300,000 entries, both databases
    .venv/bin/python tests/bench/bench_audit_log.py --entries 3000000 --db pg

Prints `BENCH audit_log_<kind>_p95_<backend> <ms> ms <entries>` (and p50) for: the newest page, a page deep
in the log, one member's history, one person's actions, a rare action, a common one (from a random point), a
whole action family, one day, and
the list of actions the filter offers. Entries are written straight into the table (a year of a party's
log: mostly nightly-pull updates, officers' edits, check-ins, a few rare actions) with placeholder hashes:
the viewer reads the log, it does not verify the chain (`flask audit verify` does). Then VACUUM ANALYZE on
PostgreSQL, as autovacuum would; nothing on SQLite, as in the portal.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_checkin import bench, drop_target, make_target, settle  # noqa: E402

from audit.viewer import LogFilter, count_matching, known_actions, log_page  # noqa: E402
from portal.core import schema  # noqa: E402
from portal.core.database import Database  # noqa: E402

ACTIONS = (  # (action, share of the log)
    ("members.pull_update", 0.55),
    ("members.update", 0.15),
    ("meetings.check_in", 0.15),
    ("meetings.check_out", 0.05),
    ("auth.accept_terms", 0.04),
    ("members.pull_create", 0.03),
    ("meetings.freeze_roll", 0.02),
    ("crm.replay", 0.0099),
    ("auth.grant_role", 0.0001),
)
ACCOUNTS = 2_000
MEMBERS = 400_000
START = datetime(2025, 11, 1, tzinfo=UTC)
ROUNDS = 30
PLACEHOLDER = "0" * 64


def _entries(count: int, seed: int) -> Iterator[tuple[object, ...]]:
    """`(seq, occurred_at, actor_kind, actor_id, actor_label, action, target_type, target_id, changes)`."""
    chance = random.Random(seed)
    names, weights = zip(*ACTIONS, strict=True)
    step = timedelta(days=365) / count
    for seq in range(1, count + 1):
        action = chance.choices(names, weights)[0]
        pulled = action.startswith("members.pull")
        actor = (
            ("system", None, "crm-pull")
            if pulled
            else ("account", n := chance.randint(1, ACCOUNTS), f"Officer {n}")
        )
        if action.startswith("meetings.check"):
            target = ("attendances", str(seq))
        else:
            target = ("members", str(chance.randint(1, MEMBERS)))
        changes = json.dumps({"city": ["Utrecht", "Zeist"], "phone": [None, f"+3161{seq:07d}"]})
        yield (seq, START + step * seq, *actor, action, *target, changes)


def fill(database: Database, backend: str, count: int) -> None:
    started = time.perf_counter()
    columns = "seq, occurred_at, actor_kind, actor_id, actor_label, action, target_type, target_id, changes"
    rows = ((*row, "", PLACEHOLDER, PLACEHOLDER) for row in _entries(count, seed=66))
    with database.engine.begin() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"{columns}, request_id, prev_hash, entry_hash"
        if backend == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY audit_entries ({statement}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            batch: list[tuple[object, ...]] = []
            marks = ", ".join("?" * 12)
            for row in rows:
                batch.append((*row[:1], row[1].replace(tzinfo=None), *row[2:]))  # type: ignore[attr-defined]
                if len(batch) == 10_000:
                    raw.executemany(f"INSERT INTO audit_entries ({statement}) VALUES ({marks})", batch)
                    batch = []
            raw.executemany(f"INSERT INTO audit_entries ({statement}) VALUES ({marks})", batch)
        connection.execute(text("UPDATE audit_chain_head SET seq = :seq"), {"seq": count})
    bench(f"audit_log_fill_{backend}", time.perf_counter() - started, "s", f"{count}_entries")
    settle(database)


def measure(database: Database, backend: str, count: int) -> None:
    chance = random.Random(7)
    family = tuple(action for action, _share in ACTIONS if action.startswith("members."))

    def day() -> LogFilter:
        since = START + timedelta(days=chance.randint(1, 360))
        return LogFilter(since=since, until=since + timedelta(days=1))

    def history() -> LogFilter:
        """As the page asks for one member's history: their row, account and rows elsewhere (here 20
        presences, 2 grants and 3 terms acceptances)."""
        member = str(chance.randint(1, MEMBERS))
        presences = (("attendances", str(chance.randint(1, count))) for _ in range(20))
        return LogFilter(
            records=(
                ("members", member),
                ("accounts", str(chance.randint(1, ACCOUNTS))),
                *presences,
                *(("role_grants", str(chance.randint(1, 5000))) for _ in range(2)),
                *(("terms_acceptances", str(chance.randint(1, 9000))) for _ in range(3)),
            )
        )

    kinds: dict[str, Callable[[], tuple[LogFilter, int | None]]] = {
        "newest": lambda: (LogFilter(), None),
        "deep_page": lambda: (LogFilter(), chance.randint(1, count)),
        "member_history": lambda: (history(), None),
        "one_person": lambda: (LogFilter(actor_id=chance.randint(1, ACCOUNTS)), None),
        "rare_action": lambda: (LogFilter(actions=("auth.grant_role",)), None),
        "common_action": lambda: (LogFilter(actions=("members.pull_update",)), chance.randint(1, count)),
        "action_family": lambda: (LogFilter(actions=family), None),
        "one_day": lambda: (day(), None),
    }
    for kind, make in kinds.items():
        timings = []
        for _round in range(ROUNDS):
            wanted, before = make()
            started = time.perf_counter()
            with database.session() as session:
                page = log_page(session, wanted, before=before)
                count_matching(session, wanted)
            timings.append((time.perf_counter() - started) * 1000)
            assert len(page.rows) <= 50
        report(f"audit_log_{kind}", backend, timings, count)
    timings = []
    for _round in range(ROUNDS):
        started = time.perf_counter()
        with database.session() as session:
            offered = known_actions(session)
        timings.append((time.perf_counter() - started) * 1000)
    assert sorted(offered) == sorted(action for action, _share in ACTIONS), offered
    report("audit_log_known_actions", backend, timings, count)


def report(name: str, backend: str, timings: list[float], count: int) -> None:
    ordered = sorted(timings)
    size = f"{count}_entries/{len(timings)}_page_views"
    bench(f"{name}_p50_{backend}", statistics.median(ordered), "ms", size)
    bench(f"{name}_p95_{backend}", ordered[int(len(ordered) * 0.95) - 1], "ms", size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--entries", type=int, default=300_000)
    args = parser.parse_args()
    for backend in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        with tempfile.TemporaryDirectory(prefix="lp-bench-") as folder:
            target = make_target("sqlite" if backend == "sqlite" else "postgresql", Path(folder))
            try:
                schema.upgrade(target.url)
                database = Database(target.url)
                fill(database, target.backend, args.entries)
                measure(database, target.backend, args.entries)
                database.dispose()
            finally:
                drop_target(target)


if __name__ == "__main__":
    main()
