"""The "download my data" registry: features add their rows about a member without members importing them.

A feature (meetings, call lists, relay …) registers a provider in its `init_app`:

    from portal.members.personal_data import registry
    registry(app.extensions).register("attendance", attendance_rows)

where `attendance_rows(session, member_id) -> PersonalDataSection | None` reads only that member's own
rows (never other people's personal data, GDPR art. 20(4)). The members feature calls every provider
when a member downloads their data (art. 15), in registration order.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

EXTENSION_KEY = "members.personal_data_providers"


@dataclass(frozen=True)
class PersonalDataSection:
    """One part of the export: a stable key, an English title (a msgid) and plain rows (JSON-safe)."""

    key: str
    title: str
    rows: list[dict[str, Any]]
    description: str = ""


Provider = Callable[[Session, int], PersonalDataSection | None]


@dataclass
class ProviderRegistry:
    """The providers of one app, by key."""

    providers: dict[str, Provider] = field(default_factory=dict)

    def register(self, key: str, provider: Provider) -> None:
        """Add a provider; a key may be registered once."""
        if key in self.providers:
            raise ValueError(f"a personal-data provider {key!r} is already registered")
        self.providers[key] = provider

    def all(self) -> list[tuple[str, Provider]]:
        """The providers in registration order."""
        return list(self.providers.items())


def registry(extensions: MutableMapping[str, Any]) -> ProviderRegistry:
    """The app's registry (`app.extensions`), created on first use whichever feature starts first."""
    found = extensions.setdefault(EXTENSION_KEY, ProviderRegistry())
    assert isinstance(found, ProviderRegistry)
    return found
