"""Imports every model module, so `Base.metadata` knows all tables (migrations and tests use it)."""

from audit import models as audit_models
from crm_sync import models as crm_sync_models
from portal.auth import models as auth_models  # noqa: F401
from portal.core.database import Base
from portal.meetings import models as meeting_models  # noqa: F401
from portal.members import models as member_models
from portal.members import search_models as member_search_models  # noqa: F401

__all__ = ["Base", "audit_models", "crm_sync_models", "member_models"]
