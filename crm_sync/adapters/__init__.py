"""CRM adapters behind `crm_sync.ports.CrmPort`; `crm_sync.composition` picks one from settings."""
