"""The check-in bench's C load generator (tests/bench/loadgen.c) against a real HTTP server on loopback:
it must count what the server answered, count a stall from when each request was due (open loop), and
count refusals and timeouts as no answer, or every check-in figure it gives is wrong."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import loadgen  # a module of the bench folder


class _Handler(BaseHTTPRequestHandler):
    """201 for POST /ok (echoing the body's length), 409 for /taken, a 0.3-s stall on /slow, never an
    answer on /hang (until the server shuts down)."""

    protocol_version = "HTTP/1.0"
    seen: ClassVar[list[bytes]] = []

    def _answer(self, status: int, body: bytes = b"{}") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Handler.seen.append(body if len(body) < 100 else f"{len(body)} bytes".encode())
        self._answer(201 if self.path == "/ok" else 409)

    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(0.3)
        if self.path == "/hang":
            time.sleep(3)
        self._answer(200)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loadgen.build(tmp_path_factory.mktemp("loadgen"))


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _get(path: str, port: int) -> bytes:
    return loadgen.http_request("GET", path, port)


def test_it_sends_each_request_whole_and_reads_each_status(
    program: Path, server: int, tmp_path: Path
) -> None:
    plan = [
        loadgen.Planned(index / 200, "write", loadgen.http_request("POST", path, server, "c=1", f"n={index}"))
        for index, path in enumerate(["/ok", "/taken"] * 50)
    ] + [loadgen.Planned(0.01 * index, "read", _get("/", server)) for index in range(10)]
    big = "x" * 4_000_000  # more than a socket takes at once: sent in parts as the server reads
    plan.append(loadgen.Planned(0.1, "big", loadgen.http_request("POST", "/ok", server, "c=1", big)))

    run = loadgen.run(program, server, plan, tmp_path, last_of="write")

    assert run.streams["write"].statuses == {201: 50, 409: 50}
    assert run.streams["read"].statuses == {200: 10}
    assert run.streams["big"].statuses == {201: 1}
    expected = [f"n={index}".encode() for index in range(100)] + [b"4000000 bytes"]
    assert sorted(_Handler.seen) == sorted(expected)
    assert 0.49 <= run.finished < 5  # the last write was due at 0.495 s
    assert all(0 < latency < 5 for latency in run.streams["write"].latencies)
    assert 0 < run.cpu < 1  # its own CPU while sending and reading 111 requests


def test_a_long_schedule_is_read_in_linear_time(program: Path, tmp_path: Path) -> None:
    """glibc's sscanf measures the rest of its input on every call: a schedule read with it took time
    in the square of its size (and counted it as the generator's CPU)."""
    record = _get("/" + "p" * 500, 1)
    schedule = tmp_path / "schedule.bin"
    with schedule.open("wb") as out:
        for index in range(40_000):  # 21 MB
            out.write(f"{index * 1000} {len(record)}\n".encode() + record)
        out.write(f"0 {len(record)}\n".encode() + record)  # out of order: refused after reading the rest
    started = time.perf_counter()
    done = subprocess.run(
        [str(program), "1", str(schedule), str(tmp_path / "out"), "100"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "bad schedule record 40000" in done.stderr
    assert time.perf_counter() - started < 2


def test_a_stall_counts_from_when_each_request_was_due(program: Path, server: int, tmp_path: Path) -> None:
    """One connection at a time would hide the stall (closed loop); the generator does not wait for it."""
    plan = [loadgen.Planned(0, "slow", _get("/slow", server))]
    plan += [loadgen.Planned(0.05 + index * 0.01, "fast", _get("/", server)) for index in range(20)]

    run = loadgen.run(program, server, plan, tmp_path, last_of="fast")

    assert run.streams["slow"].latencies[0] >= 0.3
    fast = run.streams["fast"]
    assert fast.statuses == {200: 20}
    assert max(fast.latencies) < 0.25  # sent on time beside the stalled one, not queued behind it
    assert fast.dues == pytest.approx([0.05 + index * 0.01 for index in range(20)])


def test_refused_and_timed_out_requests_count_as_no_answer(
    program: Path, server: int, tmp_path: Path
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refusing = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    refused = loadgen.run(
        program, refusing, [loadgen.Planned(0, "x", _get("/", refusing))], tmp_path, last_of="x"
    )
    assert refused.streams["x"].statuses == {0: 1}

    hung = loadgen.run(
        program, server, [loadgen.Planned(0, "x", _get("/hang", server))], tmp_path, last_of="x", timeout=0.5
    )
    assert hung.streams["x"].statuses == {0: 1}
    assert 0.5 <= hung.streams["x"].latencies[0] < 2


def test_a_bad_schedule_is_refused(program: Path, tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.bin"
    schedule.write_bytes(b"100 5\nGET /50 5\nGET /")  # not in due order
    done = subprocess.run(
        [str(program), "1", str(schedule), str(tmp_path / "out"), "100"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "bad schedule record 1" in done.stderr
    assert not (tmp_path / "out").exists()
