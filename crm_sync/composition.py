"""The one place that turns settings into a CRM adapter."""

from __future__ import annotations

from config import Settings
from crm_sync.adapters.civicrm import CiviCrmAdapter, CiviCrmClient
from crm_sync.ports import CrmPort


def make_crm_port(settings: Settings) -> CrmPort:
    """The adapter the settings name, connected to the configured CRM."""
    if settings.crm_adapter == "civicrm":
        client = CiviCrmClient(
            settings.crm_url,
            api_key=settings.crm_api_key,
            site_key=settings.crm_site_key,
            timeout=settings.crm_timeout_seconds,
        )
        return CiviCrmAdapter(client, page_size=settings.pull_page_size)
    raise ValueError(f"CRM adapter {settings.crm_adapter!r} is not available yet")
