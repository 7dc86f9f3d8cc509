"""Shared parts of the CRM benchmarks: a simulator in its own process, a portal database, BENCH lines.

Sizes come from the environment: BENCH_MEMBERS (default 400,000), BENCH_BACKENDS ("sqlite,postgresql";
PostgreSQL needs PORTAL_TEST_DATABASE_URL or BENCH_DATABASE_URL and is skipped with a note without).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import requests

from config import Settings
from crm_sync.simulator.generator import generate
from crm_sync.simulator.testing import copy_database
from portal.core import schema

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "bench-key"


def members() -> int:
    """How many members the party has (BENCH_MEMBERS)."""
    return int(os.environ.get("BENCH_MEMBERS", "400000"))


def backends() -> list[str]:
    """Which databases to run on."""
    wanted = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
    admin = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("PORTAL_TEST_DATABASE_URL")
    if "postgresql" in wanted and not admin:
        print("info: no BENCH_DATABASE_URL / PORTAL_TEST_DATABASE_URL: PostgreSQL skipped")
        wanted.remove("postgresql")
    return wanted


def bench(name: str, value: float, unit: str, size: str) -> None:
    """One result line in the project's format."""
    print(f"BENCH {name} {value:.3f} {unit} {size}", flush=True)


def load() -> str:
    """The machine's load averages, to read the figures against (the machine is shared)."""
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def simulator(work: Path, count: int, seed: int = 1) -> Iterator[tuple[str, Path]]:
    """A fresh copy of the (cached) generated party, served by `python -m crm_sync.simulator`."""
    cached = ROOT / "instance" / "bench" / f"crm-sim-{count}-{seed}.sqlite"
    cached.parent.mkdir(parents=True, exist_ok=True)
    generate(cached, members=count, seed=seed)
    path = copy_database(cached, work / "crm.sqlite")
    port = _free_port()
    command = [sys.executable, "-m", "crm_sync.simulator", "--db", str(path), "--members", str(count),
               "--seed", str(seed), "--port", str(port), "--api-key", API_KEY]  # fmt: skip
    log = (work / "simulator.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/_sim/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.3)
        else:
            raise SystemExit("the simulator did not start")
        yield url, path
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@contextmanager
def portal_database(backend: str, work: Path) -> Iterator[str]:
    """An empty, migrated portal database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{work / 'portal.sqlite3'}"
        schema.upgrade(url)
        yield url
        return
    admin_url = os.environ.get("BENCH_DATABASE_URL") or os.environ["PORTAL_TEST_DATABASE_URL"]
    name = f"lp_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rsplit('/', 1)[0]}/{name}"
    try:
        schema.upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def settings(database_url: str, crm_url: str, work: Path) -> Settings:
    """Portal settings for a benchmark run."""
    return Settings(environment="test", secret_key="bench-secret-key-long-enough-for-anything-0123456789",
                    instance_path=work / "instance", database_url=database_url, crm_url=crm_url,
                    crm_api_key=API_KEY)  # fmt: skip


@contextmanager
def workdir(name: str) -> Iterator[Path]:
    """A scratch folder under instance/bench, removed afterwards."""
    path = ROOT / "instance" / "bench" / f"{name}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
