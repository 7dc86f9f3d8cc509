"""Times and dates on the portal's wall clock: typed into forms, shown on pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask_babel import format_date, format_datetime

from portal.core.clock import local_zone


def local_to_utc(moment: datetime) -> datetime:
    """A wall-clock time typed in the portal's time zone, as UTC."""
    return moment.replace(tzinfo=local_zone()).astimezone(UTC)


def utc_to_local(moment: datetime) -> datetime:
    """A stored UTC time on the portal's wall clock (naive, for form fields)."""
    return moment.astimezone(local_zone()).replace(tzinfo=None)


def clock(moment: datetime | None) -> str:
    """'19:42' in the portal's time zone (the same in every language: no Babel pattern needed, and the
    door's answer, which shows it, is on the check-in's hot path)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(local_zone()).strftime("%H:%M")


def when(moment: datetime | None) -> str:
    """A date and time in the portal's time zone."""
    return format_datetime(moment, "d MMM yyyy HH:mm") if moment else ""


def day(value: date | None) -> str:
    """A date for people."""
    return format_date(value, "d MMMM yyyy") if value else ""
