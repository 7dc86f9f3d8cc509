"""Directory and member search at scale: 1,000 mixed queries, p95 per query on SQLite and PostgreSQL.

    .venv/bin/python tests/bench/bench_directory.py --members 400000 --backend both
prints `BENCH directory_search_p95_<backend> <ms> ms <n> members` (plus p50/p99), and p50/p95/p99 per
kind of query as `BENCH directory_search_<kind>_p95_<backend> …`. Each query is timed end to end through
the service function. Members are written straight into the database (realistic Dutch names,
Zipf-distributed family names), then VACUUM ANALYZE (PostgreSQL) or ANALYZE (SQLite).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from portal.core import schema  # noqa: E402
from portal.core.database import Database  # noqa: E402
from portal.members import names  # noqa: E402
from portal.members.models import Member, MembershipStatus, OrgLevel, OrgUnit, OrgUnitKind, PositionFunction  # noqa: E402
from portal.members.name_search import one_edit_away  # noqa: E402
from portal.members.services.directory import DirectoryFilters, search_people  # noqa: E402
from portal.members.services.member_search import MemberFilters, Scope, search_members  # noqa: E402
from portal.members.services.org_tree import subtree_ids  # noqa: E402
from portal.members.testing import generate_party  # noqa: E402

PG_ADMIN = os.environ.get("PORTAL_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# tmpfs by default: this machine's disk reads ~30 MB/s and its page cache keeps ~1.3 GB for everyone, so a
# file on disk measures the disk; /dev/shm is what a warm page cache on a database server looks like.
CACHE = Path(os.environ.get("BENCH_CACHE", "/dev/shm/lp-bench"))


SCHEMA = "members_directory@head"  # the foundation and the directory's own revisions


def _schema_head() -> str:
    """The directory branch's newest revision (part of the cached SQLite file's name)."""
    script = ScriptDirectory.from_config(schema.alembic_config("sqlite://"))
    revision = script.get_revision(SCHEMA)
    assert revision is not None
    return str(revision.revision)


def prepare(backend: str, members: int, seed: int) -> tuple[str, Callable[[], None]]:
    """A migrated database with the generated party (SQLite files are cached between runs)."""
    if backend == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"directory-{members}-{seed}-{_schema_head()}.sqlite3"
        url = f"sqlite:///{path}"
        if not path.exists():
            schema.upgrade(url, SCHEMA)
            _fill(url, members, seed)
        return url, lambda: None
    if os.environ.get("BENCH_PG_URL"):  # an already generated database (kept between runs)
        return os.environ["BENCH_PG_URL"], lambda: None
    name = f"lp_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_ADMIN, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    schema.upgrade(url, SCHEMA)
    _fill(url, members, seed)

    def drop() -> None:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return url, drop


def _fill(url: str, members: int, seed: int) -> None:
    database = Database(url)
    started = time.perf_counter()
    with database.engine.begin() as connection:
        counts = generate_party(connection, members=members, seed=seed)
    if database.is_sqlite:
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    else:
        # VACUUM as autovacuum does after a bulk load (PostgreSQL 13+ vacuums insert-only tables): it
        # sets the visibility map that index-only scans need. This server runs with autovacuum off, so
        # without it every "index-only" scan would read the table rows too, as no production database does.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    print(f"# generated {counts} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    database.dispose()


def prewarm(database: Database) -> None:
    """Read the tables and indexes once (PostgreSQL: pg_prewarm into the OS cache, if available)."""
    if database.is_sqlite:
        return  # the file lives on tmpfs
    with database.engine.connect() as connection:
        try:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
            for relation in (
                "members",
                "member_search_terms",
                "pk_member_search_terms",
                "ix_member_search_terms_member_term",
                "pk_members",
                "ix_members_sort_name",
                "ix_members_branch_status",
                "ix_members_scope_filters",
                "positions",
                "ix_positions_member_id",
                "org_units",
            ):
                connection.execute(text("SELECT pg_prewarm(:name, 'read')"), {"name": relation})
            connection.commit()
        except Exception as error:  # warming is best effort
            print(f"# no pg_prewarm: {error}", file=sys.stderr)


def build_queries(database: Database, count: int, seed: int) -> list[tuple[str, Callable[..., object]]]:
    """A mix of who's-who and officer searches, drawn from real names in the database."""
    rng = random.Random(seed)
    with database.session() as session:
        sample = session.execute(
            select(Member.given_name, Member.infix, Member.family_name).where(Member.id % 97 == 0)
        ).all()
        branches = list(session.scalars(select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.BRANCH)))
        regions = list(session.scalars(select(OrgUnit.id).where(OrgUnit.kind == OrgUnitKind.REGION)))
        national = session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None)))
        assert national is not None, "the generated party has a national unit"
        scopes = {
            "branch": [Scope.of(session, subtree_ids(session, [b])) for b in rng.sample(branches, 50)],
            "region": [Scope.of(session, subtree_ids(session, [r])) for r in regions],
            "national": [Scope.of(session, {national})],
        }
    today = date.today()

    def typo(word: str) -> str:
        return rng.choice(sorted(one_edit_away(word.lower()))) if len(word) >= 4 else word

    queries: list[tuple[str, Callable[..., object]]] = []
    for _ in range(count):
        given, _infix, family = rng.choice(sample)
        roll = rng.random()
        if roll < 0.35:
            prefix = family[: rng.randint(3, 6)]
            if len(names.fold(prefix).replace(" ", "")) < 3:
                prefix = family
            queries.append(
                (
                    "directory_prefix",
                    lambda s, q=prefix: search_people(
                        s, query_text=q, filters=DirectoryFilters(), page=1, today=today
                    ),
                )
            )
        elif roll < 0.45:
            typed = f"{given} {typo(family)}"
            queries.append(
                (
                    "directory_typo",
                    lambda s, q=typed: search_people(
                        s, query_text=q, filters=DirectoryFilters(), page=1, today=today
                    ),
                )
            )
        elif roll < 0.55:
            filters = rng.choice(
                [
                    DirectoryFilters(region_id=rng.choice(regions)),
                    DirectoryFilters(role=PositionFunction.CHAIR, level=OrgLevel.LOCAL),
                    DirectoryFilters(kind=OrgUnitKind.FACTION, region_id=rng.choice(regions)),
                    DirectoryFilters(branch_id=rng.choice(branches)),
                ]
            )
            queries.append(
                (
                    "directory_filter",
                    lambda s, f=filters: search_people(s, query_text="", filters=f, page=1, today=today),
                )
            )
        elif roll < 0.80:
            kind = rng.choices(["branch", "region", "national"], weights=[6, 3, 1])[0]
            scope = rng.choice(scopes[kind])
            prefix = (family if rng.random() < 0.7 else given)[: rng.randint(2, 5)]
            if len(names.fold(prefix).replace(" ", "")) < 2:
                prefix = family
            queries.append(
                (
                    f"officer_name_{kind}",
                    lambda s, sc=scope, q=prefix: search_members(
                        s, scope=sc, filters=MemberFilters(name=q), page=1, today=today
                    ),
                )
            )
        elif roll < 0.95:
            kind = rng.choices(["branch", "region", "national"], weights=[5, 4, 1])[0]
            scope = rng.choice(scopes[kind])
            low = rng.randint(10, 98) * 100
            member_filters = rng.choice(
                [
                    MemberFilters(statuses=frozenset({MembershipStatus.GRACE, MembershipStatus.LAPSED})),
                    MemberFilters(age_min=18, age_max=30, statuses=frozenset({MembershipStatus.CURRENT})),
                    MemberFilters(postcode_from=str(low), postcode_to=str(low + 99)),
                    MemberFilters(interests=("Klimaat",), age_min=60),
                    MemberFilters(functions=frozenset({PositionFunction.TREASURER})),
                    MemberFilters(member_since_from=date(today.year - 1, 1, 1)),
                ]
            )
            queries.append(
                (
                    f"officer_filter_{kind}",
                    lambda s, sc=scope, f=member_filters: search_members(
                        s, scope=sc, filters=f, page=rng.choice([1, 1, 1, 2, 5]), today=today
                    ),
                )
            )
        else:
            scope = rng.choice(scopes["region"])
            typed = typo(family)
            queries.append(
                (
                    "officer_typo_region",
                    lambda s, sc=scope, q=typed: search_members(
                        s, scope=sc, filters=MemberFilters(name=q), page=1, today=today
                    ),
                )
            )
    return queries  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


