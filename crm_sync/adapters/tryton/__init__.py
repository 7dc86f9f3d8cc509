"""The Tryton JSON-RPC adapter: the only code that knows Tryton's models."""

from crm_sync.adapters.tryton.adapter import TrytonAdapter
from crm_sync.adapters.tryton.client import TrytonClient

__all__ = ["TrytonAdapter", "TrytonClient"]
