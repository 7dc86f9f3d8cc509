"""Domain errors and HTTP errors become one friendly page or one JSON body; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core import context
from portal.core.errors import DomainError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    """Whether to answer with JSON: a JSON request, an /api/ path, or JSON preferred over HTML."""
    if request.is_json or request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _respond(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Response:
    if wants_json():
        body: dict[str, object] = {"error": code, "message": message, "request_id": context.request_id.get()}
        if fields:
            body["fields"] = fields
        response = jsonify(body)
    else:
        html = render_template("error.html", status=status, message=message, fields=fields or {}, code=code)
        response = Response(html, mimetype="text/html")
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return _respond(error.status_code, error.code, error.message, error.fields)

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> Response:
        message = _("This form has expired or was not sent from this site. Reload the page and try again.")
        return _respond(400, "csrf_failed", message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        messages = {
            400: _("The request held something the portal cannot accept. Check what you typed, then retry."),
            404: _("This page does not exist, or you may not see it."),
            403: _("You may not do this."),
            405: _("This address does not accept this kind of request."),
            429: _("Too many attempts. Wait a moment and try again."),
        }
        status = error.code or 500
        message = messages.get(status, _("The request could not be handled."))
        response = _respond(status, error.name.lower().replace(" ", "_"), message)
        if status == 429 and error.response is not None and "Retry-After" in error.response.headers:
            response.headers["Retry-After"] = error.response.headers["Retry-After"]
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        log.exception("unhandled error in request %s", context.request_id.get())
        request_session = g.get("db_session")
        if request_session is not None:
            try:  # a failed flush leaves the session unusable, and the page's menu reads it
                request_session.rollback()
            except Exception:  # the connection itself is gone: the page still renders
                log.warning("could not roll back the request's session", exc_info=True)
        message = _(
            "Something went wrong on our side. The error has been logged (reference %(ref)s).",
            ref=context.request_id.get(),
        )
        return _respond(500, "internal_error", message)
