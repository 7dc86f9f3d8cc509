"""The meetings blueprint and what its views share about requests and responses."""

from __future__ import annotations

import uuid

from flask import Blueprint, request

blueprint = Blueprint("meetings", __name__, template_folder="../templates", url_prefix="/meetings")


def new_nonce() -> str:
    """A client nonce for a form the server renders (the page's JavaScript makes its own)."""
    return uuid.uuid4().hex


def wants_json() -> bool:
    """The door's JavaScript asks for JSON; a plain form post gets the page back."""
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
