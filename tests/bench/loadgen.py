"""The check-in bench's load generator in C (`loadgen.c`): built with the machine's C compiler, fed a
schedule of whole requests, read back as statuses and latencies.

It plays the same open loop as `checkin_http.open_loop` but takes only the CPU the kernel needs for each
request's connection instead of about 0.7 ms, CPU that a real door's phones never take from the server's
2 cores.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


def build(folder: Path) -> Path:
    """Compile `loadgen.c` into `folder` (CC, default cc); the path of the program."""
    program = folder / "loadgen"
    subprocess.run(
        [
            os.environ.get("CC", "cc"),
            "-O2",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            str(program),
            str(HERE / "loadgen.c"),
        ],
        check=True,
    )
    return program


def http_request(method: str, path: str, port: int, cookie: str = "", body: str = "") -> bytes:
    """A whole HTTP/1.1 request as the door's script and the dashboard send them (`Connection: close`)."""
    head = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: application/json",
        "Connection: close",
    ]
    if cookie:
        head.append(f"Cookie: {cookie}")
    payload = body.encode()
    if method == "POST":
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + payload


def door_check_in(meeting_id: int, token: str, member_number: int) -> tuple[str, str]:
    """The path and form body of a check-in by number as the door's script posts it (a fresh nonce)."""
    body = f"csrf_token={token}&member_number={member_number}&nonce={uuid.uuid4().hex}&method=number"
    return f"/meetings/{meeting_id}/door/check-in", body


def counts_path(meeting_id: int) -> str:
    """What the chair's dashboard polls."""
    return f"/meetings/{meeting_id}/dashboard/counts"


def poller_offsets(pollers: int, every: float) -> list[float]:
    """Where in the `every`-second interval each dashboard first polls: spread, reproducibly (real
    dashboards are opened at different moments, not all at the same instant)."""
    offsets = random.Random(66)
    return [offsets.uniform(0, every) for _poller in range(pollers)]


@dataclass(frozen=True)
class Planned:
    """A request due `due` seconds into the run, in stream `stream`."""

    due: float
    stream: str
    payload: bytes


@dataclass
class Answered:
    """What the generator saw of one stream: latencies in seconds (from when each request was due),
    statuses (0: no answer) and, per request, when it was due."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    dues: list[float] = field(default_factory=list)

    def timeline(self) -> list[tuple[float, float]]:
        return list(zip(self.dues, self.latencies, strict=True))


@dataclass
class Run:
    """A whole run: each stream's answers, when the last request of `last_of` was answered (seconds
    from the schedule's zero), the generator's CPU seconds while it sent and read (as it measured them
    itself), the run's wall time and its wall-clock start."""

    streams: dict[str, Answered]
    finished: float
    cpu: float
    wall: float
    start_clock: float


def run(
    program: Path, port: int, planned: list[Planned], folder: Path, *, last_of: str, timeout: float = 10.0
) -> Run:
    """Send `planned` open-loop (in due order) and collect the answers."""
    planned = sorted(planned, key=lambda item: item.due)
    schedule, results = folder / "schedule.bin", folder / "results.txt"
    with schedule.open("wb") as out:
        for item in planned:
            out.write(f"{round(item.due * 1_000_000)} {len(item.payload)}\n".encode() + item.payload)
    began = time.perf_counter()
    done = subprocess.run(
        [str(program), str(port), str(schedule), str(results), str(round(timeout * 1000))],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    said = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    start_clock, cpu = int(said["start"]) / 1_000_000, float(said["cpu"])
    streams: dict[str, Answered] = {}
    finished = 0.0
    lines = results.read_text().splitlines()
    assert len(lines) == len(planned), f"{len(lines)} results for {len(planned)} requests"
    for item, line in zip(planned, lines, strict=True):
        status_text, latency_text = line.split()
        status, latency = int(status_text), int(latency_text) / 1_000_000
        answered = streams.setdefault(item.stream, Answered())
        answered.latencies.append(latency)
        answered.dues.append(item.due)
        answered.statuses[status] = answered.statuses.get(status, 0) + 1
        if item.stream == last_of:
            finished = max(finished, item.due + latency)
    return Run(streams, finished, cpu, wall, start_clock)


def check_in_plan(
    stewards: list[tuple[str, str]],
    cookie_name: str,
    port: int,
    meeting_id: int,
    *,
    rate: int,
    seconds: int,
    first_member: int,
) -> list[Planned]:
    """Check-in `index` due at `index / rate`: member `first_member + index`, from the stewards' sessions
    in turn, as the door's script posts it (a fresh nonce each)."""
    plan = []
    for index in range(rate * seconds):
        cookie, token = stewards[index % len(stewards)]
        path, body = door_check_in(meeting_id, token, first_member + index)
        payload = http_request("POST", path, port, f"{cookie_name}={cookie}", body)
        plan.append(Planned(index / rate, "check_in", payload))
    return plan


def poll_plan(
    chairs: list[str],
    cookie_name: str,
    port: int,
    meeting_id: int,
    *,
    pollers: int,
    every: float,
    seconds: int,
) -> list[Planned]:
    """`pollers` dashboards asking for the counts every `every` seconds, each from its own offset within
    the interval (real dashboards are opened at different moments)."""
    plan = []
    for index, offset in enumerate(poller_offsets(pollers, every)):
        cookie = chairs[index % len(chairs)]
        payload = http_request("GET", counts_path(meeting_id), port, f"{cookie_name}={cookie}")
        due = offset
        while due < seconds:
            plan.append(Planned(due, "poll", payload))
            due += every
    return plan
