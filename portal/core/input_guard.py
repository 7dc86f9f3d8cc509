"""Refuse a request whose parameters hold a NUL character, before any view sees it.

No text the portal stores may hold NUL: PostgreSQL refuses it in every text value, so a single `%00` in a
sign-in name turned into a server error there. Other control characters stay with the views (a textarea
holds line breaks); NUL never belongs in any field.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest

NUL = "\x00"


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_nul() -> None:
    """A before-request hook over the query string and the form fields (no view reads a JSON body, so
    none is parsed here: a deeply nested one would only be a way to exhaust the parser). On the door's
    hot path it costs a byte search and two joins."""
    if b"%00" in request.query_string:  # the only way a NUL reaches the decoded arguments
        raise BadRequest("NUL character in the query string")
    if request.method in WRITES and not request.is_json:
        form = request.form  # a MultiDict: a dict of value lists, read here without its Python methods
        names, values = "".join(dict.keys(form)), "".join(map("".join, dict.values(form)))
        if NUL in names or NUL in values:
            raise BadRequest("NUL character in a form field")


def init_app(app: Flask) -> None:
    """Register the hook after the request id is set (so a refusal carries its own) and before the
    features' hooks and views."""
    app.before_request(refuse_nul)
