"""Org units: a small set (about 1,400), pulled whole every time, written only where something changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_sync.ports import CrmOrgUnit, CrmPort
from crm_sync.pull.counts import PullCounts
from portal.members.models import OrgUnit

_FIELDS = ("name", "kind", "level", "code", "municipality", "province")


def _apply(unit: OrgUnit, record: CrmOrgUnit, now: datetime) -> bool:
    changed = False
    for name in _FIELDS:
        value = getattr(record, name)
        if getattr(unit, name) != value:
            setattr(unit, name, value)
            changed = True
    if unit.removed_at is not None:
        unit.removed_at, changed = None, True
    if changed:
        unit.synced_at = now
    return changed


def sync_org_units(session: Session, port: CrmPort, counts: PullCounts, now: datetime) -> dict[str, int]:
    """Upsert every org unit, tombstone the ones the CRM dropped; returns crm_id → replica id."""
    records: list[CrmOrgUnit] = []
    for page in port.fetch_org_units():
        records.extend(page.records)
        counts.note_invalid(page.invalid)
    existing = {unit.crm_id: unit for unit in session.scalars(select(OrgUnit))}
    for record in records:
        unit = existing.get(record.crm_id)
        if unit is None:
            unit = OrgUnit(crm_id=record.crm_id, name=record.name, kind=record.kind, level=record.level)
            session.add(unit)
            existing[record.crm_id] = unit
            unit.synced_at = now
        _apply(unit, record, now)
    session.flush()
    for record in records:
        parent = existing.get(record.parent_crm_id) if record.parent_crm_id else None
        parent_id = parent.id if parent else None
        unit = existing[record.crm_id]
        if unit.parent_id != parent_id:
            unit.parent_id, unit.synced_at = parent_id, now
    seen = {record.crm_id for record in records}
    for crm_id, unit in existing.items():
        if crm_id not in seen and unit.removed_at is None:
            unit.removed_at = now
    counts.org_units = len(records)
    session.flush()
    return {crm_id: unit.id for crm_id, unit in existing.items()}
