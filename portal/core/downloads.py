"""A file the browser saves and never shows inline (exports, "download my data")."""

from __future__ import annotations

from flask import Response


def download(data: bytes, *, filename: str, mimetype: str) -> Response:
    """An attachment; `security_headers` adds nosniff and no-store, as to every answer."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
