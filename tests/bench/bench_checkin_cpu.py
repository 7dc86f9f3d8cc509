"""CPU per door check-in through the whole Flask stack, in one process, without HTTP or load generator.

    .venv/bin/python tests/bench/bench_checkin_cpu.py              # 20,000 members, 3 rounds of 1,000
    .venv/bin/python tests/bench/bench_checkin_cpu.py --db sqlite --checkins 2000

Far steadier than the CPU figures of `bench_checkin.py` (no gunicorn, no sockets, no competing
processes), so it is the one to compare two versions of the check-in path with: run it on each,
alternating, in the same minutes. The Flask test client posts each check-in as the door's script does
(JSON answer, a new member each time) after 200 warm-up check-ins. The client itself adds a fixed cost,
so the figure is higher than the view alone. Prints `BENCH checkin_cpu_<backend>` (best and median of
the rounds) and the wall time per check-in; then, over 300 more check-ins, the Python function calls,
SQL statements and (PostgreSQL) BEGINs/COMMITs/ROLLBACKs and round trips per check-in, which do not move with
the host's load (`BENCH_PROFILE=<file>` keeps that cProfile data for `python -m pstats`).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_checkin import bench, drop_target, freeze, make_target, seed, settle  # noqa: E402
from checkin_http import SECRET, sign_in_people  # noqa: E402

from config import Settings  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.meetings.eligibility import UnitScope  # noqa: E402

COUNTED = 300  # check-ins of the counting phase, after the timed rounds


def _idle(driver: Any) -> bool:
    """A psycopg connection with no transaction open."""
    return bool(driver.info.transaction_status == TransactionStatus.IDLE)


def count_work(app: Flask, check_in: Callable[[int], None], times: int) -> tuple[float, float, float]:
    """Per check-in: Python function calls (cProfile's count, the client's share included), SQL
    statements and the BEGINs, COMMITs and ROLLBACKs sent with them (PostgreSQL: round trips are
    statements plus these; a statement run alone needs none). Unlike times, these do not move with the
    host's load, so they show what a change to the hot path removed even on a noisy machine."""
    engine = app.extensions["portal"].database.engine
    statements = brackets = 0

    def on_statement(connection: Any, *_args: object) -> None:
        nonlocal statements, brackets
        statements += 1
        driver = connection.connection.driver_connection
        if getattr(driver, "autocommit", True) is False and _idle(driver):
            brackets += 1  # psycopg sends BEGIN first

    def on_end(connection: Any) -> None:
        nonlocal brackets
        driver = connection.connection.driver_connection
        if hasattr(driver, "info") and not _idle(driver):
            brackets += 1  # a COMMIT or ROLLBACK goes to the server (psycopg sends none with none open)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_end)
    event.listen(engine, "rollback", on_end)
    profile = cProfile.Profile()
    try:
        profile.enable()
        for index in range(times):
            check_in(index)
        profile.disable()
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_end)
        event.remove(engine, "rollback", on_end)
    if os.environ.get("BENCH_PROFILE"):
        profile.dump_stats(os.environ["BENCH_PROFILE"])  # for `python -m pstats`
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]
    return calls / times, statements / times, brackets / times


def run(backend: str, members: int, checkins: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="lp-bench-") as folder:
        target = make_target(backend, Path(folder))
        database = None
        try:
            database = seed(target, members)
            meeting = freeze(
                database, target.backend, members, scope=UnitScope.ANY, unit_id=1, label="congress"
            )
            settle(database)
            app = create_app(
                Settings(
                    environment="development",
                    secret_key=SECRET,
                    instance_path=Path(folder) / "instance",
                    database_url=target.url,
                )
            )
            sessions = sign_in_people(app, database, meeting, stewards=1, chairs=1)
            cookie, token = sessions.stewards[0]
            client = app.test_client()
            client.set_cookie(sessions.cookie_name, cookie)
            path = f"/meetings/{meeting}/door/check-in"
            first = 1_000_001  # the generator's member numbers start here

            def check_in(index: int) -> None:
                answer = client.post(
                    path,
                    data={
                        "csrf_token": token,
                        "member_number": str(first + index),
                        "nonce": uuid.uuid4().hex,
                    },
                    headers={"Accept": "application/json"},
                )
                if answer.status_code != 201:
                    raise SystemExit(
                        f"check-in answered {answer.status_code}: {answer.get_data(as_text=True)[:300]}"
                    )

            for index in range(200):
                check_in(index)
            cpu: list[float] = []
            wall: list[float] = []
            for round_number in range(rounds):
                started_cpu, started_wall = time.process_time(), time.perf_counter()
                for index in range(checkins):
                    check_in(200 + round_number * checkins + index)
                cpu.append((time.process_time() - started_cpu) / checkins * 1000)
                wall.append((time.perf_counter() - started_wall) / checkins * 1000)
            size = f"{members}_members/{rounds}x{checkins}_check-ins/test_client"
            bench(f"checkin_cpu_best_{target.backend}", min(cpu), "ms", size)
            bench(f"checkin_cpu_median_{target.backend}", statistics.median(cpu), "ms", size)
            bench(f"checkin_wall_median_{target.backend}", statistics.median(wall), "ms", size)
            counted = COUNTED
            calls, statements, brackets = count_work(
                app, lambda index: check_in(200 + rounds * checkins + index), counted
            )
            size = f"{members}_members/{counted}_check-ins/test_client"
            bench(f"checkin_python_calls_{target.backend}", calls, "calls_per_check-in", size)
            bench(f"checkin_statements_{target.backend}", statements, "statements_per_check-in", size)
            if target.backend == "postgresql":
                bench("checkin_begin_end_postgresql", brackets, "BEGINs+COMMITs+ROLLBACKs_per_check-in", size)
                trips = statements + brackets
                bench("checkin_round_trips_postgresql", trips, "round_trips_per_check-in", size)
            app.extensions["portal"].database.dispose()
        finally:
            if database is not None:
                database.dispose()
            drop_target(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--checkins", type=int, default=1_000, help="check-ins per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if 200 + args.rounds * args.checkins + COUNTED > args.members:
        parser.error(
            f"--members must exceed 200 + rounds × checkins + {COUNTED} (each check-in is a new member)"
        )
    for backend in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        run("sqlite" if backend == "sqlite" else "postgresql", args.members, args.checkins, args.rounds)


if __name__ == "__main__":
    main()
