"""The members feature's web side: my page, the who's-who and the officers' member search."""

from __future__ import annotations

from flask import Flask

from portal.core.events import MembersPulled
from portal.core.extension import PortalState
from portal.members import cli
from portal.members.personal_data import registry
from portal.members.services.search_index import rebuild_search_index, refresh_search_entries
from portal.members.views import directory, my_page, officers
from portal.members.views.labels import STATUS_LABELS
from portal.members.views.rate_limits import install_limiter

FULL_REBUILD_ABOVE = 50_000


def init_app(app: Flask) -> None:
    """Register the blueprints, the per-account limiter, the data-export registry and the index refresh."""
    state: PortalState = app.extensions["portal"]
    for module in (my_page, directory, officers):
        app.register_blueprint(module.blueprint)
    with app.app_context():
        install_limiter(app.extensions)
    registry(app.extensions)
    app.cli.add_command(cli.members_cli)
    app.add_template_global(lambda status: str(STATUS_LABELS.get(status, status)), "member_status_label")

    def reindex_pulled(event: MembersPulled) -> None:
        with state.database.transaction() as session:
            if len(event.changed_member_ids) > FULL_REBUILD_ABOVE:  # a first pull: one pass is faster
                rebuild_search_index(session)
            else:
                refresh_search_entries(session, event.changed_member_ids)

    state.events.subscribe(MembersPulled, reindex_pulled)
