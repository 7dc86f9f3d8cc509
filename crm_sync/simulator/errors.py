"""The one error type of the simulated API; the server turns it into CiviCRM's error body."""


class ApiError(Exception):
    """A failed API call: `reason` goes to the log, the client sees a generic message."""

    def __init__(self, reason: str, status: int = 500) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
