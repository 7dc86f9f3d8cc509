"""`flask meetings …`: the nightly freeze, the retention job and voting-right suspensions."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from portal.core.actors import Actor
from portal.core.extension import database, state
from portal.meetings import jobs, services
from portal.members.models import Member

meetings_cli = AppGroup("meetings", help="General meetings: voter rolls and attendance.")


@meetings_cli.command("freeze-due")
def freeze_due_command() -> None:
    """Freeze the voter rolls whose cut-off date has passed."""
    frozen = jobs.freeze_due_rolls(state())
    click.echo(f"Frozen rolls: {len(frozen)} {frozen}")


@meetings_cli.command("pseudonymise")
def pseudonymise_command() -> None:
    """Pseudonymise attendance of meetings past their retention period; the counts stay."""
    done = jobs.pseudonymise_attendance(state())
    click.echo(f"Pseudonymised meetings: {len(done)} {done}")


@meetings_cli.command("suspend")
@click.argument("member_number")
@click.option("--from", "starts_on", type=click.DateTime(formats=["%Y-%m-%d"]), required=True)
@click.option("--until", "ends_on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--reason", required=True)
def suspend_command(member_number: str, starts_on: date, ends_on: date | None, reason: str) -> None:
    """Record that a party body suspended a member's voting right (rolls frozen later honour it)."""
    with database().transaction() as session:
        member_id = session.scalar(select(Member.id).where(Member.member_number == member_number))
        if member_id is None:
            raise click.ClickException("No member has this member number.")
        services.record_suspension(
            session,
            member_id=member_id,
            starts_on=starts_on.date() if hasattr(starts_on, "date") else starts_on,
            ends_on=ends_on.date() if ends_on is not None and hasattr(ends_on, "date") else ends_on,
            reason=reason,
            actor=Actor.system("flask meetings suspend"),
        )
    click.echo("Suspension recorded.")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(meetings_cli)
