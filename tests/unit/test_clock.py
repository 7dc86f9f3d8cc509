"""The portal's wall clock: calendar days are Amsterdam's (or the configured zone's), moments are UTC."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from portal.core import clock


@pytest.fixture(autouse=True)
def amsterdam(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_local_zone", clock._local_zone)  # restored afterwards
    clock.use_local_zone("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2027, 3, 14, 22, 59, tzinfo=UTC), date(2027, 3, 14)),  # 23:59 CET
        (datetime(2027, 3, 14, 23, 0, tzinfo=UTC), date(2027, 3, 15)),  # 00:00 CET
        (datetime(2027, 7, 14, 22, 30, tzinfo=UTC), date(2027, 7, 15)),  # 00:30 CEST
        (datetime(2027, 7, 14, 21, 59), date(2027, 7, 14)),  # naive: taken as UTC
    ],
)
def test_local_date_is_the_day_in_amsterdam(moment: datetime, day: date) -> None:
    assert clock.local_date(moment) == day


def test_today_is_amsterdams_day_just_after_midnight() -> None:
    with time_machine.travel(datetime(2027, 3, 14, 23, 30, tzinfo=UTC), tick=False):
        assert clock.today() == date(2027, 3, 15)
        assert clock.utcnow().date() == date(2027, 3, 14)


def test_local_midnight_follows_daylight_saving_time() -> None:
    assert clock.local_midnight(date(2027, 1, 10)) == datetime(2027, 1, 9, 23, 0, tzinfo=UTC)
    assert clock.local_midnight(date(2027, 7, 10)) == datetime(2027, 7, 9, 22, 0, tzinfo=UTC)
    clock.use_local_zone("Europe/Oslo")
    assert clock.local_midnight(date(2027, 7, 10)) == datetime(2027, 7, 9, 22, 0, tzinfo=UTC)
    clock.use_local_zone("UTC")
    assert clock.local_midnight(date(2027, 7, 10)) == datetime(2027, 7, 10, 0, 0, tzinfo=UTC)
