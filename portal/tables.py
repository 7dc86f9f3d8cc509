"""Imports every model module, so `Base.metadata` knows all tables (migrations and tests use it)."""

from audit import models as audit_models
from crm_sync import models as crm_sync_models
from portal.core.database import Base
from portal.members import models as member_models

__all__ = ["Base", "audit_models", "crm_sync_models", "member_models"]
