"""Sign-ins per second through the real views over a real HTTP server (werkzeug, threaded).

    .venv/bin/python tests/bench/bench_sign_in.py --accounts 300 --clients 4 [--backend postgresql]
prints `BENCH sign_in_per_second <value> req/s <n> sign-ins`. One sign-in = GET the form, POST member number
and password (argon2id, m=19 MiB, t=2), GET the code form, POST a TOTP code; each account signs in once
(a TOTP step is accepted once per account). Throughput is bound by argon2 on the machine's cores.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty, Queue

import psycopg
import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from config import Settings  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.auth import totp  # noqa: E402
from portal.auth.crypto import AuthKeys, hash_password  # noqa: E402
from portal.auth.models import Account  # noqa: E402
from portal.auth.testing import DEFAULT_PASSWORD, make_org_tree  # noqa: E402
from portal.core import schema  # noqa: E402
from portal.members.testing import make_member  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PG_ADMIN = os.environ.get("PORTAL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _database_url(backend: str, folder: Path) -> tuple[str, tuple[psycopg.Connection, str] | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite3'}", None
    name = f"lp_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _accounts(app, count: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    keys: AuthKeys = app.extensions["auth_keys"]
    password_hash = hash_password(DEFAULT_PASSWORD)  # one hash, valid for every account
    people = []
    with app.extensions["portal"].database.transaction() as session:
        tree = make_org_tree(session)
        now = datetime.now(UTC)
        for _ in range(count):
            member = make_member(session, branch_id=tree.branch.id)
            seed = totp.new_seed()
            session.add(
                Account(
                    member_id=member.id,
                    password_hash=password_hash,
                    password_changed_at=now,
                    created_at=now,
                    totp_secret_encrypted=keys.encrypt_seed(seed),
                    totp_enrolled_at=now - timedelta(days=1),
                )
            )
            people.append((member.member_number, seed))
    return people


def _sign_in(base: str, member_number: str, seed: str) -> None:
    with requests.Session() as browser:
        page = browser.get(f"{base}/sign-in", timeout=30)
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        step = browser.post(
            f"{base}/sign-in",
            data={"csrf_token": token, "identifier": member_number, "password": DEFAULT_PASSWORD},
            timeout=30,
        )
        if not step.url.endswith("/sign-in/code"):
            raise RuntimeError(f"password step failed: {step.status_code}")
        token = CSRF.search(step.text).group(1)  # type: ignore[union-attr]
        code = totp.code_for_step(seed, totp.step_at(datetime.now(UTC)))
        done = browser.post(
            f"{base}/sign-in/code",
            data={"csrf_token": token, "code": code},
            timeout=30,
            allow_redirects=False,
        )
        if done.status_code != 302:
            raise RuntimeError(f"code step failed: {done.status_code}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    options = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="lp-bench-sign-in-"))
    url, cleanup = _database_url(options.backend, folder)
    schema.upgrade(url)
    settings = Settings(
        environment="test",
        secret_key="bench-secret-key-that-is-long-enough-for-this",
        instance_path=folder,
        database_url=url,
    )
    app = create_app(settings)
    people = _accounts(app, options.accounts)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    _sign_in(base, *people.pop())  # warm up (templates, dummy hash, connections)
    work: Queue[tuple[str, str]] = Queue()
    for person in people:
        work.put(person)
    errors: list[Exception] = []

    def worker() -> None:
        while True:
            try:
                person = work.get_nowait()
            except Empty:
                return
            try:
                _sign_in(base, *person)
            except Exception as error:
                errors.append(error)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(options.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    server.shutdown()
    done = len(people) - len(errors)
    print(
        f"# {options.backend}, {options.clients} clients, {os.cpu_count()} cores, "
        f"{len(errors)} errors, {elapsed:.1f} s"
    )
    print(f"BENCH sign_in_per_second {done / elapsed:.1f} req/s {done} sign-ins")
    app.extensions["portal"].database.dispose()
    if cleanup is not None:
        admin, name = cleanup
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
