"""Benchmark: the push to the CRM simulator (its own process), on SQLite and PostgreSQL.

    BENCH_MEMBERS=20000 BENCH_PUSHES=200 BENCH_BACKLOG=10000 python tests/bench/bench_crm_push.py

Per backend: p50/p95 from an edit's commit to the simulator's answer to the write (the push is tried
right after the commit, as a view does), then a backlog of BENCH_BACKLOG pending messages drained.
"""

from __future__ import annotations

import os
import statistics
import time

from crm_bench_support import backends, bench, load, members, portal_database, settings, simulator, workdir
from sqlalchemy import select

from crm_sync.composition import make_crm_port
from crm_sync.models import OutboxMessage, OutboxStatus
from crm_sync.pull import pull_full
from crm_sync.push import deliver_now, drain
from portal.core.actors import Actor
from portal.core.database import Database
from portal.members.models import Member
from portal.members.services import update_member

EDITOR = Actor.system("bench")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(backend: str) -> None:
    """Latency and backlog figures for one backend."""
    count = members()
    pushes = int(os.environ.get("BENCH_PUSHES", "200"))
    backlog = int(os.environ.get("BENCH_BACKLOG", "10000"))
    with (
        workdir(f"push-{backend}") as work,
        simulator(work, count) as (crm_url, _path),
        portal_database(backend, work) as database_url,
    ):
        config = settings(database_url, crm_url, work)
        database = Database(database_url)
        port = make_crm_port(config)
        pull_full(database, port, max_removed_share=0.02)
        with database.transaction() as session:
            ids = list(
                session.scalars(select(Member.id).where(Member.removed_at.is_(None)).order_by(Member.id))
            )
        print(f"info: {backend}: {pushes} single edits, then a backlog of {backlog}; {load()}", flush=True)
        latencies = []
        for index, member_id in enumerate(ids[:pushes]):
            with database.transaction() as session:
                member = session.get_one(Member, member_id)
                message_ids = update_member(
                    session, actor=EDITOR, member=member, changes={"city": f"Latentie {index}"}
                ).message_ids
            committed = time.perf_counter()
            report = deliver_now(database, port, message_ids, timeout=config.crm_push_timeout_seconds)
            latencies.append(time.perf_counter() - committed)
            assert report.delivered == 1, report
        size = f"{pushes}_edits_{count}_members"
        bench(f"crm_push_commit_to_crm_p50_{backend}", statistics.median(latencies) * 1000, "ms", size)
        bench(f"crm_push_commit_to_crm_p95_{backend}", _percentile(latencies, 0.95) * 1000, "ms", size)
        targets = (ids * (backlog // max(1, len(ids)) + 1))[:backlog]
        for start in range(0, backlog, 500):
            with database.transaction() as session:
                for offset, member_id in enumerate(targets[start : start + 500]):
                    member = session.get_one(Member, member_id)
                    update_member(
                        session,
                        actor=EDITOR,
                        member=member,
                        changes={"city": f"Achterstand {start + offset}"},
                    )
        print(f"info: backlog of {backlog} written; {load()}", flush=True)
        started = time.perf_counter()
        delivered = 0
        while True:
            report = drain(database, port, batch_size=100)
            delivered += report.delivered
            if not report.claimed:
                break
        elapsed = time.perf_counter() - started
        with database.transaction() as session:
            left = session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.status != OutboxStatus.DELIVERED).limit(1)
            )
        assert left is None, left
        assert delivered == backlog, delivered
        bench(f"crm_push_backlog_drain_{backend}", backlog / elapsed, "msg/s", f"{backlog}_messages")
        port.close()
        database.dispose()


def main() -> None:
    """Each backend in turn."""
    for backend in backends():
        run(backend)


if __name__ == "__main__":
    main()
