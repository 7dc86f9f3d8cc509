"""Positions (board seats, faction seats, group roles) as CiviCRM Relationship rows."""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from crm_sync.simulator.options import RELATIONSHIP_TYPE_LABELS, RELATIONSHIP_TYPE_NAMES
from crm_sync.simulator.org_tree import OrgTree, Unit
from crm_sync.simulator.people import BASE_DATE

_TYPE_IDS = {name: type_id for type_id, name in RELATIONSHIP_TYPE_NAMES.items()}
_BOARD = ("Chair_of", "Secretary_of", "Treasurer_of")


@dataclass
class Pools:
    """Contact ids of people who can hold a position, by where they live."""

    by_branch: dict[int, list[int]] = field(default_factory=dict)
    by_region: dict[int, list[int]] = field(default_factory=dict)
    everyone: list[int] = field(default_factory=list)
    youth: list[int] = field(default_factory=list)

    def add(self, contact_id: int, branch: Unit, *, is_young: bool) -> None:
        """Register an eligible member living in `branch`."""
        self.by_branch.setdefault(branch.id, []).append(contact_id)
        if branch.parent_id is not None:
            self.by_region.setdefault(branch.parent_id, []).append(contact_id)
        self.everyone.append(contact_id)
        if is_young:
            self.youth.append(contact_id)


class _PositionBuilder:
    def __init__(self, rng: random.Random, pools: Pools, first_id: int) -> None:
        self.rng = rng
        self.pools = pools
        self.next_id = first_id
        self.rows: list[tuple[object, ...]] = []
        self.today = BASE_DATE.toordinal()

    def pick(self, *candidates: Sequence[int]) -> int | None:
        for pool in candidates:
            if pool:
                return pool[int(self.rng.random() * len(pool))]
        return None

    def _row(
        self, person: int, unit: Unit, type_name: str, start: int, end: int | None, is_public: bool
    ) -> None:
        rand = self.rng.random
        type_id = _TYPE_IDS[type_name]
        created = (
            f"{date.fromordinal(start).isoformat()} {9 + int(rand() * 12):02d}:"
            f"{int(rand() * 60):02d}:{int(rand() * 60):02d}"
        )
        modified_day = min(self.today - 1, (end or start) + int(rand() * 30))
        modified = (
            f"{date.fromordinal(max(modified_day, start)).isoformat()} "
            f"{9 + int(rand() * 12):02d}:{int(rand() * 60):02d}:{int(rand() * 60):02d}"
        )
        modified = max(modified, created)
        self.rows.append(
            (
                self.next_id,
                person,
                unit.id,
                type_id,
                date.fromordinal(start).isoformat(),
                None if end is None else date.fromordinal(end).isoformat(),
                int(end is None),
                f"{RELATIONSHIP_TYPE_LABELS[type_id]} {unit.name}",
                created,
                modified,
                int(is_public),
            )
        )
        self.next_id += 1

    def seat(
        self,
        unit: Unit,
        type_name: str,
        pool: Sequence[Sequence[int]],
        *,
        is_public: bool = True,
        vacancy: float = 0.0,
    ) -> None:
        """Fill one seat, sometimes with an ended predecessor, sometimes left vacant."""
        rand = self.rng.random
        vacant = rand() < vacancy
        has_predecessor = rand() < (0.6 if vacant else 0.11)
        start = self.today - 30 - int(rand() * 2900)
        if has_predecessor:
            predecessor = self.pick(*pool)
            if predecessor is not None:
                end = (self.today - 10 - int(rand() * 300)) if vacant else start - 1
                self._row(predecessor, unit, type_name, end - 200 - int(rand() * 2000), end, is_public)
        if vacant:
            return
        holder = self.pick(*pool)
        if holder is not None:
            self._row(holder, unit, type_name, start, None, is_public and rand() >= 0.03)

    def board(
        self, unit: Unit, pool: Sequence[Sequence[int]], *, chair_vacancy: float, max_members: int = 4
    ) -> None:
        """Chair, secretary, treasurer and a few board members."""
        for type_name in _BOARD:
            self.seat(unit, type_name, pool, vacancy=chair_vacancy if type_name == "Chair_of" else 0.02)
        for _ in range(int(self.rng.random() * (max_members + 1))):
            self.seat(unit, "Board_member_of", pool)


def build_positions(
    rng: random.Random, tree: OrgTree, pools: Pools, *, members: int, first_id: int = 1
) -> list[tuple[object, ...]]:
    """Generate all positions for the tree, choosing holders from the pools."""
    builder = _PositionBuilder(rng, pools, first_id)
    everyone = pools.everyone
    national = tree.national
    assert national is not None
    builder.board(national, [everyone], chair_vacancy=0.0)
    for _ in range(3):
        builder.seat(national, "Membership_administrator_of", [everyone], is_public=False)
    for region in tree.regions.values():
        region_pool = [pools.by_region.get(region.id, []), everyone]
        builder.board(region, region_pool, chair_vacancy=0.0)
        builder.seat(region, "Regional_secretary_of", region_pool)
    for branch in tree.branches:
        branch_pool = [
            pools.by_branch.get(branch.id, []),
            pools.by_region.get(branch.parent_id or 0, []),
            everyone,
        ]
        builder.board(branch, branch_pool, chair_vacancy=0.05)
        if rng.random() < 0.3:
            for _ in range(1 + int(rng.random() * 2)):
                builder.seat(branch, "Steward_of", branch_pool, is_public=False)
    for faction in tree.factions:
        parent = faction.parent_id or 0
        faction_pool = [pools.by_branch.get(parent, []), pools.by_region.get(parent, []), everyone]
        builder.seat(faction, "Faction_leader_of", faction_pool)
        if faction.level == "national":
            seats = 3 + int(rng.random() * 12)
        elif faction.level == "regional":
            seats = 1 + int(rng.random() * 5)
        else:
            seats = int(rng.random() * (2 + min(faction.population // 40, 6)))
        for _ in range(seats):
            builder.seat(faction, "Council_member_of", faction_pool)
    group_size = max(3, min(200, members // 2000))
    for group in tree.knowledge_groups:
        for _ in range(1 + int(rng.random() * 2)):
            builder.seat(group, "Coordinator_of", [everyone])
        for _ in range(group_size // 2 + int(rng.random() * group_size)):
            builder.seat(group, "Member_of_group", [everyone], is_public=rng.random() < 0.4)
    for committee in tree.committees:
        builder.seat(committee, "Chair_of", [everyone])
        for _ in range(2 + int(rng.random() * 5)):
            builder.seat(committee, "Member_of_group", [everyone])
    youth_pool = [pools.youth, everyone]
    for index, unit in enumerate(tree.youth):
        if index == 0:
            builder.board(unit, youth_pool, chair_vacancy=0.0, max_members=2)
        else:
            builder.seat(unit, "Chair_of", youth_pool, vacancy=0.1)
            builder.seat(unit, "Secretary_of", youth_pool)
    return builder.rows
