"""What a pull saw and did, and why it may stop on purpose."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from crm_sync.ports import InvalidRecord

log = logging.getLogger("crm_sync.pull")


class MassRemovalAborted(Exception):
    """More members would vanish than the configured share allows; nothing was changed."""


@dataclass
class PullCounts:
    """The counts stored on the `SyncRun`, plus what the run changed (for the `MembersPulled` event)."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    merged: int = 0
    skipped_invalid: int = 0
    conflicts: int = 0
    org_units: int = 0
    positions: int = 0
    positions_removed: int = 0
    refetched: int = 0
    invalid: list[InvalidRecord] = field(default_factory=list)
    changed_member_ids: set[int] = field(default_factory=set)
    newest_member_change: datetime | None = None
    newest_position_change: datetime | None = None

    def as_dict(self) -> dict[str, int]:
        """The counts stored on the `SyncRun`."""
        return {
            "fetched": self.fetched,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "merged": self.merged,
            "skipped_invalid": self.skipped_invalid,
            "conflicts": self.conflicts,
            "org_units": self.org_units,
            "positions": self.positions,
            "positions_removed": self.positions_removed,
            "refetched": self.refetched,
        }

    def note_invalid(self, invalid: list[InvalidRecord]) -> None:
        """Count and log records that failed validation; they are skipped."""
        for record in invalid:
            log.warning("skipped invalid CRM %s %s: %s", record.entity, record.crm_id, record.errors)
        self.skipped_invalid += len(invalid)
        self.invalid.extend(invalid[: max(0, 100 - len(self.invalid))])

    def saw_member_change(self, moment: datetime | None) -> None:
        """Remember the CRM's newest member change marker (the next watermark)."""
        if moment is not None and (self.newest_member_change is None or moment > self.newest_member_change):
            self.newest_member_change = moment

    def saw_position_change(self, moment: datetime | None) -> None:
        """Remember the CRM's newest position change marker."""
        if moment is not None and (
            self.newest_position_change is None or moment > self.newest_position_change
        ):
            self.newest_position_change = moment
