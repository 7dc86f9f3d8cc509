"""Events one package emits and another subscribes to, so packages never import each other in a cycle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

Event = TypeVar("Event")
Handler = Callable[[Any], None]


@dataclass(frozen=True)
class MembersPulled:
    """A pull from the CRM committed; role grants and caches may need refreshing."""

    sync_run_id: int
    finished_at: datetime
    changed_member_ids: tuple[int, ...]


@dataclass(frozen=True)
class MembersMerged:
    """A committed pull found contacts the CRM merged: (merged-away member id, survivor member id)."""

    sync_run_id: int
    merges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PullAborted:
    """A pull stopped on purpose before changing anything (the mass-removal guard); admins must look."""

    sync_run_id: int
    adapter: str
    reason: str


@dataclass(frozen=True)
class MemberChanged:
    """A member's replica row was changed by the portal (not by the pull)."""

    member_id: int
    fields: tuple[str, ...]


class EventBus:
    """A tiny synchronous publish/subscribe registry, one per app."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[Event], handler: Callable[[Event], None]) -> None:
        """Call `handler` for every published event of `event_type`."""
        self._handlers[event_type].append(handler)

    def publish(self, event: object) -> None:
        """Deliver `event` to its handlers in subscription order."""
        for handler in self._handlers.get(type(event), []):
            handler(event)