def run(backend: str, members: int, count: int, seed: int) -> None:
    url, cleanup = prepare(backend, members, seed)
    database = Database(url)
    try:
        prewarm(database)
        queries = build_queries(database, count, seed)
        timings: dict[str, list[float]] = defaultdict(list)
        slowest: list[tuple[float, str, str]] = []
        with database.session() as session:
            for _, query in build_queries(database, 300, seed + 1):  # warm-up with other queries
                query(session)
                session.expunge_all()
            for kind, query in queries:
                started = time.perf_counter()
                query(session)
                elapsed = (time.perf_counter() - started) * 1000
                timings[kind].append(elapsed)
                shown = [
                    value for value in query.__defaults__ or () if isinstance(value, str | DirectoryFilters)
                ]
                slowest = sorted([*slowest, (elapsed, kind, repr(shown))], reverse=True)[:5]
                session.expunge_all()
        every = [value for values in timings.values() for value in values]
        print(f"BENCH directory_search_p95_{backend} {percentile(every, 0.95):.2f} ms {members} members")
        print(f"BENCH directory_search_p50_{backend} {statistics.median(every):.2f} ms {members} members")
        print(f"BENCH directory_search_p99_{backend} {percentile(every, 0.99):.2f} ms {members} members")
        for elapsed, kind, described in slowest:
            print(f"#   slowest: {elapsed:8.1f} ms {kind} {described}")
        for kind in sorted(timings):
            values = timings[kind]
            print(f"#   {backend} {kind:<24} n={len(values):>4} p50={statistics.median(values):7.2f} "
                  f"p95={percentile(values, 0.95):7.2f} p99={percentile(values, 0.99):7.2f} "
                  f"max={max(values):7.2f} ms")  # fmt: skip
        for kind in sorted(timings):
            values = timings[kind]
            for name, value in (
                ("p50", statistics.median(values)),
                ("p95", percentile(values, 0.95)),
                ("p99", percentile(values, 0.99)),
            ):
                print(f"BENCH directory_search_{kind}_{name}_{backend} {value:.2f} ms {members} members")
    finally:
        database.dispose()
        cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=400_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seed", type=int, default=66)
    arguments = parser.parse_args()
    backends = ["sqlite", "postgresql"] if arguments.backend == "both" else [arguments.backend]
    for backend in backends:
        run(backend, arguments.members, arguments.queries, arguments.seed)


if __name__ == "__main__":
    main()
