"""Check-in at the door under load, the voter-roll freeze and the duplicate race, on SQLite and PostgreSQL.

    .venv/bin/python tests/bench/bench_checkin.py   # 25,000 members: 100 and 200/s for 10 s, 300/s for 60 s
    .venv/bin/python tests/bench/bench_checkin.py --members 400000 --rates 100,200,300 \
        --step-seconds 15 --seconds 60 --db both           # the same on a 400,000-member replica

Prints `BENCH <name> <value> <unit> <data size>`. The portal runs under gunicorn on loopback, 4 sync
workers by default (on 2 cores the workers beyond the second overlap one request's database round trips
and commit with another's CPU; with 3, 300/s for 60 s saturated at 272–281/s in session 10, with 4 and 5
it held 296–300/s). A load generator in C (`loadgen.c`, built with cc; `--generator python` for the
asyncio one in this process) sends check-ins open-loop at each of `--rates` per second (latency measured
from each request's scheduled start, so a stall is not hidden) while `--pollers` chairs poll the
dashboard counts every 4 s as the page does (`BENCH_POLL_EVERY`); each poller starts at a random
(seeded) offset within that interval, as dashboards opened at different moments do, instead of all
firing at the same instant. Each step first prints the host's speed (`host_loop_*`: a fixed Python
loop; it has varied 3-fold between sessions) and ends with the cores the hypervisor took away meanwhile
(`cpu_stolen_*`, /proc/stat's steal). Bounded: at most rate × seconds check-ins per step, each
with a 10 s timeout. PostgreSQL:
`PORTAL_BENCH_PG_URL` (default the local server); the script creates and drops its own database. No
Debian package needed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import loadgen  # noqa: E402 - a sibling module of this script
from checkin_http import (  # noqa: E402 - a sibling module of this script
    PORT,
    SECRET,
    DoorQuery,
    Server,
    Sessions,
    cpu_seconds,
    door_mix_run,
    load_run,
    percentile,
    print_timeline,
    request,
    sign_in_people,
    start_gunicorn,
)
from run import host_loop_ms, stolen_seconds  # noqa: E402 - a sibling module of this script

from config import Settings  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.core import schema  # noqa: E402
from portal.core.database import Database  # noqa: E402
from portal.meetings import services  # noqa: E402
from portal.meetings.eligibility import UnitScope  # noqa: E402
from portal.meetings.models import Attendance, Meeting, VoterRollEntry  # noqa: E402
from portal.meetings.testing import CHAIR, make_meeting, nonce, steward  # noqa: E402
from portal.members.models import Member  # noqa: E402
from portal.members.testing import generate_party  # noqa: E402

PG_ADMIN = os.environ.get("PORTAL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


POLL_EVERY = float(os.environ.get("BENCH_POLL_EVERY", "4"))  # seconds; meetings-dashboard.js polls every 4 s


def bench(name: str, value: float, unit: str, size: str) -> None:
    """One result line."""
    print(f"BENCH {name} {value:.6g} {unit} {size}", flush=True)


def load() -> str:
    """The machine's load averages (1, 5, 15 min) and core count, to read the figures against."""
    one, five, fifteen = os.getloadavg()
    return f"load={one:.2f},{five:.2f},{fifteen:.2f}/cores={os.cpu_count()}"


@dataclass
class Target:
    """One database the bench runs against."""

    backend: str
    url: str
    folder: Path
    drop: str = ""


def make_target(backend: str, folder: Path) -> Target:
    if backend == "sqlite":
        return Target(backend, f"sqlite:///{folder / 'bench.sqlite3'}", folder)
    name = f"lp_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return Target(backend, f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", folder, drop=name)


def drop_target(target: Target) -> None:
    if target.drop:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target.drop}" WITH (FORCE)')


def seed(target: Target, members: int) -> Database:
    schema.upgrade(target.url)
    database = Database(target.url)
    started = time.perf_counter()
    with database.engine.begin() as connection:
        generate_party(connection, members=members, seed=66)
    bench(f"setup_party_{target.backend}", time.perf_counter() - started, "s", f"{members}_members")
    settle(database)
    return database


