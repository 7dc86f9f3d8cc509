"""CiviCRM as a `CrmPort`: the read path (pull) and the write path (push) over one HTTP session."""

from __future__ import annotations

from crm_sync.adapters.civicrm.client import CiviCrmClient
from crm_sync.adapters.civicrm.reader import CiviCrmReader
from crm_sync.adapters.civicrm.writer import CiviCrmWriter


class CiviCrmAdapter(CiviCrmReader, CiviCrmWriter):
    """Reads and writes party data through CiviCRM APIv4; see docs/civicrm-contract.md."""

    name = "civicrm"

    def __init__(
        self, client: CiviCrmClient, *, page_size: int = 1000, validate_in_worker: bool = False
    ) -> None:
        self.client = client
        self.page_size = page_size
        self.validate_in_worker = validate_in_worker

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()
