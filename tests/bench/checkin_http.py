"""HTTP side of the check-in bench: signed-in sessions, gunicorn on loopback, an open-loop load generator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

from flask import Flask
from loadgen import counts_path, door_check_in, http_request, poller_offsets
from sqlalchemy import select

from portal.auth.roles import Role
from portal.auth.testing import csrf_from, make_account, sign_in
from portal.core.database import Database
from portal.meetings import services
from portal.meetings.models import Meeting
from portal.meetings.testing import CHAIR, accept_terms
from portal.members.models import Member, MembershipStatus

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bench-secret-key-that-is-long-enough-for-anything-here"
PORT = 58600 + os.getpid() % 300


@dataclass
class Sessions:
    """Signed-in cookies (and CSRF tokens) made through the real sign-in views."""

    cookie_name: str
    stewards: list[tuple[str, str]] = field(default_factory=list)  # (cookie, csrf token)
    chairs: list[str] = field(default_factory=list)


def sign_in_people(app: Flask, database: Database, meeting_id: int, stewards: int, chairs: int) -> Sessions:
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    found = Sessions(cookie_name)
    with app.app_context(), database.transaction() as session:
        meeting = session.get_one(Meeting, meeting_id)
        people = session.scalars(
            select(Member)
            .where(Member.status == MembershipStatus.CURRENT)
            .order_by(Member.id.desc())
            .limit(stewards + chairs)
        ).all()
        accounts = []
        for index, member in enumerate(people):
            roles = [] if index < stewards else [(Role.NATIONAL_ADMINISTRATOR, None)]
            account, credentials = make_account(
                session, member, roles=roles, keys=app.extensions["auth_keys"]
            )
            if index < stewards:
                services.assign_steward(
                    session, meeting=meeting, member_number=member.member_number, actor=CHAIR
                )
                session.commit()
                accept_terms(session, account.id)
            accounts.append((index < stewards, credentials))
    for is_steward, credentials in accounts:
        client = app.test_client()
        sign_in(client, credentials)
        cookie = client.get_cookie(cookie_name)
        assert cookie is not None, "sign-in gave no session cookie"
        if is_steward:
            page = client.get(f"/meetings/{meeting_id}/door")
            assert page.status_code == 200, page.status_code
            found.stewards.append((cookie.value, csrf_from(page.get_data(as_text=True))))
        else:
            assert client.get(f"/meetings/{meeting_id}/dashboard/counts").status_code == 200
            found.chairs.append(cookie.value)
    return found


@dataclass(frozen=True)
class Server:
    """How gunicorn runs the portal in the bench."""

    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1

    @property
    def label(self) -> str:
        """For the BENCH size column, e.g. `4_sync_workers` or `2x4_gthread`."""
        if self.worker_class == "gthread":
            return f"{self.workers}x{self.threads}_gthread"
        return f"{self.workers}_{self.worker_class}_workers"


def start_gunicorn(url: str, folder: Path, server: Server = Server()) -> subprocess.Popen[bytes]:
    environment = dict(
        os.environ,
        PORTAL_ENV="development",
        PORTAL_SECRET_KEY=SECRET,
        PORTAL_DATABASE_URL=url,
        PORTAL_INSTANCE_PATH=str(folder / "instance"),
        PORTAL_RUN_SCHEDULER_IN_PROCESS="false",
    )
    log = (folder / "gunicorn.log").open("ab")
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(server.workers), "-k", server.worker_class,
         "--threads", str(server.threads), "-b", f"127.0.0.1:{PORT}", "--timeout", "30",
         "portal.app:create_app()"],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = asyncio.run(request("GET", "/healthz", ""))[0]
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start; see gunicorn.log")


class _Exchange(asyncio.Protocol):
    """One request on its own connection, read until the server closes it. A bare protocol rather than
    streams and `wait_for`: the load generator shares the 2 cores with the server it measures, so it
    should take as little of them as it can."""

    def __init__(self, payload: bytes, done: asyncio.Future[bytes]) -> None:
        self.payload, self.done, self.chunks = payload, done, bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.payload)

    def data_received(self, data: bytes) -> None:
        self.chunks += data

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is None:
                self.done.set_result(bytes(self.chunks))
            else:
                self.done.set_exception(exc)


async def request(
    method: str, path: str, cookie: str, body: str = "", timeout: float = 10.0
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a new connection (gunicorn's sync workers close after each answer)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    message = http_request(method, path, PORT, cookie, body)
    transport, _ = await loop.create_connection(lambda: _Exchange(message, done), "127.0.0.1", PORT)

    def give_up() -> None:
        if not done.done():
            done.set_exception(TimeoutError())
        transport.abort()

    timer = loop.call_later(timeout, give_up)
    try:
        answer = await done
    finally:
        timer.cancel()
        transport.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer


def cpu_seconds(master: int) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn (master and workers) and by all PostgreSQL processes, from
    /proc (Linux): read before and after a run, the difference divided by the requests is the CPU each
    request cost."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(pid: int | str) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    children = Path(f"/proc/{master}/task/{master}/children")
    workers = children.read_text().split() if children.exists() else []
    web = used(master) + sum(used(pid) for pid in workers)
    database = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    database += used(entry.name)
    return web, database


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def load_run(
    sessions: Sessions,
    meeting_id: int,
    *,
    rate: int,
    seconds: int,
    first_member: int,
    pollers: int,
    poll_every: float = 4.0,
) -> tuple[list[float], dict[int, int], list[float], float, float]:
    """Check-ins open-loop at `rate` for `seconds` while `pollers` chairs poll the dashboard: check-in
    latencies, their statuses, poll latencies, the sending time and the whole run's wall time."""
    checked, poll_latencies, stop = Stream(), list[float](), asyncio.Event()
    poll_tasks = start_pollers(sessions, meeting_id, pollers, poll_every, stop, poll_latencies)
    start = time.perf_counter() + 0.5
    began = time.perf_counter()
    start_clock = time.time() + (start - began)  # wall clock of `start`, to line the timeline up with logs
    await open_loop(rate, seconds, start, check_in_sender(sessions, meeting_id, first_member), checked)
    elapsed = time.perf_counter() - start
    stop.set()
    await asyncio.gather(*poll_tasks)
    if os.environ.get("BENCH_TIMELINE"):
        print_timeline(checked.timeline, start_clock)
    return checked.latencies, checked.statuses, poll_latencies, elapsed, time.perf_counter() - began