def settle(database: Database) -> None:
    """PostgreSQL: what autovacuum does after a bulk load, before the measured part (statistics for the
    planner, the visibility map). This machine's server runs with autovacuum off; a production database,
    which has it on, has long done this for its replica and for a roll frozen days before the meeting.
    SQLite: nothing, as in the portal, which never runs ANALYZE there (with statistics the freeze's plan
    measured 18 % slower on 200,000 members)."""
    if database.is_sqlite:
        return
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def freeze(
    database: Database, backend: str, members: int, *, scope: UnitScope, unit_id: int, label: str
) -> int:
    with database.transaction() as session:
        meeting_id = make_meeting(session, org_unit_id=unit_id, rule_unit_scope=scope, title=label).id
    started = time.perf_counter()
    with database.transaction() as session:
        meeting = session.get_one(Meeting, meeting_id)
        voters = services.freeze_roll(session, meeting=meeting, actor=CHAIR)
    seconds = time.perf_counter() - started
    with database.session() as session:
        listed = session.scalar(
            select(func.count()).select_from(VoterRollEntry).where(VoterRollEntry.meeting_id == meeting_id)
        )
    bench(
        f"freeze_roll_{label}_{backend}",
        seconds,
        "s",
        f"{members}_member_replica/{listed}_listed/{voters}_voters",
    )
    return meeting_id


def service_run(
    database: Database, backend: str, meeting_id: int, members: int, *, threads: int, each: int
) -> None:
    """The check-in service alone (no HTTP, no sign-in): `threads` stewards, each with its own session."""
    latencies: list[float] = []
    lock = threading.Lock()
    cpu = time.process_time()

    def work(worker: int) -> None:
        mine: list[float] = []
        for index in range(each):
            number = str(1_000_000 + members - (worker * each + index))  # from the top: away from HTTP
            started = time.perf_counter()
            with database.transaction() as session:
                meeting = session.get_one(Meeting, meeting_id)
                result = services.check_in_member(
                    session, meeting=meeting, member_number=number, actor=steward(worker), nonce=nonce()
                )
            mine.append(time.perf_counter() - started)
            assert result.outcome is services.Outcome.CHECKED_IN, result
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(worker,)) for worker in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    size = f"{members}_members/{threads}_threads/{threads * each}_check-ins"
    bench(f"service_checkin_rate_{backend}", len(latencies) / elapsed, "per_s", size)
    bench(f"service_checkin_p99_{backend}", percentile(latencies, 0.99) * 1000, "ms", size)
    cpu_ms = (time.process_time() - cpu) / len(latencies) * 1000
    bench(f"service_checkin_cpu_{backend}", cpu_ms, "ms_python_cpu_per_check-in", size)


def http_run(
    target: Target, database: Database, meeting_id: int, members: int, args: argparse.Namespace
) -> None:
    settings = Settings(
        environment="development",
        secret_key=SECRET,
        instance_path=target.folder / "instance",
        database_url=target.url,
    )
    app = create_app(settings)
    sessions = sign_in_people(app, database, meeting_id, stewards=8, chairs=max(1, min(args.pollers, 20)))
    app.extensions["portal"].database.dispose()
    server = Server(args.workers, args.worker_class, args.threads)
    process = start_gunicorn(target.url, target.folder, server)
    size = f"{members}_members/{args.pollers}_pollers/{server.label}"
    generator = loadgen.build(target.folder) if args.generator == "c" else None
    try:
        first = 1_000_001
        for rate in args.rates:
            seconds = args.seconds if rate == args.rates[-1] else args.step_seconds
            one_rate(
                sessions,
                database,
                meeting_id,
                target.backend,
                rate,
                seconds,
                first,
                args.pollers,
                size,
                process.pid,
                generator,
            )
            first += rate * seconds
            drain(meeting_id)
        if args.mix_seconds:
            door_mix(sessions, database, meeting_id, target.backend, args, first, size, process.pid)
            first += args.door_mix[0] * args.mix_seconds
            drain(meeting_id)
        race(sessions, meeting_id, target.backend, first + 10)
    finally:
        process.terminate()
        process.wait(30)


