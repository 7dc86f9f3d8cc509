"""The party's organisation tree as Organization contacts (national, regions, branches …)."""

import random
from dataclasses import dataclass, field

import orjson

from crm_sync.simulator.data.municipalities import MUNICIPALITIES
from crm_sync.simulator.data.places import PROVINCES
from crm_sync.simulator.data.vocabulary import (
    KNOWLEDGE_GROUPS,
    NATIONAL_COMMITTEES,
    NATIONAL_FACTIONS,
    PARTY_CODE,
    PARTY_NAME,
    YOUTH_ORGANISATION_NAME,
)

#: Column order of civicrm_contact rows produced by the generator.
CONTACT_COLUMNS: tuple[str, ...] = (
    "id",
    "contact_type",
    "contact_sub_type",
    "display_name",
    "sort_name",
    "first_name",
    "middle_name",
    "last_name",
    "organization_name",
    "external_identifier",
    "is_deleted",
    "is_deceased",
    "birth_date",
    "gender_id",
    "do_not_phone",
    "do_not_email",
    "is_opt_out",
    "preferred_language",
    "created_date",
    "modified_date",
    "party_member_branch_id",
    "party_member_directory_consent",
    "party_member_interests",
    "party_member_competences",
    "party_unit_parent_id",
    "party_unit_level",
    "party_unit_code",
    "party_unit_municipality",
    "party_unit_province",
)

# The CRM was migrated to CiviCRM in 2012; units got their rows then.
UNITS_CREATED = "2012-03-01 09:00:00"


@dataclass(frozen=True)
class Unit:
    """One org unit as the generator needs it for placing members and positions."""

    id: int
    name: str
    sub_type: str
    code: str
    parent_id: int | None
    province: str | None = None
    municipality: str | None = None
    population: int = 0
    province_code: str | None = None
    level: str = "local"


@dataclass
class OrgTree:
    """All generated units, grouped by kind, plus their contact rows."""

    national: Unit | None = None
    regions: dict[str, Unit] = field(default_factory=dict)
    branches: list[Unit] = field(default_factory=list)
    factions: list[Unit] = field(default_factory=list)
    knowledge_groups: list[Unit] = field(default_factory=list)
    committees: list[Unit] = field(default_factory=list)
    youth: list[Unit] = field(default_factory=list)
    rows: list[tuple[object, ...]] = field(default_factory=list)


def municipality_city(name: str) -> str:
    """Return a municipality name without CBS's disambiguation suffix ("Bergen (L.)")."""
    return name.split(" (")[0]


class _TreeBuilder:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.tree = OrgTree()
        self.next_id = 1

    def add(
        self,
        name: str,
        sub_type: str,
        code: str,
        parent: Unit | None,
        level: str,
        *,
        province: str | None = None,
        municipality: str | None = None,
        population: int = 0,
        province_code: str | None = None,
    ) -> Unit:
        unit = Unit(
            self.next_id,
            name,
            sub_type,
            code,
            parent.id if parent else None,
            province,
            municipality,
            population,
            province_code,
            level,
        )
        self.next_id += 1
        modified = (
            f"20{self.rng.randint(14, 25)}-{self.rng.randint(1, 12):02d}-"
            f"{self.rng.randint(1, 28):02d} {self.rng.randint(8, 22):02d}:"
            f"{self.rng.randint(0, 59):02d}:{self.rng.randint(0, 59):02d}"
        )
        self.tree.rows.append(
            (
                unit.id,
                "Organization",
                orjson.dumps([sub_type]).decode(),
                name,
                name,
                None,
                None,
                None,
                name,
                None,
                0,
                0,
                None,
                None,
                0,
                0,
                0,
                "nl_NL",
                UNITS_CREATED,
                modified,
                None,
                None,
                None,
                None,
                unit.parent_id,
                level,
                code,
                municipality,
                province,
            )
        )
        return unit


def build_org_tree(rng: random.Random) -> OrgTree:
    """Build the org tree: national, 12 regions, branches, factions, groups, youth."""
    builder = _TreeBuilder(rng)
    tree = builder.tree
    national = builder.add(PARTY_NAME, "National", PARTY_CODE, None, "national")
    tree.national = national
    province_names = {code: name for code, name, _ in PROVINCES}
    for code, name, _ in PROVINCES:
        tree.regions[code] = builder.add(f"Regio {name}", "Region", code, national, "regional", province=name)
    for name, province, gm_code, population in MUNICIPALITIES:
        region = tree.regions[province]
        tree.branches.append(
            builder.add(
                f"Afdeling {municipality_city(name)}",
                "Branch",
                gm_code,
                region,
                "local",
                province=province_names[province],
                municipality=name,
                population=population,
                province_code=province,
            )
        )
    for branch in tree.branches:
        # Bigger municipalities nearly always have a council seat; small ones often not.
        if rng.random() < 0.45 + min(0.5, branch.population / 100):
            tree.factions.append(
                builder.add(
                    f"Fractie {municipality_city(branch.municipality or '')}",
                    "Faction",
                    f"FR-{branch.code}",
                    branch,
                    "local",
                    province=branch.province,
                    municipality=branch.municipality,
                    population=branch.population,
                )
            )
    for code, region in tree.regions.items():
        tree.factions.append(
            builder.add(
                f"Statenfractie {province_names[code]}",
                "Faction",
                f"FR-{code}",
                region,
                "regional",
                province=province_names[code],
                population=120,
            )
        )
    for code, name in NATIONAL_FACTIONS:
        tree.factions.append(builder.add(name, "Faction", code, national, "national", population=400))
    for code, name in KNOWLEDGE_GROUPS:
        tree.knowledge_groups.append(
            builder.add(f"Thema-afdeling {name}", "Knowledge_Group", code, national, "national")
        )
    for code, name in NATIONAL_COMMITTEES:
        tree.committees.append(builder.add(name, "Committee", code, national, "national"))
    for code in ("NH", "ZH", "NB", "GE"):
        tree.committees.append(
            builder.add(
                f"Regionale Kandidaatstellingscommissie {province_names[code]}",
                "Committee",
                f"CIE-KAN-{code}",
                tree.regions[code],
                "regional",
                province=province_names[code],
            )
        )
    youth = builder.add(YOUTH_ORGANISATION_NAME, "Youth_Organisation", "JV", national, "national")
    tree.youth.append(youth)
    for code, name, _ in PROVINCES:
        tree.youth.append(
            builder.add(
                f"{YOUTH_ORGANISATION_NAME} {name}",
                "Youth_Organisation",
                f"JV-{code}",
                youth,
                "regional",
                province=name,
            )
        )
    return tree
