"""Security headers on every response (CSP without inline script, HSTS in production)."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",  # the vendored QR polyfill runs WebAssembly
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


_ALWAYS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(self), geolocation=(), microphone=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
_PRODUCTION = (("Strict-Transport-Security", "max-age=63072000; includeSubDomains"),)
_NOT_CACHED = (("Cache-Control", "no-store"),)
_CACHEABLE_ENDPOINTS = frozenset({"static", "home.landing"})


def init_app(app: Flask, *, production: bool) -> None:
    """Add the headers after every request; a header the view set itself is left as it is."""
    always = _ALWAYS + _PRODUCTION if production else _ALWAYS

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the names the view set (Headers' own membership test scans the list and
        # raises a KeyError for every absent name, seven times per response).
        present = {name.lower() for name, _value in headers}
        wanted = always if request.endpoint in _CACHEABLE_ENDPOINTS else always + _NOT_CACHED
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        return response
