"""The one place that turns settings into a CRM adapter."""

from __future__ import annotations

from config import Settings
from crm_sync.adapters.civicrm import CiviCrmAdapter, CiviCrmClient
from crm_sync.adapters.tryton import TrytonAdapter, TrytonClient
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
        return CiviCrmAdapter(client, page_size=settings.pull_page_size, validate_in_worker=True)
    if settings.crm_adapter == "tryton":
        tryton = TrytonClient(
            settings.crm_url,
            database=settings.crm_database,
            username=settings.crm_username,
            password=settings.crm_password,
            timeout=settings.crm_timeout_seconds,
        )
        return TrytonAdapter(tryton, page_size=min(settings.pull_page_size, 1000))
    raise ValueError(f"CRM adapter {settings.crm_adapter!r} is not available")
