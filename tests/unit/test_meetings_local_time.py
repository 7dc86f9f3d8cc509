"""The door's clock: UTC from the database shown on the portal's wall clock, summer and winter time."""

from datetime import UTC, datetime

import pytest
from flask import Flask

from portal.meetings.views.local_time import clock


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2026, 7, 1, 17, 42, tzinfo=UTC), "19:42"),  # CEST, UTC+2
        (datetime(2026, 12, 1, 17, 42, tzinfo=UTC), "18:42"),  # CET, UTC+1
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "01:59"),  # the last minute before the clocks go forward
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "03:00"),
        (datetime(2026, 12, 1, 17, 42), "18:42"),  # naive values are UTC (as the database hands them out)
        (None, ""),
    ],
)
def test_clock_shows_amsterdam_time(app: Flask, moment: datetime | None, shown: str) -> None:
    with app.test_request_context("/"):
        assert clock(moment) == shown
