"""`python -m crm_sync.simulator`: generate (or reuse) a database and serve it."""

import argparse
import logging

from crm_sync.simulator.generator import generate
from crm_sync.simulator.server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, generate the data if needed, then serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m crm_sync.simulator", description="CiviCRM APIv4 simulator"
    )
    parser.add_argument("--db", required=True, help="SQLite file (reused when it matches)")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default="dev-key")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    summary = generate(args.db, members=args.members, seed=args.seed)
    state = "reused" if summary.reused else f"generated in {summary.seconds:.1f} s"
    print(
        f"Database {summary.db_path} ({state}): {summary.members} members, "
        f"{summary.organisations} org units, {summary.relationships} positions, "
        f"seed {summary.seed}"
    )
    print(
        f"Serving CiviCRM APIv4 on http://{args.host}:{args.port}/civicrm/ajax/api4/"
        f"{{Entity}}/{{action}} (X-Civi-Auth: Bearer {args.api_key}); "
        f"control at /_sim/health, /_sim/faults, /_sim/churn, /_sim/requests"
    )
    serve(args.db, host=args.host, port=args.port, api_key=args.api_key)


if __name__ == "__main__":
    main()
