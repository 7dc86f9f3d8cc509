"""The APIv4 entities the simulator serves: their fields, tables and implicit joins."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from crm_sync.simulator import options

Kind = Literal["int", "str", "bool", "date", "datetime", "list"]


@dataclass(frozen=True)
class Field:
    """One API field and the column behind it."""

    name: str
    column: str
    kind: Kind = "str"
    #: suffix ("name", "label", "abbr") → {option id: value}
    options: Mapping[str, Mapping[int, str]] = field(default_factory=dict)
    writable: bool = True
    #: custom fields ("Party_Member.*") are not part of "*", as in CiviCRM
    in_star: bool = True


@dataclass(frozen=True)
class Join:
    """An implicit join usable as "prefix.field" in select/where/orderBy."""

    entity: str
    #: "primary": the child row with is_primary = 1; "fk": the row this column points at
    how: Literal["primary", "fk"]
    column: str


@dataclass(frozen=True)
class Entity:
    """An APIv4 entity backed by one table."""

    name: str
    table: str
    fields: Mapping[str, Field]
    joins: Mapping[str, Join] = field(default_factory=dict)
    #: writes bump the owning contact's modified_date (Email, Phone, Address)
    contact_child: bool = False
    #: the entity keeps its own modified_date (Relationship)
    own_modified_date: bool = False
    #: index on (modified_date, id), used when a delta's lower bound leaves few rows
    modified_index: str | None = None


def _fields(*items: Field) -> dict[str, Field]:
    return {item.name: item for item in items}


def _plain(name: str, kind: Kind = "str", *, writable: bool = True) -> Field:
    return Field(name, name, kind, writable=writable)


def _custom(group: str, name: str, kind: Kind) -> Field:
    return Field(f"{group}.{name}", f"{group.lower()}_{name}", kind, in_star=False)


_ID = _plain("id", "int", writable=False)
_NAMED_LOCATION = {"name": options.LOCATION_TYPE_NAMES, "label": options.LOCATION_TYPE_NAMES}

CONTACT = Entity(
    "Contact",
    "civicrm_contact",
    _fields(
        _ID,
        _plain("contact_type"),
        _plain("contact_sub_type", "list"),
        _plain("display_name", writable=False),
        _plain("sort_name", writable=False),
        _plain("first_name"),
        _plain("middle_name"),
        _plain("last_name"),
        _plain("organization_name"),
        _plain("external_identifier"),
        _plain("is_deleted", "bool"),
        _plain("is_deceased", "bool"),
        _plain("birth_date", "date"),
        Field(
            "gender_id", "gender_id", "int", {"name": options.GENDER_NAMES, "label": options.GENDER_LABELS}
        ),
        _plain("do_not_phone", "bool"),
        _plain("do_not_email", "bool"),
        _plain("is_opt_out", "bool"),
        _plain("preferred_language"),
        _plain("created_date", "datetime", writable=False),
        _plain("modified_date", "datetime", writable=False),
        _custom("Party_Member", "branch_id", "int"),
        _custom("Party_Member", "directory_consent", "bool"),
        _custom("Party_Member", "interests", "list"),
        _custom("Party_Member", "competences", "list"),
        _custom("Party_Unit", "parent_id", "int"),
        _custom("Party_Unit", "level", "str"),
        _custom("Party_Unit", "code", "str"),
        _custom("Party_Unit", "municipality", "str"),
        _custom("Party_Unit", "province", "str"),
    ),
    joins={
        "email_primary": Join("Email", "primary", "contact_id"),
        "phone_primary": Join("Phone", "primary", "contact_id"),
        "address_primary": Join("Address", "primary", "contact_id"),
    },
    modified_index="contact_modified",
)

EMAIL = Entity(
    "Email",
    "civicrm_email",
    _fields(
        _ID,
        _plain("contact_id", "int"),
        _plain("email"),
        _plain("is_primary", "bool"),
        Field("location_type_id", "location_type_id", "int", _NAMED_LOCATION),
        _plain("on_hold", "int"),
    ),
    joins={"contact_id": Join("Contact", "fk", "contact_id")},
    contact_child=True,
)

PHONE = Entity(
    "Phone",
    "civicrm_phone",
    _fields(
        _ID,
        _plain("contact_id", "int"),
        _plain("phone"),
        _plain("phone_numeric", writable=False),
        Field(
            "phone_type_id",
            "phone_type_id",
            "int",
            {"name": options.PHONE_TYPE_NAMES, "label": options.PHONE_TYPE_NAMES},
        ),
        Field("location_type_id", "location_type_id", "int", _NAMED_LOCATION),
        _plain("is_primary", "bool"),
    ),
    joins={"contact_id": Join("Contact", "fk", "contact_id")},
    contact_child=True,
)

ADDRESS = Entity(
    "Address",
    "civicrm_address",
    _fields(
        _ID,
        _plain("contact_id", "int"),
        _plain("street_name"),
        _plain("street_number", "int"),
        _plain("street_number_suffix"),
        _plain("street_address"),
        _plain("postal_code"),
        _plain("city"),
        Field(
            "country_id",
            "country_id",
            "int",
            {
                "abbr": options.COUNTRY_ABBREVIATIONS,
                "name": options.COUNTRY_NAMES,
                "label": options.COUNTRY_NAMES,
            },
        ),
        Field("location_type_id", "location_type_id", "int", _NAMED_LOCATION),
        _plain("is_primary", "bool"),
    ),
    joins={"contact_id": Join("Contact", "fk", "contact_id")},
    contact_child=True,
)

MEMBERSHIP = Entity(
    "Membership",
    "civicrm_membership",
    _fields(
        _ID,
        _plain("contact_id", "int"),
        Field(
            "membership_type_id",
            "membership_type_id",
            "int",
            {"name": options.MEMBERSHIP_TYPE_NAMES, "label": options.MEMBERSHIP_TYPE_NAMES},
        ),
        Field(
            "status_id",
            "status_id",
            "int",
            {"name": options.MEMBERSHIP_STATUS_NAMES, "label": options.MEMBERSHIP_STATUS_LABELS},
        ),
        _plain("join_date", "date"),
        _plain("start_date", "date"),
        _plain("end_date", "date"),
        _plain("is_override", "bool"),
    ),
    joins={"contact_id": Join("Contact", "fk", "contact_id")},
)

RELATIONSHIP = Entity(
    "Relationship",
    "civicrm_relationship",
    _fields(
        _ID,
        _plain("contact_id_a", "int"),
        _plain("contact_id_b", "int"),
        Field(
            "relationship_type_id",
            "relationship_type_id",
            "int",
            {"name": options.RELATIONSHIP_TYPE_NAMES, "label": options.RELATIONSHIP_TYPE_LABELS},
        ),
        _plain("start_date", "date"),
        _plain("end_date", "date"),
        _plain("is_active", "bool"),
        _plain("description"),
        _plain("created_date", "datetime", writable=False),
        _plain("modified_date", "datetime", writable=False),
        _custom("Party_Position", "is_public", "bool"),
    ),
    joins={
        "contact_id_a": Join("Contact", "fk", "contact_id_a"),
        "contact_id_b": Join("Contact", "fk", "contact_id_b"),
    },
    own_modified_date=True,
    modified_index="relationship_modified",
)

GROUP = Entity(
    "Group",
    "civicrm_group",
    _fields(
        _ID,
        _plain("name"),
        _plain("title"),
        _plain("is_active", "bool"),
    ),
)

GROUP_CONTACT = Entity(
    "GroupContact",
    "civicrm_group_contact",
    _fields(
        _ID,
        _plain("group_id", "int"),
        _plain("contact_id", "int"),
        _plain("status"),
    ),
    joins={"contact_id": Join("Contact", "fk", "contact_id"), "group_id": Join("Group", "fk", "group_id")},
)

ENTITIES: Mapping[str, Entity] = {
    entity.name: entity
    for entity in (CONTACT, EMAIL, PHONE, ADDRESS, MEMBERSHIP, RELATIONSHIP, GROUP, GROUP_CONTACT)
}
