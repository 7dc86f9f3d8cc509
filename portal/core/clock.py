"""The clock port: one place that says what time it is, so tests can move it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# The portal's wall clock (Settings.timezone; create_app sets it). A meeting's calendar day is its day here:
# an ALV that starts at 00:30 in Amsterdam is on that day, though it is still the day before in UTC.
_local_zone = ZoneInfo("Europe/Amsterdam")


def utcnow() -> datetime:
    """The current moment as an aware UTC datetime."""
    return datetime.now(UTC)


def today() -> date:
    """Today on the portal's wall clock: the day the CRM's calendar dates (positions, dues, birthdays) are
    compared with. Between midnight and 01:00/02:00 in Amsterdam, UTC still says yesterday."""
    return local_date(utcnow())


def use_local_zone(name: str) -> None:
    """Set the portal's wall-clock zone (an IANA name such as 'Europe/Oslo')."""
    global _local_zone
    _local_zone = ZoneInfo(name)


def local_zone() -> ZoneInfo:
    """The portal's wall-clock zone."""
    return _local_zone


def local_date(moment: datetime) -> date:
    """The calendar day a moment falls on, on the portal's wall clock (a naive moment is UTC)."""
    return as_utc(moment).astimezone(_local_zone).date()


def local_midnight(day: date) -> datetime:
    """The moment `day` begins on the portal's wall clock, as UTC."""
    return datetime.combine(day, time(0), tzinfo=_local_zone).astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """Treat a naive datetime as UTC; convert an aware one to UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
