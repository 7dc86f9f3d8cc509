"""Tryton as a `CrmPort`: read and write party data over JSON-RPC (see docs/tryton-mapping.md)."""

from __future__ import annotations

from crm_sync.adapters.tryton.client import TrytonClient
from crm_sync.adapters.tryton.vocabulary import Vocabulary
from crm_sync.adapters.tryton.writer import TrytonWriter


class TrytonAdapter(TrytonWriter):
    """Members, branches, positions and membership status in Tryton's `party` and `party_relationship`."""

    name = "tryton"

    def __init__(self, client: TrytonClient, *, page_size: int = 500) -> None:
        self.client = client
        self.page_size = page_size
        self._vocabulary: Vocabulary | None = None
        self._countries: dict[str, int] = {}

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()