def one_rate(
    sessions: Sessions,
    database: Database,
    meeting_id: int,
    backend: str,
    rate: int,
    seconds: int,
    first: int,
    pollers: int,
    size: str,
    server_pid: int,
    generator: Path | None,
) -> None:
    """One open-loop run at `rate` check-ins per second for `seconds`, each a member not seen before,
    sent by the C load generator (`generator`) or, when None, by the asyncio one."""
    label = f"{backend}_{rate}per_s_{seconds}s"
    bench(f"host_loop_{label}", host_loop_ms(), "ms", "1M_python_iterations")
    before = load()
    stolen_before = stolen_seconds()
    web_before, database_before = cpu_seconds(server_pid)
    if generator is None:
        generator_before = time.process_time()
        latencies, statuses, polls, elapsed, wall = asyncio.run(
            load_run(
                sessions,
                meeting_id,
                rate=rate,
                seconds=seconds,
                first_member=first,
                pollers=pollers,
                poll_every=POLL_EVERY,
            )
        )
        generator_cpu, generator_name = time.process_time() - generator_before, "this_process"
    else:
        latencies, statuses, polls, elapsed, wall, generator_cpu = c_load_run(
            generator, sessions, meeting_id, rate=rate, seconds=seconds, first=first, pollers=pollers
        )
        generator_name = "loadgen.c"
    done = statuses.get(201, 0)
    rows, distinct = attendance_rows(database, meeting_id, first, rate * seconds)
    bench(f"checkin_sustained_{label}", done / elapsed, "req/s", size)
    bench(f"checkin_p50_{label}", percentile(latencies, 0.50) * 1000, "ms", size)
    bench(f"checkin_p99_{label}", percentile(latencies, 0.99) * 1000, "ms", size)
    bench(f"checkin_max_{label}", max(latencies) * 1000, "ms", size)
    failed = sum(count for status, count in statuses.items() if status != 201)
    bench(f"checkin_non201_{label}", failed, "requests", size)
    bench(
        f"checkin_rows_equal_201s_{label}",
        int(rows == distinct == done),
        "bool",
        f"rows={rows}/distinct={distinct}/201s={done}",
    )
    bench(f"dashboard_poll_p99_{label}", percentile(polls, 0.99) * 1000, "ms", f"{len(polls)}_polls")
    web_after, database_after = cpu_seconds(server_pid)
    handled = len(latencies) + len(polls)
    bench(
        f"cpu_per_request_gunicorn_{label}",
        (web_after - web_before) / handled * 1000,
        "ms",
        f"{handled}_requests_incl_polls/{(web_after - web_before) / wall:.2f}_cores",
    )
    if backend == "postgresql":
        bench(
            f"cpu_per_request_postgres_{label}",
            (database_after - database_before) / handled * 1000,
            "ms",
            f"all_postgres_processes/{(database_after - database_before) / wall:.2f}_cores",
        )
    bench(
        f"cpu_load_generator_{label}",
        generator_cpu / wall,
        "cores",
        f"{generator_name}/{generator_cpu / (len(latencies) + len(polls)) * 1000:.3f}_ms_per_request",
    )
    stolen = (stolen_seconds() - stolen_before) / wall
    bench(f"cpu_stolen_{label}", stolen, "cores", f"hypervisor_steal/of_{os.cpu_count()}_cores")
    bench(
        f"machine_load_{label}",
        os.getloadavg()[0],
        "load1",
        f"before:{before}/after:{load()}/wall={wall:.1f}s",
    )


def c_load_run(
    program: Path, sessions: Sessions, meeting_id: int, *, rate: int, seconds: int, first: int, pollers: int
) -> tuple[list[float], dict[int, int], list[float], float, float, float]:
    """`one_rate`'s run through `loadgen.c`: check-in latencies, their statuses, poll latencies, the time
    until the last check-in was answered, the wall time and the generator's CPU seconds."""
    plan = loadgen.check_in_plan(
        sessions.stewards,
        sessions.cookie_name,
        PORT,
        meeting_id,
        rate=rate,
        seconds=seconds,
        first_member=first,
    )
    plan += loadgen.poll_plan(
        sessions.chairs,
        sessions.cookie_name,
        PORT,
        meeting_id,
        pollers=pollers,
        every=POLL_EVERY,
        seconds=seconds,
    )
    with tempfile.TemporaryDirectory(prefix="lp-loadgen-") as folder:
        done = loadgen.run(program, PORT, plan, Path(folder), last_of="check_in")
    checked, polled = done.streams["check_in"], done.streams.get("poll", loadgen.Answered())
    if os.environ.get("BENCH_TIMELINE"):
        print_timeline(checked.timeline(), done.start_clock)
    return checked.latencies, checked.statuses, polled.latencies, done.finished, done.wall, done.cpu