def check_in_sender(
    sessions: Sessions, meeting_id: int, first_member: int
) -> Callable[[int], Awaitable[int]]:
    """Check-in `index` of a run: member `first_member + index`, from the stewards' sessions in turn, as
    the door's script posts it. Returns the answer's status."""

    async def check_in(index: int) -> int:
        cookie, token = sessions.stewards[index % len(sessions.stewards)]
        path, body = door_check_in(meeting_id, token, first_member + index)
        return (await request("POST", path, f"{sessions.cookie_name}={cookie}", body))[0]

    return check_in


def start_pollers(
    sessions: Sessions,
    meeting_id: int,
    pollers: int,
    poll_every: float,
    stop: asyncio.Event,
    latencies: list[float],
) -> list[asyncio.Task[None]]:
    """`pollers` chairs' dashboards polling the counts every `poll_every` seconds until `stop`."""

    async def poll(cookie: str, offset: float) -> None:
        # Real dashboards are opened at different moments: each poller starts at its own offset within
        # the interval instead of all 20 firing at the same instant every 4 s.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), offset)
        while not stop.is_set():
            started = time.perf_counter()
            with contextlib.suppress(OSError, TimeoutError):
                await request("GET", counts_path(meeting_id), f"{sessions.cookie_name}={cookie}")
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(poll_every)  # the dashboard's script polls every 4 s

    return [
        asyncio.create_task(poll(sessions.chairs[index % len(sessions.chairs)], offset))
        for index, offset in enumerate(poller_offsets(pollers, poll_every))
    ]


