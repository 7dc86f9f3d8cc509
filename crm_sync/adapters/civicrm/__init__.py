"""The CiviCRM APIv4 adapter: the only code that knows CiviCRM's JSON."""

from crm_sync.adapters.civicrm.adapter import CiviCrmAdapter
from crm_sync.adapters.civicrm.client import CiviCrmClient

__all__ = ["CiviCrmAdapter", "CiviCrmClient"]
