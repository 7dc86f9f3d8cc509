"""Typed domain errors; `portal.app` maps them to pages and JSON in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose; its message is safe to show."""

    status_code = 400
    code = "domain_error"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    """The thing named does not exist, or the actor may not know that it does."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    status_code = 403
    code = "permission_denied"


class ValidationFailed(DomainError):
    """Input was refused; `fields` maps field names to messages."""

    status_code = 422
    code = "validation_failed"


class Conflict(DomainError):
    """The change clashes with the current state (stale version, duplicate)."""

    status_code = 409
    code = "conflict"


class ExternalServiceUnavailable(DomainError):
    """A system outside the portal (CRM, mail) did not answer in time."""

    status_code = 503
    code = "external_service_unavailable"
