"""`flask audit verify`: walk the hash chain and name the first broken entry."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from audit.services import verify_chain
from portal.core.extension import database

audit_cli = AppGroup("audit", help="The mutation log.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Check that no audit entry was edited, deleted or reordered."""
    with database().transaction() as session:
        report = verify_chain(session)
    if report.is_intact:
        click.echo(f"Audit chain intact: {report.checked} entries checked.")
        return
    where = f"entry #{report.broken_seq}" + (f" (id {report.broken_id})" if report.broken_id else "")
    click.echo(f"Audit chain BROKEN at {where}: {report.reason}.", err=True)
    raise SystemExit(1)


def init_app(app: Flask) -> None:
    """Register the audit commands."""
    app.cli.add_command(audit_cli)
