"""Option values (pseudoconstants) with CiviCRM's ids, names and labels."""

from collections.abc import Mapping
from typing import Final

MEMBERSHIP_STATUS_NAMES: Final[Mapping[int, str]] = {
    1: "New",
    2: "Current",
    3: "Grace",
    4: "Expired",
    5: "Pending",
    6: "Cancelled",
    7: "Deceased",
}
MEMBERSHIP_STATUS_LABELS: Final[Mapping[int, str]] = {
    1: "Nieuw",
    2: "Actief",
    3: "Respijt",
    4: "Verlopen",
    5: "In afwachting",
    6: "Opgezegd",
    7: "Overleden",
}
MEMBERSHIP_TYPE_NAMES: Final[Mapping[int, str]] = {1: "Lid", 2: "Jongerenlid"}

# Ids 1-10 are CiviCRM's built-in relationship types; the party's own types follow them.
RELATIONSHIP_TYPE_NAMES: Final[Mapping[int, str]] = {
    11: "Chair_of",
    12: "Secretary_of",
    13: "Treasurer_of",
    14: "Board_member_of",
    15: "Council_member_of",
    16: "Faction_leader_of",
    17: "Coordinator_of",
    18: "Member_of_group",
    19: "Steward_of",
    20: "Membership_administrator_of",
    21: "Regional_secretary_of",
}
RELATIONSHIP_TYPE_LABELS: Final[Mapping[int, str]] = {
    11: "Voorzitter van",
    12: "Secretaris van",
    13: "Penningmeester van",
    14: "Bestuurslid van",
    15: "Raadslid van",
    16: "Fractievoorzitter van",
    17: "Coördinator van",
    18: "Lid van",
    19: "Steward van",
    20: "Ledenadministrateur van",
    21: "Regiosecretaris van",
}
LOCATION_TYPE_NAMES: Final[Mapping[int, str]] = {
    1: "Home",
    2: "Work",
    3: "Main",
    4: "Other",
    5: "Billing",
}
PHONE_TYPE_NAMES: Final[Mapping[int, str]] = {
    1: "Phone",
    2: "Mobile",
    3: "Fax",
    4: "Pager",
    5: "Voicemail",
}
GENDER_NAMES: Final[Mapping[int, str]] = {1: "Female", 2: "Male", 3: "Other"}
GENDER_LABELS: Final[Mapping[int, str]] = {1: "Vrouw", 2: "Man", 3: "Anders"}
COUNTRY_ABBREVIATIONS: Final[Mapping[int, str]] = {1152: "NL", 1020: "BE", 1082: "DE"}
COUNTRY_NAMES: Final[Mapping[int, str]] = {
    1152: "Netherlands",
    1020: "Belgium",
    1082: "Germany",
}
NETHERLANDS: Final = 1152
