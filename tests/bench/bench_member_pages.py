"""My page and the who's-who body page under 20 concurrent signed-in members, gunicorn with 2 workers.

    .venv/bin/python tests/bench/bench_member_pages.py --members 400000 --seconds 60
prints `BENCH my_page_p95 <ms> ms <n> members, 20 users` and the same for the body page: server time
from gunicorn's access log (%(D)s, accept → response in the worker) and, for reference, as the clients saw it.
Each simulated member requests a page, reads it for a second, and requests the next (a per-account rate
limit guards the who's-who, so a member hammering without pause would be answered 429).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.auth import totp  # noqa: E402
from portal.auth.crypto import AuthKeys  # noqa: E402
from portal.auth.testing import make_account  # noqa: E402
from portal.core import schema  # noqa: E402
from portal.core.database import Database  # noqa: E402
from portal.members.models import Member, MembershipStatus, OrgUnit, OrgUnitKind  # noqa: E402
from portal.members.testing import generate_party  # noqa: E402

SECRET = "bench-secret-key-" + "x" * 40
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(folder: Path, members: int, users: int) -> tuple[str, list[tuple[str, str, str]], list[int]]:
    """A migrated SQLite portal with the party and `users` accounts (member number, password, TOTP seed)."""
    url = f"sqlite:///{folder / 'portal.sqlite3'}"
    schema.upgrade(url)
    database = Database(url)
    with database.engine.begin() as connection:
        generate_party(connection, members=members, seed=66)
    keys = AuthKeys.from_secret(SECRET)
    accounts = []
    with database.session(write=True) as session:
        chosen = session.scalars(
            select(Member).where(Member.status == MembershipStatus.CURRENT).order_by(Member.id).limit(users)
        ).all()
        for member in chosen:
            _account, credentials = make_account(session, member, keys=keys)
            accounts.append((credentials.member_number, credentials.password, credentials.totp_secret or ""))
        bodies = list(session.scalars(select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.BRANCH)))
    database.dispose()
    return url, accounts, bodies


def sign_in(base: str, member_number: str, password: str, seed: str) -> requests.Session:
    """Through the real views: password step, then a TOTP code."""
    client = requests.Session()
    page = client.get(f"{base}/sign-in", timeout=30)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    client.post(
        f"{base}/sign-in",
        data={"csrf_token": token, "identifier": member_number, "password": password},
        timeout=30,
    )
    page = client.get(f"{base}/sign-in/code", timeout=30)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    code = totp.code_for_step(seed, totp.step_at(datetime.now(UTC)))
    response = client.post(
        f"{base}/sign-in/code", data={"csrf_token": token, "code": code}, timeout=30, allow_redirects=False
    )
    assert response.status_code == 302, f"sign-in failed: {response.status_code}"
    return client


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=400_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="Seconds a member reads a page.")
    arguments = parser.parse_args()
    # tmpfs: a warm page cache (this machine's disk reads ~30 MB/s and its cache is small and shared)
    folder = Path(
        tempfile.mkdtemp(prefix="lp-bench-web-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
    )
    url, accounts, bodies = prepare(folder, arguments.members, arguments.users)
    port = _free_port()
    log = folder / "access.log"
    environment = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_INSTANCE_PATH": str(folder),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "%(m)s %(U)s %(s)s %(D)s",
            "portal.app:create_app()",
        ],
        cwd=ROOT,
        env=environment,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.3)
        clients = [sign_in(base, *account) for account in accounts]
        seen: dict[str, list[float]] = {"my_page": [], "body_page": []}
        statuses: list[int] = []
        lock = threading.Lock()
        stop = time.monotonic() + arguments.seconds

        def member(client: requests.Session, rng: random.Random) -> None:
            while time.monotonic() < stop:
                kind = rng.choice(["my_page", "body_page"])
                path = "/my-page" if kind == "my_page" else f"/whos-who/bodies/{rng.choice(bodies)}"
                started = time.perf_counter()
                response = client.get(base + path, timeout=30)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    seen[kind].append(elapsed)
                    statuses.append(response.status_code)
                time.sleep(rng.uniform(0.5, 1.5) * arguments.think)

        threads = [threading.Thread(target=member, args=(c, random.Random(n))) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    access_log = log.read_text()
    shutil.rmtree(folder, ignore_errors=True)
    server_times: dict[str, list[float]] = {"my_page": [], "body_page": []}
    for line in access_log.splitlines():
        method, path, status, micros = line.split()
        if (
            method == "GET"
            and status == "200"
            and (path == "/my-page" or path.startswith("/whos-who/bodies/"))
        ):
            server_times["my_page" if path == "/my-page" else "body_page"].append(int(micros) / 1000)
    size = f"{arguments.members} members, {arguments.users} users"
    for kind in ("my_page", "body_page"):
        print(f"BENCH {kind}_p95 {percentile(server_times[kind], 0.95):.1f} ms {size}")
        print(
            f"#   {kind}: server p50 {statistics.median(server_times[kind]):.1f} ms, "
            f"n={len(server_times[kind])}; "
            f"client p50 {statistics.median(seen[kind]):.1f} ms, p95 {percentile(seen[kind], 0.95):.1f} ms"
        )
    print(f"#   statuses: { {code: statuses.count(code) for code in sorted(set(statuses))} }")


if __name__ == "__main__":
    main()
