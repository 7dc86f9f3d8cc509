"""The CiviCRM read path: org units from Organization contacts, members from Individuals with their
primary e-mail/phone/address and Membership, positions from Relationships (docs/civicrm-contract.md)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crm_sync.adapters import pipeline
from crm_sync.adapters.civicrm.client import CiviCrmClient, ClientSpec
from crm_sync.adapters.civicrm.records import (
    RawMembers,
    aware,
    choose_per_contact,
    members_from_rows,
    membership_dates,
    scan_rows,
)
from crm_sync.adapters.civicrm.schemas import (
    CIVI_DATETIME,
    OrganizationSchema,
    RelationshipSchema,
    load_each,
)
from crm_sync.adapters.civicrm.vocabulary import (
    INDIVIDUAL_SELECT,
    LEVELS,
    MEMBERSHIP_SELECT,
    ORGANIZATION_SELECT,
    POSITION_FUNCTIONS,
    RELATIONSHIP_SELECT,
    UNIT_KINDS,
)
from crm_sync.ports import CrmMember, CrmMembershipState, CrmOrgUnit, CrmPosition, InvalidRecord, Page

# The reading worker may run this many pages ahead: more than a write batch (ten pages), so it keeps
# reading while the pull writes a batch (about 1.5 MB a page).
READ_AHEAD_PAGES = 16


def civi_time(moment: datetime) -> str:
    """A moment in CiviCRM's site time (UTC here): 'YYYY-MM-DD HH:MM:SS'."""
    return moment.astimezone(UTC).strftime(CIVI_DATETIME)


@dataclass(frozen=True)
class _ReadMembers:
    """What a reading worker needs to page through members on its own."""

    client: ClientSpec
    page_size: int
    where: list[Any]


def _read_members(job: _ReadMembers) -> Iterator[Page[CrmMember]]:
    """In a worker process: fetch (a thread ahead), decode and validate every page of members."""
    reader = CiviCrmReader()
    reader.client, reader.page_size, reader.validate_in_worker = job.client.connect(), job.page_size, False
    try:
        raw = (reader._raw_page(rows) for rows in reader._keyset("Contact", INDIVIDUAL_SELECT, job.where))
        for page in pipeline.prefetched(raw):
            yield members_from_rows(page)
    finally:
        reader.client.close()


