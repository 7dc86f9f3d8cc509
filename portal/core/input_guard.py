"""Refuse a request whose parameters hold a NUL character, before any view sees it.

No text the portal stores may hold NUL: PostgreSQL refuses it in every text value, so a single `%00` in a
sign-in name turned into a server error there. Other control characters stay with the views (a textarea
holds line breaks); NUL never belongs in any field.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest

NUL = "\x00"


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def refuse_nul() -> None:
    """A before-request hook: the query string, the form fields and a JSON body."""
    sources: list[Any] = [request.args.lists()]
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if request.is_json:
            sources.append([("json", [request.get_json(silent=True)])])
        else:
            sources.append(request.form.lists())
    for source in sources:
        for name, values in source:
            if NUL in name or any(_holds_nul(value) for value in values):
                raise BadRequest("NUL character in a request parameter")


def init_app(app: Flask) -> None:
    """Register the hook ahead of the views' own checks."""
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_nul)
