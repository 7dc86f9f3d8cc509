"""`flask members …`: rebuild the name-search index."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from portal.core.extension import database
from portal.members.services.search_index import rebuild_search_index

members_cli = AppGroup("members", help="Member replica: the name-search index.")


@members_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild the name-search index from the replica (after a bulk load or a change of the rules)."""
    started = time.monotonic()
    with database().transaction() as session:
        rows = rebuild_search_index(session)
    click.echo(f"Name-search index rebuilt: {rows} terms in {time.monotonic() - started:.1f} s.")
