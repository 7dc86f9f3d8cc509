"""How the party lives in Tryton (docs/tryton-mapping.md): party categories and relation types by name.

Only standard modules are used (`party`, `party_relationship`): statuses, preferences, interests and
the kind of an org unit are categories; membership of a branch, the org tree and positions are
relations with start and end dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from portal.members.models import MembershipStatus, OrgLevel, OrgUnitKind, PositionFunction

STATUS_ROOT = "Lidmaatschap"
STATUSES = {
    "Nieuw": MembershipStatus.NEW,
    "Actief": MembershipStatus.CURRENT,
    "Respijt": MembershipStatus.GRACE,
    "Vervallen": MembershipStatus.LAPSED,
    "Opgezegd": MembershipStatus.CANCELLED,
    "Overleden": MembershipStatus.DECEASED,
}
PREFERENCE_ROOT = "Voorkeuren"
FLAGS = {"Niet bellen": "do_not_call", "Geen e-mail": "do_not_email", "Ledengids": "directory_consent"}
INTEREST_ROOT, COMPETENCE_ROOT = "Interesse", "Competentie"
UNIT_ROOT = "Partij-eenheid"
UNIT_KINDS = {
    "Landelijk": OrgUnitKind.NATIONAL,
    "Regio": OrgUnitKind.REGION,
    "Afdeling": OrgUnitKind.BRANCH,
    "Fractie": OrgUnitKind.FACTION,
    "Kennisgroep": OrgUnitKind.KNOWLEDGE_GROUP,
    "Commissie": OrgUnitKind.COMMITTEE,
    "Jongerenorganisatie": OrgUnitKind.YOUTH_ORGANISATION,
}
LEVEL_ROOT = "Niveau"
LEVELS = {"landelijk": OrgLevel.NATIONAL, "regionaal": OrgLevel.REGIONAL, "lokaal": OrgLevel.LOCAL}
MEMBER_OF = ("Lid van", "Heeft als lid")
PART_OF = ("Onderdeel van", "Heeft als onderdeel")
POSITIONS = {
    "Voorzitter van": PositionFunction.CHAIR,
    "Secretaris van": PositionFunction.SECRETARY,
    "Penningmeester van": PositionFunction.TREASURER,
    "Bestuurslid van": PositionFunction.BOARD_MEMBER,
    "Raadslid van": PositionFunction.COUNCIL_MEMBER,
    "Fractievoorzitter van": PositionFunction.FACTION_LEADER,
    "Coördinator van": PositionFunction.COORDINATOR,
    "Groepslid van": PositionFunction.GROUP_MEMBER,
    "Steward van": PositionFunction.STEWARD,
    "Ledenadministrateur van": PositionFunction.MEMBERSHIP_ADMINISTRATOR,
    "Regiosecretaris van": PositionFunction.REGIONAL_SECRETARY,
}
NOT_PUBLIC = frozenset({PositionFunction.STEWARD, PositionFunction.MEMBERSHIP_ADMINISTRATOR})
# Replica fields Tryton's standard modules have no place for: an edit of one is refused, not lost.
UNMAPPED_FIELDS = frozenset({"birth_date"})
CATEGORY_TREE: dict[str, list[str]] = {
    STATUS_ROOT: list(STATUSES),
    PREFERENCE_ROOT: list(FLAGS),
    INTEREST_ROOT: [],
    COMPETENCE_ROOT: [],
    UNIT_ROOT: list(UNIT_KINDS),
    LEVEL_ROOT: list(LEVELS),
}


class Rpc(Protocol):
    """The part of the client the vocabulary needs."""

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """One JSON-RPC call."""


@dataclass
class Vocabulary:
    """Category and relation-type ids of one Tryton database, looked up by the names above."""

    categories: dict[int, tuple[str, str]] = field(default_factory=dict)  # id → (root name, name)
    category_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    relation_types: dict[int, str] = field(default_factory=dict)
    relation_type_ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, rpc: Rpc) -> Vocabulary:
        """Read every category and relation type once."""
        vocabulary = cls()
        rows = rpc.call(
            "model.party.category.search_read", [], 0, None, [["id", "ASC"]], ["id", "name", "parent"], {}
        )
        names = {row["id"]: row["name"] for row in rows}
        for row in rows:
            root = names.get(row["parent"], "") if row["parent"] else ""
            vocabulary.categories[row["id"]] = (root, row["name"])
            vocabulary.category_ids[(root, row["name"])] = row["id"]
        for row in rpc.call(
            "model.party.relation.type.search_read", [], 0, None, [["id", "ASC"]], ["id", "name"], {}
        ):
            vocabulary.relation_types[row["id"]] = row["name"]
            vocabulary.relation_type_ids[row["name"]] = row["id"]
        return vocabulary

    def category(self, root: str, name: str) -> int | None:
        """The id of category `name` under `root`."""
        return self.category_ids.get((root, name))

    def under(self, root: str) -> dict[int, str]:
        """Ids and names of the categories under `root`."""
        return {cid: name for cid, (parent, name) in self.categories.items() if parent == root}

    def relation_type(self, name: str) -> int:
        """The id of a relation type; a missing one is a setup error."""
        try:
            return self.relation_type_ids[name]
        except KeyError:
            raise LookupError(f"Tryton has no relation type {name!r}; see docs/tryton-mapping.md") from None


def ensure_vocabulary(rpc: Rpc) -> Vocabulary:
    """Create the categories and relation types the portal reads (setup of a new Tryton database)."""
    vocabulary = Vocabulary.load(rpc)
    for root, children in CATEGORY_TREE.items():
        root_id = vocabulary.category("", root)
        if root_id is None:
            root_id = rpc.call("model.party.category.create", [{"name": root}], {})[0]
        missing = [
            {"name": name, "parent": root_id} for name in children if vocabulary.category(root, name) is None
        ]
        if missing:
            rpc.call("model.party.category.create", missing, {})
    pairs = [MEMBER_OF, PART_OF, *((name, f"Heeft als {name.split()[0].lower()}") for name in POSITIONS)]
    for forward, backward in pairs:
        if forward in vocabulary.relation_type_ids:
            continue
        forward_id, backward_id = rpc.call(
            "model.party.relation.type.create", [{"name": forward}, {"name": backward}], {}
        )
        rpc.call(
            "model.party.relation.type.write",
            [forward_id],
            {"reverse": backward_id},
            [backward_id],
            {"reverse": forward_id},
            {},
        )
    return Vocabulary.load(rpc)


def parse_party_name(text: str) -> tuple[str, str, str]:
    """Tryton keeps one name; the portal writes it as 'Vries, Jan de' and reads it back into three parts."""
    family, comma, rest = text.partition(",")
    if not comma:
        return "", "", text.strip()
    words = rest.split()
    infix: list[str] = []
    while words and (words[-1][:1].islower() or words[-1][:1] == "'"):
        infix.insert(0, words.pop())
    return " ".join(words), " ".join(infix), family.strip()
