"""JSON responses of the member pages, and how a caller asks for JSON."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request


def wants_json() -> bool:
    """True for `?format=json`, a JSON body, or an Accept header preferring JSON."""
    if request.args.get("format") == "json" or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON answer that no cache keeps."""
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
