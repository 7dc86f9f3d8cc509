"""CPU per door check-in through the whole Flask stack, in one process, without HTTP or load generator.

    .venv/bin/python tests/bench/bench_checkin_cpu.py              # 20,000 members, 3 rounds of 1,000
    .venv/bin/python tests/bench/bench_checkin_cpu.py --db sqlite --checkins 2000

Far steadier than the CPU figures of `bench_checkin.py` (no gunicorn, no sockets, no competing
processes), so it is the one to compare two versions of the check-in path with: run it on each,
alternating, in the same minutes. The Flask test client posts each check-in as the door's script does
(JSON answer, a new member each time) after 200 warm-up check-ins. The client itself adds a fixed cost,
so the figure is higher than the view alone. Prints `BENCH checkin_cpu_<backend>` (best and median of
the rounds) and the wall time per check-in.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_checkin import bench, drop_target, freeze, make_target, seed, settle  # noqa: E402
from checkin_http import SECRET, sign_in_people  # noqa: E402

from config import Settings  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.meetings.eligibility import UnitScope  # noqa: E402


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
    if 200 + args.rounds * args.checkins > args.members:
        parser.error("--members must exceed 200 + rounds × checkins (each check-in is a new member)")
    for backend in ["sqlite", "pg"] if args.db == "both" else [args.db]:
        run("sqlite" if backend == "sqlite" else "postgresql", args.members, args.checkins, args.rounds)


if __name__ == "__main__":
    main()
