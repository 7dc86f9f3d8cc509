"""Test data for members, org units and positions (tests and benchmarks; never used by the app)."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from crm_sync.simulator.data import names as simulator_names
from portal.core import clock
from portal.members import names
from portal.members.models import (
    Member,
    MembershipStatus,
    OrgLevel,
    OrgUnit,
    OrgUnitKind,
    Position,
    PositionFunction,
)
from portal.members.name_search import member_terms
from portal.members.search_models import MemberSearchTerm

_counter = itertools.count(1)

_LEVELS = {
    OrgUnitKind.NATIONAL: OrgLevel.NATIONAL,
    OrgUnitKind.REGION: OrgLevel.REGIONAL,
    OrgUnitKind.YOUTH_ORGANISATION: OrgLevel.NATIONAL,
}


def make_org_unit(session: Session, *, kind: OrgUnitKind = OrgUnitKind.BRANCH, **overrides: Any) -> OrgUnit:
    """An org unit (default: a branch) with a unique CRM id."""
    number = next(_counter)
    values: dict[str, Any] = {
        "crm_id": f"unit-{number}",
        "name": f"Afdeling {number}",
        "kind": kind,
        "level": _LEVELS.get(kind, OrgLevel.LOCAL),
    }
    values.update(overrides)
    unit = OrgUnit(**values)
    session.add(unit)
    session.flush()
    return unit


def make_member(session: Session, **overrides: Any) -> Member:
    """A current member with a unique number, indexed for name search."""
    number = next(_counter)
    values: dict[str, Any] = {
        "crm_id": f"member-{number}",
        "member_number": f"{100000 + number}",
        "given_name": "Jan",
        "infix": "",
        "family_name": f"Jansen{number}",
        "email": f"lid{number}@example.nl",
        "mobile": "+31612345678",
        "street": "Dorpsstraat",
        "house_number": 1,
        "postcode": "3511 AB",
        "city": "Utrecht",
        "birth_date": date(1980, 5, 17),
        "status": MembershipStatus.CURRENT,
        "member_since": date(2015, 1, 1),
        "dues_paid_through": clock.utcnow().date() + timedelta(days=365),
        "interests": [],
        "competences": [],
    }
    values.update(overrides)
    member = Member(**values)
    member.refresh_sort_name()
    session.add(member)
    session.flush()
    for term in member_terms(member.given_name, member.infix, member.family_name, member.interests):
        session.add(
            MemberSearchTerm(
                term=term, sort_name=member.sort_name[:64], member_id=member.id, branch_id=member.branch_id
            )
        )
    session.flush()
    return member


def add_members_unknown_to_the_crm(session: Session, *, branch_id: int | None, count: int = 40) -> None:
    """Members the CRM does not know: a pull would remove them all (trips the mass-removal guard)."""
    for index in range(count):
        session.add(
            Member(
                crm_id=f"ghost-{index}",
                member_number=f"G{index}",
                family_name="Ghost",
                status=MembershipStatus.CURRENT,
                branch_id=branch_id,
            )
        )


def make_position(
    session: Session, member: Member, unit: OrgUnit, function: PositionFunction, **overrides: Any
) -> Position:
    """A current position (public unless told otherwise)."""
    values: dict[str, Any] = {
        "crm_id": f"position-{next(_counter)}",
        "member_id": member.id,
        "org_unit_id": unit.id,
        "function": function,
        "start_date": date(2024, 1, 1),
        "public": True,
    }
    values.update(overrides)
    position = Position(**values)
    session.add(position)
    session.flush()
    return position


# -- A large party written straight into the database (benchmarks) --------------------------------

_STEMS = (
    "Berg", "Bosch", "Brink", "Dijk", "Veen", "Hof", "Horst", "Kamp", "Laan", "Meer", "Molen", "Sloot",
    "Water", "Wijk", "Zand", "Hout", "Hoek", "Heide", "Kerk", "Dam", "Veld", "Beek", "Broek", "Burg",
    "Haven", "Linde", "Loo", "Rijn", "Steen", "Weide", "Akker", "Boom", "Dal", "Eik", "Gaard", "Heuvel",
    "Kolk", "Polder", "Schans", "Vaart", "Wal", "Wiel", "Zijl", "Ham", "Brug", "Drecht", "Goor", "Kooi",
    "Mark", "Donk", "Rode", "Haar", "Lo", "Stee", "Voort", "Wold", "Holt", "Mors", "Riet", "Vliet",
)  # fmt: skip
_SUFFIXES = ("", "man", "mans", "sma", "stra", "ink", "ing", "huis", "kamp", "hof", "er", "ers", "en",
             "s", "ema", "inga", "ens", "ik", "hout", "land", "veld", "meijer", "broek", "dijk")  # fmt: skip
_PREFIXES = ("", "", "", "Ver", "Groot", "Klein", "Oude", "Nieuwen", "Hooge", "Wester", "Ooster", "Noord")
_INFIXES = ("", "", "", "", "", "", "van", "van der", "de", "van den", "ter", "van de", "in 't")


def _family_names(rng: random.Random) -> list[tuple[str, str]]:
    common = [("", name) for name in simulator_names.PLAIN_FAMILY_NAMES]
    common += list(simulator_names.PREFIXED_FAMILY_NAMES)
    synthetic = sorted(
        {(rng.choice(_INFIXES), f"{prefix}{stem.lower() if prefix else stem}{suffix}")
         for prefix in _PREFIXES for stem in _STEMS for suffix in _SUFFIXES}
    )  # fmt: skip
    rng.shuffle(synthetic)
    return common + synthetic


def _given_names() -> list[str]:
    return [
        *simulator_names.FEMALE_GIVEN_NAMES,
        *simulator_names.MALE_GIVEN_NAMES,
        *simulator_names.OTHER_GIVEN_NAMES,
    ]


def zipf_picker(rng: random.Random, items: list[Any], exponent: float = 1.0) -> list[Any]:
    """A cumulative-weight table for `rng.choices`: the first items are the most common (Zipf)."""
    return list(itertools.accumulate(1 / (rank + 1) ** exponent for rank in range(len(items))))


def generate_party(
    connection: Connection, *, members: int, seed: int = 66, branches: int = 1350
) -> dict[str, int]:
    """National, 12 regions, `branches` branches with factions, groups, and `members` members with
    realistic Dutch names (a Zipf tail of ~15,000 family names), positions and search terms."""
    rng = random.Random(seed)
    today = clock.today()
    units: list[dict[str, Any]] = [
        {"id": 1, "crm_id": "u1", "name": "D66", "kind": OrgUnitKind.NATIONAL, "level": OrgLevel.NATIONAL}
    ]
    regions = list(range(2, 14))
    units += [
        {"id": r, "crm_id": f"u{r}", "name": f"Regio {r - 1}", "kind": OrgUnitKind.REGION,
         "level": OrgLevel.REGIONAL, "parent_id": 1} for r in regions
    ]  # fmt: skip
    branch_ids = list(range(100, 100 + branches))
    units += [
        {"id": b, "crm_id": f"u{b}", "name": f"Afdeling {b}", "kind": OrgUnitKind.BRANCH,
         "level": OrgLevel.LOCAL, "parent_id": regions[b % len(regions)]} for b in branch_ids
    ]  # fmt: skip
    factions = [(10_000 + b, b) for b in branch_ids if rng.random() < 0.6]
    units += [
        {"id": f, "crm_id": f"u{f}", "name": f"Fractie {b}", "kind": OrgUnitKind.FACTION,
         "level": OrgLevel.LOCAL, "parent_id": b} for f, b in factions
    ]  # fmt: skip
    groups = list(range(20_000, 20_040))
    units += [
        {"id": g, "crm_id": f"u{g}", "name": f"Kennisgroep {g}", "kind": OrgUnitKind.KNOWLEDGE_GROUP,
         "level": OrgLevel.NATIONAL, "parent_id": 1} for g in groups
    ]  # fmt: skip
    for unit in units:
        unit.setdefault("parent_id", None)
        unit.update(code="", municipality="", province="")
    connection.execute(insert(OrgUnit), units)

    family = _family_names(rng)
    family_weights = zipf_picker(rng, family, 0.5)
    given = _given_names()
    interests = ["Klimaat", "Onderwijs", "Europa", "Zorg", "Wonen", "Digitalisering", "Economie", "Cultuur"]
    statuses = [MembershipStatus.CURRENT] * 85 + [MembershipStatus.GRACE] * 5 + [MembershipStatus.NEW] * 5
    statuses += [MembershipStatus.LAPSED] * 4 + [MembershipStatus.CANCELLED]
    batch: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    member_branch: dict[int, int] = {}
    for member_id in range(1, members + 1):
        infix, family_name = rng.choices(family, cum_weights=family_weights)[0]
        given_name = rng.choice(given)
        branch = rng.choice(branch_ids)
        chosen = rng.sample(interests, rng.randint(0, 3))
        member_branch[member_id] = branch
        postcode = f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('ABCDEFGH')}"
        batch.append(
            {
                "id": member_id,
                "crm_id": f"c{member_id}",
                "member_number": str(1_000_000 + member_id),
                "given_name": given_name,
                "infix": infix,
                "family_name": family_name,
                "sort_name": names.sort_key(given_name, infix, family_name),
                "email": f"lid{member_id}@example.nl",
                "mobile": f"+3161{member_id:07d}",
                "phone": "",
                "street": "Dorpsstraat",
                "house_number": rng.randint(1, 300),
                "house_number_suffix": "",
                "postcode": postcode,
                "city": "Utrecht",
                "country": "NL",
                "birth_date": today - timedelta(days=rng.randint(16 * 365, 95 * 365)),
                "branch_id": branch,
                "status": rng.choice(statuses),
                "member_since": today - timedelta(days=rng.randint(0, 40 * 365)),
                "member_until": None,
                "dues_paid_through": today + timedelta(days=rng.randint(-200, 365)),
                "do_not_call": rng.random() < 0.05,
                "do_not_email": rng.random() < 0.03,
                "directory_consent": rng.random() < 0.6,
                "interests": chosen,
                "competences": [],
                "row_hash": "",
                "version": 1,
            }
        )
        terms += [
            {"term": t, "sort_name": batch[-1]["sort_name"][:64], "member_id": member_id, "branch_id": branch}
            for t in member_terms(given_name, infix, family_name, chosen)
        ]
        if len(batch) >= 5000:
            connection.execute(insert(Member), batch)
            connection.execute(insert(MemberSearchTerm), terms)
            batch, terms = [], []
    if batch:
        connection.execute(insert(Member), batch)
        connection.execute(insert(MemberSearchTerm), terms)

    positions: list[dict[str, Any]] = []
    by_branch: dict[int, list[int]] = {}
    for member_id, branch in member_branch.items():
        by_branch.setdefault(branch, []).append(member_id)
    seats = [PositionFunction.CHAIR, PositionFunction.SECRETARY, PositionFunction.TREASURER]
    seats += [PositionFunction.BOARD_MEMBER] * 2
    for branch, people in by_branch.items():
        for function in seats:
            if people and rng.random() > 0.05:
                positions.append(
                    {"member_id": rng.choice(people), "org_unit_id": branch, "function": function}
                )
    for faction, branch in factions:
        for function in [PositionFunction.FACTION_LEADER] + [PositionFunction.COUNCIL_MEMBER] * rng.randint(
            1, 5
        ):
            if by_branch.get(branch):
                positions.append(
                    {"member_id": rng.choice(by_branch[branch]), "org_unit_id": faction, "function": function}
                )
    for index, row in enumerate(positions):
        row.update(crm_id=f"p{index}", start_date=today - timedelta(days=rng.randint(1, 2000)), end_date=None,
                   public=rng.random() > 0.03)  # fmt: skip
    connection.execute(insert(Position), positions)
    return {"org_units": len(units), "members": members, "positions": len(positions)}
