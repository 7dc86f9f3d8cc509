"""Benchmark: the pull from the CRM simulator (its own process) into SQLite and PostgreSQL.

    BENCH_MEMBERS=20000 python tests/bench/bench_crm_pull.py      # default 400,000

Per backend, in a fresh process (so peak RSS is that backend's): the initial full pull, an unchanged
nightly pull (and how many rows it wrote: 0), and a nightly pull after 1 % of the members changed.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import requests
from crm_bench_support import backends, bench, load, members, portal_database, settings, simulator, workdir
from sqlalchemy import event

from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_full, pull_incremental
from portal.core.database import Database


def run(backend: str) -> None:
    """All pull figures for one backend."""
    count = members()
    size = f"{count}_members"
    with (
        workdir(f"pull-{backend}") as work,
        simulator(work, count) as (crm_url, _path),
        portal_database(backend, work) as database_url,
    ):
        config = settings(database_url, crm_url, work)
        database = Database(database_url)
        port = make_crm_port(config)
        print(f"info: {backend}: full pull of {count} members, {load()}", flush=True)
        started = time.perf_counter()
        first = pull_full(database, port, max_removed_share=0.02)
        bench(f"crm_pull_full_{backend}", time.perf_counter() - started, "s", size)
        own = resource.getrusage(resource.RUSAGE_SELF)
        bench(f"crm_pull_full_peak_rss_{backend}", own.ru_maxrss / 1024, "MB", size)
        worker = resource.getrusage(
            resource.RUSAGE_CHILDREN
        )  # the validation worker (and simulator: 0 until it ends)
        bench(f"crm_pull_full_worker_peak_rss_{backend}", worker.ru_maxrss / 1024, "MB", size)
        bench(f"crm_pull_full_worker_cpu_{backend}", worker.ru_utime + worker.ru_stime, "cpu_s", size)
        bench(f"crm_pull_full_cpu_{backend}", own.ru_utime + own.ru_stime, "cpu_s", size)
        print(f"info: counts {first.counts}", flush=True)
        writes: list[str] = []

        def count_writes(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
            if (
                statement.lstrip().split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
                and "sync_runs" not in statement
            ):
                writes.append(statement)

        event.listen(database.engine, "before_cursor_execute", count_writes)
        started = time.perf_counter()
        pull_incremental(database, port, max_removed_share=0.02)
        bench(f"crm_pull_unchanged_nightly_{backend}", time.perf_counter() - started, "s", size)
        bench(f"crm_pull_unchanged_nightly_writes_{backend}", len(writes), "statements", size)
        event.remove(database.engine, "before_cursor_execute", count_writes)
        churn = requests.post(f"{crm_url}/_sim/churn", json={"percent": 1.0, "seed": 7}, timeout=600).json()
        print(f"info: churn {churn}; {load()}", flush=True)
        started = time.perf_counter()
        nightly = pull_incremental(database, port, max_removed_share=0.02)
        bench(f"crm_pull_nightly_1pct_{backend}", time.perf_counter() - started, "s", size)
        print(f"info: counts {nightly.counts}", flush=True)
        port.close()
        database.dispose()


def main() -> None:
    """One child process per backend (peak memory is per process)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend")
    arguments = parser.parse_args()
    if arguments.backend:
        run(arguments.backend)
        return
    for backend in backends():
        subprocess.run([sys.executable, str(Path(__file__)), "--backend", backend], check=True)


if __name__ == "__main__":
    main()
