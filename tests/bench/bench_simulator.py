"""Benchmark: generate 400,000 members, then pull every Individual through the simulator's API.

Run as `python tests/bench/bench_simulator.py` (add `--fresh` to time a new generation instead of
reporting the cached one's time). Prints `BENCH <name> <seconds> s <n> members` lines.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import orjson
import requests

from crm_sync.simulator.api4 import execute
from crm_sync.simulator.generator import generate
from crm_sync.simulator.store import connect, read_meta
from crm_sync.simulator.testing import running_simulator

ROOT = Path(__file__).resolve().parents[2]
PAGE = 1000
#: What the CiviCRM adapter asks for on a member pull (plain, implicit-join and custom fields).
SELECT = [
    "id", "external_identifier", "first_name", "middle_name", "last_name", "birth_date", "do_not_phone",
    "do_not_email", "is_opt_out", "is_deleted", "is_deceased", "modified_date", "email_primary.email",
    "phone_primary.phone", "phone_primary.phone_type_id:name", "address_primary.street_name",
    "address_primary.street_number", "address_primary.street_number_suffix", "address_primary.postal_code",
    "address_primary.city", "address_primary.country_id:abbr", "Party_Member.branch_id",
    "Party_Member.directory_consent", "Party_Member.interests", "Party_Member.competences",
]  # fmt: skip


def stored_generation_seconds(path: Path) -> float:
    """How long the cached database took to generate (recorded when it was made)."""
    conn = connect(path)
    try:
        return float(read_meta(conn).get("generation_seconds", "nan"))
    finally:
        conn.close()


def page_params(last_id: int) -> dict[str, Any]:
    """The adapter's keyset page: Individuals (trash included) above `last_id`, by id."""
    where = [["contact_type", "=", "Individual"], ["is_deleted", "IN", [False, True]], ["id", ">", last_id]]
    return {"select": SELECT, "where": where, "orderBy": {"id": "ASC"}, "limit": PAGE}


def describe(timings: list[float]) -> str:
    """Median, p95 and max of page timings in milliseconds."""
    ordered = sorted(timings)
    return (
        f"{len(timings)} pages, median {statistics.median(timings) * 1000:.1f} ms, "
        f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )


def server_side_pages(path: Path) -> list[float]:
    """Time each page without HTTP: the SQL query plus JSON encoding, as the server does it."""
    timings: list[float] = []
    conn = connect(path)
    try:
        last_id = 0
        while True:
            started = time.perf_counter()
            body = execute(conn, "Contact", "get", page_params(last_id))
            orjson.dumps(body)
            timings.append(time.perf_counter() - started)
            if len(body["values"]) < PAGE:
                return timings
            last_id = body["values"][-1]["id"]
    finally:
        conn.close()


def full_scan(url: str, api_key: str) -> tuple[int, list[float]]:
    """Keyset-pull all Individuals in pages of 1,000 over one keep-alive session."""
    timings: list[float] = []
    seen, last_id = 0, 0
    with requests.Session() as session:
        session.headers.update({"X-Civi-Auth": f"Bearer {api_key}", "X-Requested-With": "XMLHttpRequest"})
        while True:
            started = time.perf_counter()
            data = {"params": orjson.dumps(page_params(last_id))}
            response = session.post(f"{url}/civicrm/ajax/api4/Contact/get", data=data, timeout=30)
            response.raise_for_status()
            rows = orjson.loads(response.content)["values"]
            timings.append(time.perf_counter() - started)
            seen += len(rows)
            if len(rows) < PAGE:
                return seen, timings
            last_id = rows[-1]["id"]


def main() -> None:
    """Generate (or reuse) the database, serve it, time the full pull, print BENCH lines."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=400_000)
    parser.add_argument("--fresh", action="store_true", help="regenerate instead of reusing the cache")
    args = parser.parse_args()
    path = ROOT / "instance" / "bench" / f"crm-sim-{args.members}-1.sqlite"
    if args.fresh:
        path.unlink(missing_ok=True)
    summary = generate(path, members=args.members, seed=1)
    generation = stored_generation_seconds(path) if summary.reused else summary.seconds
    label = f"{args.members // 1000}k"
    if summary.reused:
        print(f"info: reusing {path}; the generation time below was recorded when it was made")
    print(f"BENCH simulator_generate_{label} {generation:.2f} s {args.members} members")
    with running_simulator(path, members=args.members, seed=1, api_key="bench-key") as sim:
        started = time.perf_counter()
        seen, timings = full_scan(sim.url, sim.api_key)
        total = time.perf_counter() - started
    if seen != args.members:
        raise SystemExit(f"full scan saw {seen} Individuals, expected {args.members}")
    print(f"info: over HTTP (client and server share this process): {describe(timings)}")
    print(f"info: server side (query + JSON encoding, no HTTP): {describe(server_side_pages(path))}")
    print(f"BENCH simulator_full_page_scan_{label} {total:.2f} s {args.members} members")


if __name__ == "__main__":
    main()