class CiviCrmReader:
    """Reads party data through CiviCRM APIv4 with keyset paging."""

    client: CiviCrmClient
    page_size: int
    validate_in_worker: bool

    def _keyset(
        self, entity: str, select: list[str], where: list[Any], *, page_size: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows ordered by id, each page asking for ids above the last one seen."""
        size = page_size or self.page_size
        last_id = 0
        while True:
            params = {
                "select": select,
                "where": [*where, ["id", ">", last_id]],
                "orderBy": {"id": "ASC"},
                "limit": size,
            }
            rows: list[dict[str, Any]] = self.client.call(entity, "get", params).get("values", [])
            if not rows:
                return
            yield rows
            last_id = int(rows[-1]["id"])
            if len(rows) < size:
                return

    def fetch_org_units(self) -> Iterator[Page[CrmOrgUnit]]:
        """Organization contacts with one of the party's sub-types."""
        where = [["contact_type", "=", "Organization"], ["is_deleted", "=", False]]
        for rows in self._keyset("Contact", ORGANIZATION_SELECT, where):
            good, bad = load_each(OrganizationSchema(), rows)
            units: list[CrmOrgUnit] = []
            invalid = [InvalidRecord("org_unit", crm_id, errors) for crm_id, errors in bad]
            for row in good:
                kind = next(
                    (UNIT_KINDS[name] for name in row["contact_sub_type"] if name in UNIT_KINDS), None
                )
                level = LEVELS.get(row["level"])
                if kind is None or level is None:
                    invalid.append(
                        InvalidRecord("org_unit", str(row["id"]), {"contact_sub_type": ["unknown"]})
                    )
                    continue
                units.append(
                    CrmOrgUnit(
                        crm_id=str(row["id"]),
                        parent_crm_id=str(row["parent_id"]) if row["parent_id"] else None,
                        name=row["organization_name"],
                        kind=kind,
                        level=level,
                        code=row["code"],
                        municipality=row["municipality"],
                        province=row["province"],
                    )
                )
            yield Page(units, invalid)

    def _raw_page(self, rows: list[dict[str, Any]]) -> RawMembers:
        """A page of contacts with their memberships and non-primary phones, as CiviCRM sent them."""
        ids = [row["id"] for row in rows if isinstance(row.get("id"), int)]
        if not ids:
            return RawMembers(rows)
        memberships = self.client.call(
            "Membership",
            "get",
            {"select": MEMBERSHIP_SELECT, "where": [["contact_id", "IN", ids]], "orderBy": {"id": "ASC"}},
        )
        phones = self.client.call(
            "Phone",
            "get",
            {
                "select": ["id", "contact_id", "phone", "phone_type_id:name"],
                "where": [["contact_id", "IN", ids], ["is_primary", "=", False]],
                "orderBy": {"id": "ASC"},
            },
        )
        return RawMembers(rows, memberships.get("values", []), phones.get("values", []))

    def fetch_members(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmMember]]:
        """Individuals that have a membership, trashed ones included (they become tombstones)."""
        where: list[Any] = [["contact_type", "=", "Individual"], ["is_deleted", "IN", [False, True]]]
        if changed_since is not None:
            where.append(["modified_date", ">=", civi_time(changed_since)])
        if changed_since is None and self.validate_in_worker:  # a full pull: hundreds of pages
            yield from pipeline.produced_in_worker(
                _read_members,
                _ReadMembers(self.client.spec(), self.page_size, where),
                ahead=READ_AHEAD_PAGES,
            )
            return
        for rows in self._keyset("Contact", INDIVIDUAL_SELECT, where):
            yield members_from_rows(self._raw_page(rows))

    def fetch_members_by_id(self, crm_ids: Sequence[str]) -> Iterator[Page[CrmMember]]:
        """The named Individuals (trashed ones flagged), a page at a time."""
        ids = sorted({int(crm_id) for crm_id in crm_ids if crm_id.isdigit()})
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            where = [
                ["contact_type", "=", "Individual"],
                ["is_deleted", "IN", [False, True]],
                ["id", "IN", chunk],
            ]
            rows: list[dict[str, Any]] = self.client.call(
                "Contact", "get", {"select": INDIVIDUAL_SELECT, "where": where, "orderBy": {"id": "ASC"}}
            ).get("values", [])
            if rows:
                yield members_from_rows(self._raw_page(rows))

    def fetch_memberships(self) -> Iterator[Page[CrmMembershipState]]:
        """Every contact's chosen membership, paged by contact so no contact is split over two pages."""
        size = min(10000, self.page_size * 5)
        start = 0
        while True:
            rows: list[dict[str, Any]] = self.client.call(
                "Membership",
                "get",
                {
                    "select": MEMBERSHIP_SELECT,
                    "where": [["contact_id", ">=", start]],
                    "orderBy": {"contact_id": "ASC", "id": "ASC"},
                    "limit": size,
                },
            ).get("values", [])
            full = len(rows) == size
            last_contact = int(rows[-1]["contact_id"]) if rows else 0
            if full and int(rows[0]["contact_id"]) != last_contact:
                rows = [
                    row for row in rows if int(row["contact_id"]) != last_contact
                ]  # fetched whole next time
                start = last_contact
            else:
                start = last_contact + 1
            chosen = choose_per_contact(scan_rows(rows))
            states = [
                CrmMembershipState(str(contact_id), row["status"], **membership_dates(row, row["status"]))
                for contact_id, row in chosen.items()
            ]
            yield Page(states)
            if not full:
                return

    def fetch_positions(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmPosition]]:
        """Relationships of the party's position types."""
        where: list[Any] = [["relationship_type_id:name", "IN", list(POSITION_FUNCTIONS)]]
        if changed_since is not None:
            where.append(["modified_date", ">=", civi_time(changed_since)])
        for rows in self._keyset("Relationship", RELATIONSHIP_SELECT, where):
            good, bad = load_each(RelationshipSchema(), rows)
            invalid = [InvalidRecord("position", crm_id, errors) for crm_id, errors in bad]
            positions = [
                CrmPosition(
                    crm_id=str(row["id"]),
                    member_crm_id=str(row["contact_id_a"]),
                    org_unit_crm_id=str(row["contact_id_b"]),
                    function=POSITION_FUNCTIONS[row["relationship_type"]],
                    start_date=row["start_date"],
                    end_date=row["end_date"],
                    public=row["is_public"],
                    modified_at=aware(row["modified_date"]),
                )
                for row in good
                if row["relationship_type"] in POSITION_FUNCTIONS
            ]
            yield Page(positions, invalid, cursor=str(rows[-1]["id"]))

    def fetch_position_ids(self) -> Iterator[list[str]]:
        """Ids of every position-type relationship, in big pages of ids only."""
        where: list[Any] = [["relationship_type_id:name", "IN", list(POSITION_FUNCTIONS)]]
        for rows in self._keyset("Relationship", ["id"], where, page_size=10000):
            yield [str(row["id"]) for row in rows]

    def fetch_member_ids(self) -> Iterator[list[str]]:
        """Ids of all Individuals not in the trash, in big pages of ids only."""
        where = [["contact_type", "=", "Individual"], ["is_deleted", "=", False]]
        for rows in self._keyset("Contact", ["id"], where, page_size=10000):
            yield [str(row["id"]) for row in rows]

    def find_survivor(self, crm_id: str) -> str | None:
        """`Contact.getMergedTo`: the contact this one was merged into (chains followed by CiviCRM)."""
        if not crm_id.isdigit():
            return None
        values = self.client.call("Contact", "getMergedTo", {"contact_id": int(crm_id)}).get("values", [])
        return str(values[0]["id"]) if values else None
