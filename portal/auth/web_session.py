"""Flask's session kept on the server: the cookie holds only a random id, the data lives in `login_sessions`.

CSRF tokens and flashed messages live here too, so nothing but the id ever reaches the browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, Request, g, request
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from flask.wrappers import Response
from flask_wtf.csrf import generate_csrf
from sqlalchemy import Row, bindparam, select, update
from werkzeug.datastructures import CallbackDict

from portal.auth.crypto import token_digest
from portal.auth.models import Account, LoginSession, SessionStage, session_is_open
from portal.auth.services.sessions import TOUCH_EVERY, ClientInfo, create_session
from portal.auth.services.terms import accepted_until_of
from portal.core.clock import utcnow
from portal.core.database import DriverStatement
from portal.core.extension import database, db_session

_serializer = TaggedJSONSerializer()
_OPEN_SESSION = DriverStatement(
    select(
        LoginSession.id,
        LoginSession.account_id,
        LoginSession.stage,
        LoginSession.factor,
        LoginSession.authenticated_at,
        LoginSession.last_seen_at,
        LoginSession.idle_seconds,
        LoginSession.expires_at,
        LoginSession.ended_at,
        LoginSession.data,
        Account.id.label("known_account_id"),
        Account.member_id,
        Account.disabled_at,
        accepted_until_of(
            LoginSession.account_id, bindparam("now", type_=LoginSession.expires_at.type)
        ).label("terms_until"),
    )
    .outerjoin(Account, Account.id == LoginSession.account_id)
    .where(LoginSession.token_hash == bindparam("token_hash"))
)  # plain columns, not ORM objects (every request runs it); the officer gate's terms check and the
# account's state ride along: one round trip says who is signed in and whether they may work


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The request's session: its data plus what the server knows about the sign-in behind it."""

    def __init__(
        self,
        initial: dict[str, Any] | None = None,
        *,
        row: LoginSession | Row[*tuple[Any, ...]] | None = None,
        raw_token: str = "",
    ) -> None:
        def on_update(this: ServerSession) -> None:
            this.modified = True
            this.accessed = True

        super().__init__(initial or {}, on_update)
        self.modified = False
        self.accessed = False
        self.readonly = False
        self.dropped = False
        self.new_cookie = False
        self.had_cookie = bool(raw_token)
        self.timed_out_id: int | None = None
        self.raw_token = raw_token
        self._take(row)

    def _take(self, row: LoginSession | Row[*tuple[Any, ...]] | None) -> None:
        self.record_id = row.id if row else None
        self.account_id = row.account_id if row else None
        self.stage = row.stage if row else SessionStage.ANONYMOUS
        self.factor = row.factor if row else ""
        self.authenticated_at: datetime | None = row.authenticated_at if row else None
        # The account's terms acceptance end as loaded with the row (see `guards.terms_accepted_until`).
        self.terms_until: datetime | None = None
        self.terms_known = False
        self.last_seen_at: datetime | None = row.last_seen_at if row else None
        # The account's member and state, when open_session loaded them with the row (None: not known).
        self.member_id: int | None = None
        self.account_usable: bool | None = None

    @property
    def is_signed_in(self) -> bool:
        """Password and second factor given in this session."""
        return self.stage is SessionStage.FULLY_AUTHENTICATED and self.account_id is not None

    def adopt(self, row: LoginSession, raw_token: str) -> None:
        """Continue as the new session a service created (new id after each sign-in stage)."""
        self._take(row)
        self.raw_token = raw_token
        self.pop("csrf_token", None)  # a new privilege level gets a new CSRF token too
        g.pop("csrf_token", None)  # Flask-WTF caches this request's token; the page may render forms
        generate_csrf()  # now, so the next page does not have to write the session again
        self.new_cookie = True
        self.modified = True

    def store_in(self, row: LoginSession) -> None:
        """Put the data into the adopted row before the view commits (one write instead of two)."""
        row.data = _serializer.dumps(dict(self))
        self.modified = False

    def drop(self) -> None:
        """Forget the session in this browser (its row was ended by a service)."""
        self.clear()
        self._take(None)
        self.dropped = True


class ServerSessionInterface(SessionInterface):
    """Looks the cookie's id up in `login_sessions`; writes data back; touches `last_seen_at` each minute."""

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if app.static_url_path and request.path.startswith(app.static_url_path + "/"):
            quiet = ServerSession()
            quiet.readonly = True
            return quiet
        raw = request.cookies.get(self.get_cookie_name(app), "")
        if not raw or len(raw) > 100:
            return ServerSession(raw_token=raw)
        now = utcnow()
        # On the request's own connection (one pooled connection per request), as plain columns, and
        # outside a transaction: a view that writes begins its own.
        parameters = {"token_hash": token_digest(raw), "now": now}
        row = _OPEN_SESSION.first(db_session(), parameters, alone=True)
        if row is None:
            return ServerSession(raw_token=raw)
        if not session_is_open(row, now):
            fresh = ServerSession(raw_token=raw)
            fresh.timed_out_id = row.id if row.ended_at is None else None
            fresh.had_cookie = row.account_id is not None  # tell the person their sign-in ended
            return fresh
        data = _serializer.loads(row.data) if row.data else {}
        opened = ServerSession(data, row=row, raw_token=raw)
        opened.terms_until, opened.terms_known = row.terms_until, True
        if row.account_id is not None:
            opened.member_id = row.member_id
            opened.account_usable = row.known_account_id is not None and row.disabled_at is None
        return opened

    def _set_cookie(self, app: Flask, response: Response, value: str) -> None:
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            path=self.get_cookie_path(app),
            domain=None,  # host-only: required for the __Host- prefix
            secure=self.get_cookie_secure(app),
            httponly=True,
            samesite=self.get_cookie_samesite(app) or "Lax",
        )

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession) or session.readonly:
            return
        request_session = g.get("db_session")
        if request_session is not None:
            request_session.rollback()  # the view has committed what it meant to; free its locks first
        now = utcnow()
        db = database()
        name = self.get_cookie_name(app)
        if session.timed_out_id is not None:
            with db.transaction() as tx:
                tx.execute(
                    update(LoginSession)
                    .where(LoginSession.id == session.timed_out_id, LoginSession.ended_at.is_(None))
                    .values(ended_at=now, end_reason="timed_out")
                )
        if session.dropped and not dict(session):
            response.delete_cookie(
                name,
                path=self.get_cookie_path(app),
                secure=self.get_cookie_secure(app),
                httponly=True,
                samesite="Lax",
            )
            return
        response.vary.add("Cookie")
        if session.record_id is None:
            if not session.modified or not dict(session):
                return
            client = ClientInfo(
                ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", "")[:300]
            )
            with db.transaction() as tx:
                _row, raw = create_session(
                    tx,
                    stage=SessionStage.ANONYMOUS,
                    account_id=None,
                    client=client,
                    now=now,
                    data=_serializer.dumps(dict(session)),
                )
            self._set_cookie(app, response, raw)
            return
        values: dict[str, Any] = {}
        if session.modified:
            values["data"] = _serializer.dumps(dict(session))
        if session.last_seen_at is None or now - session.last_seen_at >= TOUCH_EVERY:
            values["last_seen_at"] = now
        if values:
            with db.transaction() as tx:
                tx.execute(update(LoginSession).where(LoginSession.id == session.record_id).values(**values))
        if session.new_cookie:
            self._set_cookie(app, response, session.raw_token)
