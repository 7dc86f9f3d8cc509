"""CiviCRM's names for the party's concepts (the vocabulary of docs/civicrm-contract.md)."""

from __future__ import annotations

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
# The portal's replica fields written through Contact itself (the rest live in Email/Phone/Address).
CONTACT_FIELDS = {
    "given_name": "first_name",
    "infix": "middle_name",
    "family_name": "last_name",
    "birth_date": "birth_date",
    "do_not_call": "do_not_phone",
    "do_not_email": "do_not_email",
    "directory_consent": "Party_Member.directory_consent",
    "interests": "Party_Member.interests",
    "competences": "Party_Member.competences",
}
ADDRESS_FIELDS = {
    "street": "street_name",
    "house_number": "street_number",
    "house_number_suffix": "street_number_suffix",
    "postcode": "postal_code",
    "city": "city",
    "country": "country_id:abbr",
}
PHONE_TYPES = {"mobile": "Mobile", "phone": "Phone"}
INDIVIDUAL_SELECT = [
    "id",
    "external_identifier",
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "do_not_phone",
    "do_not_email",
    "is_opt_out",
    "is_deleted",
    "is_deceased",
    "modified_date",
    "email_primary.email",
    "phone_primary.phone",
    "phone_primary.phone_type_id:name",
    "address_primary.street_name",
    "address_primary.street_number",
    "address_primary.street_number_suffix",
    "address_primary.postal_code",
    "address_primary.city",
    "address_primary.country_id:abbr",
    "Party_Member.branch_id",
    "Party_Member.directory_consent",
    "Party_Member.interests",
    "Party_Member.competences",
]
MEMBERSHIP_SELECT = [
    "id",
    "contact_id",
    "status_id:name",
    "join_date",
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