def attendance_rows(database: Database, meeting_id: int, first: int, count: int) -> tuple[int, int]:
    """Attendance rows, and distinct members among them, for the `count` members a run checked in from
    member number `first` (the generator's member ids are the numbers minus 1,000,000)."""
    with database.session() as session:
        here = (Attendance.meeting_id == meeting_id) & (
            Attendance.member_id.between(first - 1_000_000, first - 1_000_000 + count - 1)
        )
        rows = session.scalar(select(func.count()).select_from(Attendance).where(here)) or 0
        distinct = session.scalar(select(func.count(func.distinct(Attendance.member_id))).where(here)) or 0
    return rows, distinct


def door_queries(database: Database, meeting_id: int, count: int = 600) -> list[DoorQuery]:
    """Name searches as stewards type them, each made from a member the roll lists: every other one the
    full name, the rest the family name with the postcode the steward asks for."""
    with database.session() as session:
        rows = session.execute(
            select(Member.member_number, Member.given_name, Member.infix, Member.family_name, Member.postcode)
            .join(VoterRollEntry, VoterRollEntry.member_id == Member.id)
            .where(VoterRollEntry.meeting_id == meeting_id, Member.id % 97 == 5)
            .order_by(Member.id)
            .limit(count)
        ).all()
    queries = []
    for index, row in enumerate(rows):
        family = " ".join(part for part in (row.infix, row.family_name) if part)
        if index % 2:
            queries.append(DoorQuery(f"{row.given_name} {family}", "", row.member_number))
        else:
            queries.append(DoorQuery(family, row.postcode or "", row.member_number))
    return queries


def door_mix(
    sessions: Sessions,
    database: Database,
    meeting_id: int,
    backend: str,
    args: argparse.Namespace,
    first: int,
    size: str,
    server_pid: int,
) -> None:
    """Check-ins and name searches side by side, at the rates the security plan derives for a congress
    door (§8: 10 check-ins/s + 30 searches/s for 10 min, p95 ≤ 300 ms, p99 ≤ 1 s, 0 duplicates, 0 lost)."""
    check_ins, searches = args.door_mix
    seconds = args.mix_seconds
    queries = door_queries(database, meeting_id)
    web_before, database_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    checked, searched, polls = asyncio.run(
        door_mix_run(
            sessions,
            meeting_id,
            check_ins=check_ins,
            searches=searches,
            seconds=seconds,
            first_member=first,
            queries=queries,
            pollers=args.pollers,
            poll_every=POLL_EVERY,
        )
    )
    wall = time.perf_counter() - started
    web_after, database_after = cpu_seconds(server_pid)
    done = checked.statuses.get(201, 0)
    rows, distinct = attendance_rows(database, meeting_id, first, check_ins * seconds)
    label = f"{backend}_{check_ins}checkins+{searches}searches_per_s_{seconds}s"
    for kind, stream in (("checkin", checked), ("search", searched)):
        for share in (0.95, 0.99):
            bench(
                f"door_mix_{kind}_p{round(share * 100)}_{label}",
                percentile(stream.latencies, share) * 1000,
                "ms",
                size,
            )
    bench(f"door_mix_dashboard_poll_p99_{label}", percentile(polls, 0.99) * 1000, "ms", f"{len(polls)}_polls")
    bench(f"door_mix_checkin_non201_{label}", checked.failed(201), "requests", size)
    bench(f"door_mix_search_non200_{label}", searched.failed(200), "requests", size)
    bench(
        f"door_mix_checkin_rows_equal_201s_{label}",
        int(rows == distinct == done == check_ins * seconds),
        "bool",
        f"rows={rows}/distinct={distinct}/201s={done}/sent={check_ins * seconds}",
    )
    bench(
        f"door_mix_search_found_{label}",
        searched.found / max(1, len(searched.latencies)),
        "share",
        f"searches_listing_the_member_they_were_made_from/{len(queries)}_queries/{len(searched.latencies)}_sent",
    )
    used = (web_after - web_before) + (database_after - database_before)
    processes = "gunicorn+postgres" if backend == "postgresql" else "gunicorn"
    bench(f"door_mix_cores_{label}", used / wall, "cores", f"{processes}/wall={wall:.1f}s/{load()}")


