"""The portal's per-app state (settings, database, events, mailer) and the per-request session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from config import Settings
from portal.core.database import Database
from portal.core.events import EventBus
from portal.core.mailer import Mailer

EXTENSION_KEY = "portal"
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class PortalState:
    """What `create_app` composes once and every request and command reads."""

    settings: Settings
    database: Database
    events: EventBus
    mailer: Mailer


def install(app: Flask, state: PortalState) -> None:
    """Attach the state to the app and close the request's session when the request ends."""
    app.extensions[EXTENSION_KEY] = state

    @app.teardown_appcontext
    def close_session(_error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def state() -> PortalState:
    """The current app's portal state."""
    return current_app.extensions[EXTENSION_KEY]


def settings() -> Settings:
    """The current app's settings."""
    return state().settings


def database() -> Database:
    """The current app's database."""
    return state().database


def db_session() -> Session:
    """The session of this request (or command); a write session for POST and friends."""
    session: Session | None = g.get("db_session")
    if session is None:
        write = True
        try:
            write = request.method not in _READ_ONLY_METHODS
        except RuntimeError:  # outside a request: a CLI command writes
            write = True
        session = database().session(write=write)
        g.db_session = session
    return session
