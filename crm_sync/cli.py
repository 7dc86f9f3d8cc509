"""`flask crm …`: the simulator, pull and status from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from crm_sync.composition import make_crm_port
from crm_sync.pull import MassRemovalAborted, pull_everything
from crm_sync.simulator import churn as simulator_churn
from crm_sync.simulator import generator as simulator_generator
from crm_sync.simulator import server as simulator_server
from crm_sync.status import sync_status
from portal.core.extension import database, settings

crm_cli = AppGroup("crm", help="The CRM: simulator, pull, status.")


def _simulator_db(members: int, seed: int, db: str | None) -> Path:
    if db:
        return Path(db)
    return settings().instance_path / f"crm-simulator-{members}-{seed}.sqlite3"


@crm_cli.command("simulator")
@click.option("--members", default=5000, show_default=True, help="How many members to generate.")
@click.option("--port", default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--seed", default=66, show_default=True, help="Same seed and size give the same party.")
@click.option("--db", default=None, help="SQLite file of the simulator (default: in the instance folder).")
@click.option("--api-key", default=None, help="Key the simulator accepts (default: PORTAL_CRM_API_KEY).")
def simulator_command(
    members: int, port: int, host: str, seed: int, db: str | None, api_key: str | None
) -> None:
    """Generate a Dutch party and serve it as a CiviCRM APIv4 site on loopback."""
    path = _simulator_db(members, seed, db)
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = simulator_generator.generate(path, members=members, seed=seed)
    click.echo(f"CRM simulator: {summary} in {path}")
    key = api_key or settings().crm_api_key or "demo-key"
    click.echo(
        f"Serving CiviCRM APIv4 on http://{host}:{port}/civicrm/ajax/api4/ (key {key!r}); Ctrl-C stops."
    )
    simulator_server.serve(path, host=host, port=port, api_key=key)


@crm_cli.command("simulator-churn")
@click.option("--percent", type=float, required=True, help="Share of members to change, e.g. 1 for 1 %.")
@click.option("--members", default=5000, show_default=True)
@click.option(
    "--seed", default=66, show_default=True, help="Which generated party (same as the simulator's)."
)
@click.option("--churn-seed", default=1, show_default=True, help="Seed of the changes themselves.")
@click.option("--db", default=None)
def simulator_churn_command(percent: float, members: int, seed: int, churn_seed: int, db: str | None) -> None:
    """Change a share of the simulator's members, as a night in the membership administration would."""
    path = _simulator_db(members, seed, db)
    if not path.exists():
        raise click.ClickException(f"No simulator database at {path}; start `flask crm simulator` first.")
    counts = simulator_churn.churn(path, percent=percent, seed=churn_seed)
    click.echo(json.dumps(counts, sort_keys=True))


def _progress_printer() -> object:
    interactive = sys.stderr.isatty()
    last: dict[str, int] = {}

    def report(stage: str, count: int) -> None:
        if interactive:
            click.echo(f"\r{stage}: {count:>9,}", nl=False, err=True)
        elif count - last.get(stage, 0) >= 50000:
            click.echo(f"{stage}: {count}", err=True)
            last[stage] = count

    return report


@crm_cli.command("pull")
@click.option("--full", is_flag=True, help="Pull everything (the first pull is always full).")
def pull_command(full: bool) -> None:
    """Fill the replica from the CRM."""
    port = make_crm_port(settings())
    try:
        run = pull_everything(
            database(),
            port,
            max_removed_share=settings().pull_max_removed_share,
            progress=_progress_printer(),  # type: ignore[arg-type]
        )
    except MassRemovalAborted as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:
        raise click.ClickException(f"pull failed: {type(error).__name__}: {error}") from None
    finally:
        port.close()
    click.echo("", err=True)
    click.echo(
        f"Pull {run.outcome.value} in {run.duration_seconds:.1f} s: {json.dumps(run.counts, sort_keys=True)}"
    )


@crm_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_command(as_json: bool) -> None:
    """Last runs and the size of the replica."""
    with database().transaction() as session:
        status = sync_status(session).as_dict()
    if as_json:
        click.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    click.echo(f"Members in the replica: {status['members_active']} (+ {status['members_removed']} removed)")
    click.echo(f"Last successful pull: {status['last_successful_pull_at'] or 'never'}")
    for run in status["recent_runs"]:
        click.echo(
            f"  #{run['id']} {run['kind']:<17} {run['outcome']:<10} {run['started_at']} "
            f"{run['duration_seconds'] or 0:.1f} s {json.dumps(run['counts'], sort_keys=True)}"
            + (f" error: {run['error']}" if run["error"] else "")
        )


def init_app(app: Flask) -> None:
    """Register the CRM commands."""
    app.cli.add_command(crm_cli)