def drain(meeting_id: int, seconds: float = 120) -> None:
    """Wait until the server has worked off what timed-out clients left in its queue."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        with contextlib.suppress(OSError, TimeoutError):
            asyncio.run(request("GET", "/healthz", "", timeout=30))
        if time.perf_counter() - started < 0.2:
            return
        time.sleep(1)


def race(sessions: Sessions, meeting_id: int, backend: str, member: int) -> None:
    """50 concurrent check-ins of one member from the stewards' sessions: one 201, the rest 409."""

    async def all_at_once() -> list[int]:
        async def one(index: int) -> int:
            cookie, token = sessions.stewards[index % len(sessions.stewards)]
            body = f"csrf_token={token}&member_number={member}&nonce={uuid.uuid4().hex}"
            path, session_cookie = f"/meetings/{meeting_id}/door/check-in", f"{sessions.cookie_name}={cookie}"
            try:
                return (await request("POST", path, session_cookie, body, timeout=60))[0]
            except (OSError, TimeoutError):
                return 0

        return await asyncio.gather(*(one(index) for index in range(50)))

    statuses = asyncio.run(all_at_once())
    bench(
        f"race_50_same_member_{backend}",
        statuses.count(201),
        "checked_in",
        f"409s={statuses.count(409)}/others={50 - statuses.count(201) - statuses.count(409)}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--members", type=int, default=25_000)
    parser.add_argument(
        "--rates",
        type=lambda text: [int(part) for part in text.split(",") if part],
        default=[100, 200, 300],
        help="open-loop steps, e.g. 100,200,300; the last runs --seconds, the others --step-seconds "
        "('' for none: only the mixed door run and the race)",
    )
    parser.add_argument("--step-seconds", type=int, default=10)
    parser.add_argument(
        "--seconds", type=int, default=60, help="length of the last step (issue #6: 300/s for 60 s)"
    )
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--door-mix",
        type=lambda text: tuple(int(part) for part in text.split(",")),
        default=(10, 30),
        help="check-ins and name searches per second for the mixed door run (security plan §8: 10,30)",
    )
    parser.add_argument(
        "--mix-seconds",
        type=int,
        default=20,
        help="length of the mixed door run (the plan's figure: 600; 0: skip)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--generator",
        choices=["c", "python"],
        default="c",
        help="the open-loop steps' load generator: loadgen.c (built with cc) or the asyncio one",
    )
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=1, help="threads per gthread worker")
    args = parser.parse_args()
    needed = (
        sum(args.rates[:-1]) * args.step_seconds
        + (args.rates[-1] * args.seconds if args.rates else 0)
        + args.door_mix[0] * args.mix_seconds
        + 100
    )
    if needed > args.members:
        parser.error(f"--members must be at least {needed} (each check-in is a new member)")
    backends = ["sqlite", "pg"] if args.db == "both" else [args.db]
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="lp-bench-") as folder:
            target = make_target("sqlite" if backend == "sqlite" else "postgresql", Path(folder))
            try:
                database = seed(target, args.members)
                freeze(
                    database, target.backend, args.members, scope=UnitScope.SUBTREE, unit_id=2, label="region"
                )
                congress = freeze(
                    database, target.backend, args.members, scope=UnitScope.ANY, unit_id=1, label="congress"
                )
                settle(database)
                service_run(
                    database,
                    target.backend,
                    congress,
                    args.members,
                    threads=2,
                    each=min(500, args.members // 8),
                )
                if not args.skip_http:
                    http_run(target, database, congress, args.members, args)
                database.dispose()
            finally:
                drop_target(target)


if __name__ == "__main__":
    main()
