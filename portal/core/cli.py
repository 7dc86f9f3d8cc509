"""`flask db …`: schema migrations without Flask-SQLAlchemy."""

from __future__ import annotations

import click
from alembic import command
from flask import Flask
from flask.cli import AppGroup

from portal.core import schema
from portal.core.extension import settings

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: all heads)."""
    url = settings().database_url
    schema.upgrade(url, revision)
    click.echo(f"Database at revision {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision: str) -> None:
    """Undo migrations down to REVISION."""
    schema.downgrade(settings().database_url, revision)


@db_cli.command("current")
def current_command() -> None:
    """Show the applied revision."""
    command.current(schema.alembic_config(settings().database_url), verbose=False)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def revision_command(message: str, autogenerate: bool) -> None:
    """Write a new revision file (read it by hand before committing)."""
    command.revision(
        schema.alembic_config(settings().database_url), message=message, autogenerate=autogenerate
    )


def init_app(app: Flask) -> None:
    """Register the database commands."""
    app.cli.add_command(db_cli)