@dataclass
class Stream:
    """One open-loop stream of requests: each latency counted from when the request was due, and how
    many answers had each status (0: no answer within the timeout)."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    found: int = 0  # searches whose answer listed the member the query was made from
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds into the run, latency)

    def failed(self, expected: int) -> int:
        """Answers other than `expected`."""
        return sum(count for status, count in self.statuses.items() if status != expected)


async def open_loop(
    rate: int, seconds: int, start: float, send: Callable[[int], Awaitable[int]], stream: Stream
) -> None:
    """Start request `index` at `start + index / rate` whatever the server's state (a request that could
    only start late counts its latency from when it was due, so a stall is not hidden)."""

    async def one(index: int, due: float) -> None:
        try:
            status = await send(index)
        except (OSError, TimeoutError):
            status = 0
        stream.latencies.append(time.perf_counter() - due)
        stream.timeline.append((due - start, stream.latencies[-1]))
        stream.statuses[status] = stream.statuses.get(status, 0) + 1

    tasks = []
    for index in range(rate * seconds):
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    await asyncio.gather(*tasks)


@dataclass(frozen=True)
class DoorQuery:
    """A name search as a steward types it, made from one member on the roll."""

    q: str
    postcode: str
    member_number: str


async def door_mix_run(
    sessions: Sessions,
    meeting_id: int,
    *,
    check_ins: int,
    searches: int,
    seconds: int,
    first_member: int,
    queries: list[DoorQuery],
    pollers: int,
    poll_every: float = 4.0,
) -> tuple[Stream, Stream, list[float]]:
    """The door as the security plan sizes it (§8): `check_ins` per second (each a member not seen
    before) and `searches` name searches per second, side by side, from the stewards' sessions, while
    `pollers` chairs watch the dashboard. Returns both streams and the polls' latencies."""
    checked, searched = Stream(), Stream()
    stop, poll_latencies = asyncio.Event(), list[float]()

    async def search(index: int) -> int:
        cookie, _token = sessions.stewards[index % len(sessions.stewards)]
        query = queries[index % len(queries)]
        fields = {"q": query.q, "postcode": query.postcode} if query.postcode else {"q": query.q}
        path = f"/meetings/{meeting_id}/door?{urlencode(fields)}"
        status, answer = await request("GET", path, f"{sessions.cookie_name}={cookie}")
        if status == 200 and f'value="{query.member_number}"'.encode() in answer:
            searched.found += 1
        return status

    poll_tasks = start_pollers(sessions, meeting_id, pollers, poll_every, stop, poll_latencies)
    start = time.perf_counter() + 0.5
    await asyncio.gather(
        open_loop(check_ins, seconds, start, check_in_sender(sessions, meeting_id, first_member), checked),
        open_loop(searches, seconds, start, search, searched),
    )
    stop.set()
    await asyncio.gather(*poll_tasks)
    return checked, searched, poll_latencies


def print_timeline(timeline: list[tuple[float, float]], start_clock: float) -> None:
    """Per second of the run: requests due, p50 and max latency (to see when a stall happened), with the
    second's UTC wall clock to compare with the database's or the machine's own logs."""
    seconds: dict[int, list[float]] = {}
    for due, latency in timeline:
        seconds.setdefault(int(due), []).append(latency)
    for second, values in sorted(seconds.items()):
        clock = time.strftime("%H:%M:%S", time.gmtime(start_clock + second))
        print(
            f"# t={second:3d}s {clock} n={len(values):4d} p50={percentile(values, 0.5) * 1000:7.1f} ms "
            f"max={max(values) * 1000:7.1f} ms",
            flush=True,
        )
