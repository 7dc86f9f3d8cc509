"""`flask crm …`: the simulator, pull and status from the command line."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from crm_sync.composition import make_crm_port
from crm_sync.models import OutboxStatus
from crm_sync.pull import MassRemovalAborted, pull_full, pull_incremental
from crm_sync.push import discard_message, drain, outbox_summary, replay_all, replay_message
from crm_sync.push.state import list_messages
from crm_sync.simulator import churn as simulator_churn
from crm_sync.simulator import generator as simulator_generator
from crm_sync.simulator import server as simulator_server
from crm_sync.status import sync_status
from portal.core.actors import Actor
from portal.core.errors import DomainError
from portal.core.extension import database, settings, state

crm_cli = AppGroup("crm", help="The CRM: simulator, pull, push, outbox, status.")


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


class _Progress:
    """A progress bar on a terminal, a plain line now and then otherwise (logs, cron mail)."""

    def __init__(self, total: int | None = None) -> None:
        self.interactive = sys.stderr.isatty()
        self.total = total
        self.last: dict[str, int] = {}

    def __call__(self, stage: str, count: int) -> None:
        if self.interactive:
            if self.total:
                done = min(1.0, count / self.total)
                bar = "#" * int(done * 30)
                click.echo(f"\r{stage:<10} [{bar:<30}] {count:>9,}/{self.total:,}", nl=False, err=True)
            else:
                click.echo(f"\r{stage:<10} {count:>9,}", nl=False, err=True)
        elif count - self.last.get(stage, 0) >= 50000 or (self.total and count >= self.total > 0):
            click.echo(f"{stage}: {count}", err=True)
            self.last[stage] = count

    def done(self) -> None:
        if self.interactive:
            click.echo("", err=True)


def _cli_actor() -> Actor:
    return Actor.system(f"flask-cli:{getpass.getuser()}")


@crm_cli.command("pull")
@click.option("--full", is_flag=True, help="Pull everything and compare id sets (finds hard deletes).")
def pull_command(full: bool) -> None:
    """Bring the replica up to date with the CRM (incremental unless --full or the first time)."""
    portal = state()
    port = make_crm_port(portal.settings)
    with database().transaction() as session:
        expected = sync_status(session).members_active
    progress = _Progress(expected or None)
    try:
        if full:
            run = pull_full(
                portal.database,
                port,
                max_removed_share=portal.settings.pull_max_removed_share,
                progress=progress,
                events=portal.events,
            )
        else:
            run = pull_incremental(
                portal.database,
                port,
                max_removed_share=portal.settings.pull_max_removed_share,
                overlap=timedelta(minutes=portal.settings.pull_overlap_minutes),
                progress=progress,
                events=portal.events,
            )
    except MassRemovalAborted as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:
        raise click.ClickException(f"pull failed: {type(error).__name__}: {error}") from None
    finally:
        progress.done()
        port.close()
    click.echo(
        f"Pull {run.outcome.value} in {run.duration_seconds:.1f} s: {json.dumps(run.counts, sort_keys=True)}"
    )


@crm_cli.command("push")
@click.option("--batch-size", default=100, show_default=True)
def push_command(batch_size: int) -> None:
    """Deliver every outbox message that is due now."""
    portal = state()
    with database().transaction() as session:
        pending = outbox_summary(session)["pending"]
    progress = _Progress(pending or None)
    port = make_crm_port(portal.settings)
    try:
        report = drain(
            portal.database,
            port,
            batch_size=batch_size,
            timeout=portal.settings.crm_timeout_seconds,
            progress=lambda r: progress("messages", r.claimed),
        )
    finally:
        progress.done()
        port.close()
    click.echo(f"Push: {json.dumps(report.as_dict(), sort_keys=True)}")
    if report.paused_until is not None:
        click.echo(f"The CRM asked us to wait until {report.paused_until.isoformat()}; the rest waits.")


@crm_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status_command(as_json: bool) -> None:
    """Last runs, the size of the replica and the state of the outbox."""
    with database().transaction() as session:
        status = sync_status(session).as_dict()
    if as_json:
        click.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    click.echo(f"Members in the replica: {status['members_active']} (+ {status['members_removed']} removed)")
    click.echo(f"Last successful pull: {status['last_successful_pull_at'] or 'never'}")
    outbox = status["outbox"]
    age = outbox["oldest_pending_age_seconds"]
    click.echo(
        f"Outbox: {outbox['pending']} pending"
        + (f" (oldest {age} s)" if age is not None else "")
        + f", {outbox['dead']} dead, {outbox['conflict']} in conflict,"
        + f" {outbox['open_conflicts']} open conflicts"
    )
    for run in status["recent_runs"]:
        click.echo(
            f"  #{run['id']} {run['kind']:<17} {run['outcome']:<10} {run['started_at']} "
            f"{run['duration_seconds'] or 0:.1f} s {json.dumps(run['counts'], sort_keys=True)}"
            + (f" error: {run['error']}" if run["error"] else "")
        )


@crm_cli.command("outbox")
@click.option("--status", "wanted", type=click.Choice([s.value for s in OutboxStatus]), default="dead")
@click.option("--limit", default=50, show_default=True)
def outbox_command(wanted: str, limit: int) -> None:
    """List outbox messages in a state (default: dead letters)."""
    with database().transaction() as session:
        for message in list_messages(session, OutboxStatus(wanted), limit=limit):
            click.echo(
                f"#{message.id} member {message.member_id} {message.status.value} "
                f"attempts {message.attempts} "
                f"fields {sorted(message.payload.get('set', {}))} {message.last_error[:120]}"
            )


@crm_cli.command("replay")
@click.argument("message_id", type=int, required=False)
@click.option("--all-dead", is_flag=True, help="Replay every dead letter, oldest first.")
@click.option("--force", is_flag=True, help="Overwrite the CRM's newer value of a conflicting field.")
def replay_command(message_id: int | None, all_dead: bool, force: bool) -> None:
    """Send a dead or conflicting outbox message again (the retry job delivers it)."""
    if (message_id is None) == (not all_dead):
        raise click.UsageError("give a MESSAGE_ID or --all-dead")
    try:
        with database().transaction() as session:
            if all_dead:
                count = replay_all(session, actor=_cli_actor())
                click.echo(f"{count} dead message(s) queued again")
            else:
                replay_message(session, actor=_cli_actor(), message_id=message_id or 0, force=force)
                click.echo(f"Message {message_id} queued again")
    except DomainError as error:
        raise click.ClickException(error.message) from None


@crm_cli.command("discard")
@click.argument("message_id", type=int)
def discard_command(message_id: int) -> None:
    """Give up a dead or conflicting message; the next pull restores the CRM's values."""
    try:
        with database().transaction() as session:
            discard_message(session, actor=_cli_actor(), message_id=message_id)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Message {message_id} discarded")


def init_app(app: Flask) -> None:
    """Register the CRM commands."""
    app.cli.add_command(crm_cli)
