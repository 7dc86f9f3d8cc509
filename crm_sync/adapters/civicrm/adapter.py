"""CiviCRM as a `CrmPort`: org units from Organization contacts, members from Individuals with their
primary e-mail/phone/address and Membership, positions from Relationships. See docs/civicrm-contract.md."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from crm_sync.adapters.civicrm.client import CiviCrmClient
from crm_sync.adapters.civicrm.schemas import (
    CIVI_DATETIME,
    IndividualSchema,
    MembershipSchema,
    OrganizationSchema,
    RelationshipSchema,
    load_each,
)
from crm_sync.ports import CrmMember, CrmOrgUnit, CrmPosition, InvalidRecord, Page
from portal.members.models import MembershipStatus, OrgLevel, OrgUnitKind, PositionFunction

UNIT_KINDS = {
    "National": OrgUnitKind.NATIONAL,
    "Region": OrgUnitKind.REGION,
    "Branch": OrgUnitKind.BRANCH,
    "Faction": OrgUnitKind.FACTION,
    "Knowledge_Group": OrgUnitKind.KNOWLEDGE_GROUP,
    "Committee": OrgUnitKind.COMMITTEE,
    "Youth_Organisation": OrgUnitKind.YOUTH_ORGANISATION,
}
LEVELS = {"national": OrgLevel.NATIONAL, "regional": OrgLevel.REGIONAL, "local": OrgLevel.LOCAL}
MEMBERSHIP_STATUSES = {
    "New": MembershipStatus.NEW,
    "Current": MembershipStatus.CURRENT,
    "Grace": MembershipStatus.GRACE,
    "Expired": MembershipStatus.LAPSED,
    "Cancelled": MembershipStatus.CANCELLED,
    "Deceased": MembershipStatus.DECEASED,
}
# When a person has several memberships, the most "alive" one describes them.
STATUS_RANK = {
    MembershipStatus.CURRENT: 0,
    MembershipStatus.NEW: 1,
    MembershipStatus.GRACE: 2,
    MembershipStatus.LAPSED: 3,
    MembershipStatus.CANCELLED: 4,
    MembershipStatus.DECEASED: 5,
}
POSITION_FUNCTIONS = {
    "Chair_of": PositionFunction.CHAIR,
    "Secretary_of": PositionFunction.SECRETARY,
    "Treasurer_of": PositionFunction.TREASURER,
    "Board_member_of": PositionFunction.BOARD_MEMBER,
    "Council_member_of": PositionFunction.COUNCIL_MEMBER,
    "Faction_leader_of": PositionFunction.FACTION_LEADER,
    "Coordinator_of": PositionFunction.COORDINATOR,
    "Member_of_group": PositionFunction.GROUP_MEMBER,
    "Steward_of": PositionFunction.STEWARD,
    "Membership_administrator_of": PositionFunction.MEMBERSHIP_ADMINISTRATOR,
    "Regional_secretary_of": PositionFunction.REGIONAL_SECRETARY,
}
INDIVIDUAL_SELECT = [
    "id", "external_identifier", "first_name", "middle_name", "last_name", "birth_date",
    "do_not_phone", "do_not_email", "is_opt_out", "is_deleted", "is_deceased", "modified_date",
    "email_primary.email", "phone_primary.phone", "phone_primary.phone_type_id:name",
    "address_primary.street_name", "address_primary.street_number", "address_primary.street_number_suffix",
    "address_primary.postal_code", "address_primary.city", "address_primary.country_id:abbr",
    "Party_Member.branch_id", "Party_Member.directory_consent", "Party_Member.interests",
    "Party_Member.competences",
]  # fmt: skip
MEMBERSHIP_SELECT = [
    "id",
    "contact_id",
    "membership_type_id:name",
    "status_id:name",
    "join_date",
    "start_date",
    "end_date",
]
ORGANIZATION_SELECT = [
    "id",
    "organization_name",
    "contact_sub_type",
    "is_deleted",
    "Party_Unit.parent_id",
    "Party_Unit.level",
    "Party_Unit.code",
    "Party_Unit.municipality",
    "Party_Unit.province",
]
RELATIONSHIP_SELECT = [
    "id",
    "contact_id_a",
    "contact_id_b",
    "relationship_type_id:name",
    "start_date",
    "end_date",
    "is_active",
    "Party_Position.is_public",
    "modified_date",
]


def _civi_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(CIVI_DATETIME)


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


class CiviCrmAdapter:
    """Reads (and, with the sync issue, writes) party data through CiviCRM APIv4."""

    name = "civicrm"

    def __init__(self, client: CiviCrmClient, *, page_size: int = 1000) -> None:
        self.client = client
        self.page_size = page_size

    def _keyset(self, entity: str, select: list[str], where: list[Any]) -> Iterator[list[dict[str, Any]]]:
        """Pages of rows ordered by id, each page asking for ids above the last one seen."""
        last_id = 0
        while True:
            body = self.client.call(
                entity,
                "get",
                {
                    "select": select,
                    "where": [*where, ["id", ">", last_id]],
                    "orderBy": {"id": "ASC"},
                    "limit": self.page_size,
                },
            )
            rows: list[dict[str, Any]] = body.get("values", [])
            if not rows:
                return
            yield rows
            last_id = int(rows[-1]["id"])
            if len(rows) < self.page_size:
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

    def _memberships(self, contact_ids: list[int]) -> tuple[dict[int, dict[str, Any]], list[InvalidRecord]]:
        """The most relevant membership per contact, for one page of contacts."""
        body = self.client.call(
            "Membership",
            "get",
            {
                "select": MEMBERSHIP_SELECT,
                "where": [["contact_id", "IN", contact_ids]],
                "orderBy": {"id": "ASC"},
            },
        )
        good, bad = load_each(MembershipSchema(), body.get("values", []))
        invalid = [InvalidRecord("membership", crm_id, errors) for crm_id, errors in bad]
        chosen: dict[int, dict[str, Any]] = {}
        for row in good:
            status = MEMBERSHIP_STATUSES.get(row["status"])
            if status is None:
                invalid.append(InvalidRecord("membership", str(row["id"]), {"status_id:name": ["unknown"]}))
                continue
            row["status"] = status
            current = chosen.get(row["contact_id"])
            if current is None or (STATUS_RANK[status], -(row["end_date"] or date.min).toordinal()) < (
                STATUS_RANK[current["status"]],
                -(current["end_date"] or date.min).toordinal(),
            ):
                chosen[row["contact_id"]] = row
        return chosen, invalid

    def fetch_members(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmMember]]:
        """Individuals that have a membership, trashed ones included (they become tombstones)."""
        where: list[Any] = [["contact_type", "=", "Individual"], ["is_deleted", "IN", [False, True]]]
        if changed_since is not None:
            where.append(["modified_date", ">=", _civi_time(changed_since)])
        for rows in self._keyset("Contact", INDIVIDUAL_SELECT, where):
            good, bad = load_each(IndividualSchema(), rows)
            invalid = [InvalidRecord("member", crm_id, errors) for crm_id, errors in bad]
            memberships, membership_invalid = self._memberships([row["id"] for row in good])
            invalid.extend(membership_invalid)
            members = [self._member(row, memberships[row["id"]]) for row in good if row["id"] in memberships]
            yield Page(members, invalid, cursor=str(rows[-1]["id"]))

    @staticmethod
    def _member(row: dict[str, Any], membership: dict[str, Any]) -> CrmMember:
        status: MembershipStatus = membership["status"]
        if row["is_deceased"]:
            status = MembershipStatus.DECEASED
        is_mobile = row["phone_type"] == "Mobile"
        return CrmMember(
            crm_id=str(row["id"]),
            member_number=row["member_number"],
            given_name=row["first_name"],
            infix=row["middle_name"],
            family_name=row["last_name"],
            status=status,
            branch_crm_id=str(row["branch_id"]) if row["branch_id"] else None,
            email=row["email"],
            mobile=row["phone"] if is_mobile else "",
            phone="" if is_mobile else row["phone"],
            street=row["street_name"],
            house_number=row["street_number"],
            house_number_suffix=row["street_number_suffix"],
            postcode=row["postal_code"],
            city=row["city"],
            country=row["country"] or "NL",
            birth_date=row["birth_date"],
            member_since=membership["join_date"],
            member_until=membership["end_date"]
            if status in (MembershipStatus.CANCELLED, MembershipStatus.DECEASED)
            else None,
            dues_paid_through=membership["end_date"],
            do_not_call=row["do_not_phone"],
            do_not_email=row["do_not_email"] or row["is_opt_out"],
            directory_consent=row["directory_consent"],
            interests=tuple(row["interests"]),
            competences=tuple(row["competences"]),
            modified_at=_aware(row["modified_date"]),
            is_trashed=row["is_deleted"],
        )

    def fetch_positions(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmPosition]]:
        """Relationships of the party's position types."""
        where: list[Any] = [["relationship_type_id:name", "IN", list(POSITION_FUNCTIONS)]]
        if changed_since is not None:
            where.append(["modified_date", ">=", _civi_time(changed_since)])
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
                    modified_at=_aware(row["modified_date"]),
                )
                for row in good
                if row["relationship_type"] in POSITION_FUNCTIONS
            ]
            yield Page(positions, invalid, cursor=str(rows[-1]["id"]))

    def fetch_member_ids(self) -> Iterator[list[str]]:
        """Ids of all Individuals not in the trash, in big pages of ids only."""
        where = [["contact_type", "=", "Individual"], ["is_deleted", "=", False]]
        for rows in self._keyset("Contact", ["id"], where):
            yield [str(row["id"]) for row in rows]

    def close(self) -> None:
        """Release the HTTP session."""
        self.client.close()
