"""`flask auth …`: grant the first admin, recompute role grants, purge old sessions, demo accounts."""

from __future__ import annotations

from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.auth import demo
from portal.auth.roles import Role
from portal.auth.services.grants import grant_role, recompute_grants
from portal.auth.services.sessions import purge_sessions
from portal.core.actors import Actor
from portal.core.clock import local_midnight, utcnow
from portal.core.extension import database
from portal.members.models import Member

group = AppGroup("auth", help="Accounts, roles and sessions.")
CLI_ACTOR = Actor.system("cli")


@group.command("grant-admin")
@click.option("--member-number", required=True)
@click.option(
    "--until",
    "until",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="End date (YYYY-MM-DD).",
)
@click.option("--reason", required=True)
def grant_admin(member_number: str, until: datetime, reason: str) -> None:
    """Give a member the admin role until a date (the way to the first admin)."""
    with database().transaction() as session:
        member = session.scalar(select(Member).where(Member.member_number == member_number))
        if member is None:
            raise click.ClickException(f"no member with number {member_number}")
        grant_role(
            session,
            member=member,
            role=Role.ADMIN,
            scope_unit_id=None,
            ends_at=local_midnight(until.date()),
            reason=reason,
            actor=CLI_ACTOR,
            now=utcnow(),
        )
    click.echo(f"admin granted to member {member_number} until {until.date()}")


@group.command("recompute-grants")
def recompute() -> None:
    """Derive role grants from the current positions (the pull does this too)."""
    with database().transaction() as session:
        changes = recompute_grants(session, now=utcnow(), actor=CLI_ACTOR)
    click.echo(f"grants added {changes.added}, ended {changes.ended}")


@group.command("purge-sessions")
def purge() -> None:
    """Delete lapsed anonymous sessions and sessions older than 90 days."""
    with database().transaction() as session:
        count = purge_sessions(session, utcnow())
    click.echo(f"{count} sessions deleted")


@group.command("demo-accounts")
def demo_accounts() -> None:
    """Create the demo accounts (never in production) and write instance/demo_accounts.json."""
    demo.create_demo_accounts(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Register the command group."""
    app.cli.add_command(group)
