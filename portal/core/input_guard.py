"""Refuse a request whose parameters hold a NUL character, before any view sees it.

No text the portal stores may hold NUL: PostgreSQL refuses it in every text value, so a single `%00` in a
sign-in name turned into a server error there. Other control characters stay with the views (a textarea
holds line breaks); NUL never belongs in any field.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import BadRequest

NUL = "\x00"


def refuse_nul() -> None:
    """A before-request hook over the query string and the form fields (no view reads a JSON body, so
    none is parsed here: a deeply nested one would only be a way to exhaust the parser)."""
    sources = [request.args.lists()]
    if request.method in {"POST", "PUT", "PATCH", "DELETE"} and not request.is_json:
        sources.append(request.form.lists())
    for source in sources:
        for name, values in source:
            if NUL in name or any(NUL in value for value in values):
                raise BadRequest("NUL character in a request parameter")


def init_app(app: Flask) -> None:
    """Register the hook after the request id is set (so a refusal carries its own) and before the
    features' hooks and views."""
    app.before_request(refuse_nul)
