"""The Tryton read path: members are parties with a membership category, org units parties with a unit
category, positions relations (`party.relation.all`). Every table has its own `last_modified_at`, and
writing a contact mechanism directly does not touch the party's, so each is asked for its changes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from crm_sync import mapping
from crm_sync.adapters.tryton.client import TrytonClient
from crm_sync.adapters.tryton.vocabulary import (
    COMPETENCE_ROOT,
    FLAGS,
    INTEREST_ROOT,
    LEVEL_ROOT,
    LEVELS,
    MEMBER_OF,
    NOT_PUBLIC,
    PART_OF,
    POSITIONS,
    PREFERENCE_ROOT,
    STATUS_ROOT,
    STATUSES,
    UNIT_KINDS,
    UNIT_ROOT,
    Vocabulary,
    parse_party_name,
)
from crm_sync.ports import CrmMember, CrmMembershipState, CrmOrgUnit, CrmPosition, InvalidRecord, Page
from portal.members.models import MembershipStatus

ALL = {"active_test": False}
PARTY_FIELDS = ["id", "code", "name", "active", "categories", "last_modified_at", "replaced_by"]
RELATION_FIELDS = ["id", "from_", "to", "type", "start_date", "end_date", "last_modified_at"]


def aware(moment: datetime | None) -> datetime | None:
    """Tryton's naive UTC as an aware datetime."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def _newest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return max(present) if present else None


@dataclass
class PartyDetails:
    """A party's contact mechanisms, first address and membership relation, keyed by party id."""

    mechanisms: dict[int, list[dict[str, Any]]]
    addresses: dict[int, dict[str, Any]]
    memberships: dict[int, dict[str, Any]]


class TrytonReader:
    """Reads party data from Tryton with keyset paging on id."""

    client: TrytonClient
    page_size: int
    _vocabulary: Vocabulary | None

    @property
    def vocabulary(self) -> Vocabulary:
        """Category and relation-type ids, read once per adapter."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary.load(self.client)
        return self._vocabulary

    def _keyset(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        size: int | None = None,
        context: dict[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        limit, last_id = size or self.page_size, 0
        while True:
            rows = self.client.call(
                f"model.{model}.search_read",
                [*domain, ["id", ">", last_id]],
                0,
                limit,
                [["id", "ASC"]],
                fields,
                context or {},
            )
            if not rows:
                return
            yield rows
            last_id = rows[-1]["id"]
            if len(rows) < limit:
                return

    def _member_domain(self) -> list[Any]:
        return [["categories", "in", list(self.vocabulary.under(STATUS_ROOT))]]

    def fetch_org_units(self) -> Iterator[Page[CrmOrgUnit]]:
        """Parties with a unit-kind category; the parent is the target of their "part of" relation."""
        vocabulary = self.vocabulary
        kinds, levels = vocabulary.under(UNIT_ROOT), vocabulary.under(LEVEL_ROOT)
        part_of = vocabulary.relation_type(PART_OF[0])
        for rows in self._keyset("party.party", [["categories", "in", list(kinds)]], PARTY_FIELDS):
            parents = {
                relation["from_"]: relation["to"]
                for relation in self.client.call(
                    "model.party.relation.all.search_read",
                    [["from_", "in", [row["id"] for row in rows]], ["type", "=", part_of]],
                    0,
                    None,
                    [["id", "ASC"]],
                    ["from_", "to"],
                    {},
                )
            }
            units, invalid = [], []
            for row in rows:
                kind = next((UNIT_KINDS[kinds[c]] for c in row["categories"] if c in kinds), None)
                level = next((LEVELS[levels[c]] for c in row["categories"] if c in levels), None)
                if kind is None or level is None or not row["name"]:
                    invalid.append(
                        InvalidRecord("org_unit", str(row["id"]), {"categories": ["kind or level missing"]})
                    )
                    continue
                parent = parents.get(row["id"])
                units.append(
                    CrmOrgUnit(
                        str(row["id"]),
                        str(parent) if parent else None,
                        row["name"],
                        kind,
                        level,
                        code=row["code"] or "",
                    )
                )
            yield Page(units, invalid)

    def _details(self, party_ids: list[int], context: dict[str, Any] | None = None) -> PartyDetails:
        details = PartyDetails({}, {}, {})
        for row in self.client.call(
            "model.party.contact_mechanism.search_read",
            [["party", "in", party_ids]],
            0,
            None,
            [["sequence", "ASC"], ["id", "ASC"]],
            ["id", "party", "type", "value", "last_modified_at"],
            context or {},
        ):
            details.mechanisms.setdefault(row["party"], []).append(row)
        for row in self.client.call(
            "model.party.address.search_read",
            [["party", "in", party_ids]],
            0,
            None,
            [["sequence", "ASC"], ["id", "ASC"]],
            [
                "id",
                "party",
                "street_name",
                "building_number",
                "unit_number",
                "postal_code",
                "city",
                "country.code",
                "last_modified_at",
            ],
            context or {},
        ):
            details.addresses.setdefault(row["party"], row)
        member_of = self.vocabulary.relation_type(MEMBER_OF[0])
        for row in self.client.call(
            "model.party.relation.all.search_read",
            [["from_", "in", party_ids], ["type", "=", member_of]],
            0,
            None,
            [["start_date", "DESC"], ["id", "DESC"]],
            RELATION_FIELDS,
            {},
        ):
            details.memberships.setdefault(row["from_"], row)
        return details

    def _members_page(self, rows: list[dict[str, Any]]) -> Page[CrmMember]:
        details = self._details([row["id"] for row in rows])
        members, invalid = [], []
        for row in rows:
            try:
                members.append(self._member(row, details))
            except ValueError as error:
                invalid.append(InvalidRecord("member", str(row["id"]), {"party": [str(error)]}))
        return Page(members, invalid, cursor=str(rows[-1]["id"]) if rows else "")

    def current_values(self, row: dict[str, Any], details: PartyDetails) -> dict[str, Any]:
        """The replica fields a portal edit may change, as Tryton holds them (names, contact, flags)."""
        vocabulary = self.vocabulary
        given, infix, family = parse_party_name(row["name"] or "")
        found: dict[str, str] = {"email": "", "mobile": "", "phone": ""}
        for mechanism in details.mechanisms.get(row["id"], []):
            if mechanism["type"] in found and not found[mechanism["type"]]:
                found[mechanism["type"]] = mechanism["value"] or ""
        address = details.addresses.get(row["id"], {})
        number = str(address.get("building_number") or "")
        country = ((address.get("country.") or {}).get("code") or "NL").upper()
        categories = set(row["categories"])
        flags = {
            field: vocabulary.category(PREFERENCE_ROOT, name) in categories for name, field in FLAGS.items()
        }
        return {
            "given_name": given,
            "infix": infix,
            "family_name": family,
            **found,
            "street": address.get("street_name") or "",
            "house_number": int(number) if number.isdigit() else None,
            "house_number_suffix": address.get("unit_number") or "",
            "postcode": address.get("postal_code") or "",
            "city": address.get("city") or "",
            "country": country,
            **flags,
            "interests": sorted(
                name for cid, name in vocabulary.under(INTEREST_ROOT).items() if cid in categories
            ),
            "competences": sorted(
                name for cid, name in vocabulary.under(COMPETENCE_ROOT).items() if cid in categories
            ),
        }

    def _member(self, row: dict[str, Any], details: PartyDetails) -> CrmMember:
        statuses = self.vocabulary.under(STATUS_ROOT)
        status = next((STATUSES[statuses[c]] for c in row["categories"] if c in statuses), None)
        if status is None or not row["code"]:
            raise ValueError("membership category or member number missing")
        values = self.current_values(row, details)
        membership = details.memberships.get(row["id"], {})
        ended = status in (MembershipStatus.CANCELLED, MembershipStatus.DECEASED)
        modified = _newest(
            row["last_modified_at"],
            membership.get("last_modified_at"),
            details.addresses.get(row["id"], {}).get("last_modified_at"),
            *(m["last_modified_at"] for m in details.mechanisms.get(row["id"], [])),
        )
        return CrmMember(
            crm_id=str(row["id"]),
            member_number=row["code"],
            status=status,
            branch_crm_id=str(membership["to"]) if membership.get("to") else None,
            member_since=membership.get("start_date"),
            member_until=membership.get("end_date") if ended else None,
            modified_at=aware(modified),
            is_trashed=not row["active"] or bool(row["replaced_by"]),
            **{name: value for name, value in values.items() if name not in {"interests", "competences"}},
            interests=tuple(values["interests"]),
            competences=tuple(values["competences"]),
        )

    def fetch_members(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmMember]]:
        """All member parties (inactive ones flagged), or those whose party or children changed."""
        if changed_since is None:
            for rows in self._keyset("party.party", self._member_domain(), PARTY_FIELDS, context=ALL):
                yield self._members_page(rows)
            return
        since = changed_since.astimezone(UTC).replace(tzinfo=None)
        changed: set[int] = set()
        for model, party_field, extra in (
            ("party.party", "id", self._member_domain()),
            ("party.contact_mechanism", "party", []),
            ("party.address", "party", []),
            ("party.relation.all", "from_", [["type", "=", self.vocabulary.relation_type(MEMBER_OF[0])]]),
        ):
            for rows in self._keyset(
                model, [["last_modified_at", ">=", since], *extra], [party_field], context=ALL
            ):
                changed.update(row[party_field] for row in rows)
        yield from self.fetch_members_by_id([str(party_id) for party_id in sorted(changed)])

    def fetch_members_by_id(self, crm_ids: Sequence[str]) -> Iterator[Page[CrmMember]]:
        """The named member parties, a page at a time."""
        ids = sorted({int(crm_id) for crm_id in crm_ids if crm_id.isdigit()})
        for start in range(0, len(ids), self.page_size):
            chunk = ids[start : start + self.page_size]
            rows = self.client.call(
                "model.party.party.search_read",
                [["id", "in", chunk], *self._member_domain()],
                0,
                None,
                [["id", "ASC"]],
                PARTY_FIELDS,
                ALL,
            )
            if rows:
                yield self._members_page(rows)

    def fetch_memberships(self) -> Iterator[Page[CrmMembershipState]]:
        """Nothing to scan: in Tryton the status is a category (it moves the party's timestamp) and the
        membership relation has a timestamp of its own, so the incremental pull sees both."""
        return iter(())

    def fetch_positions(self, *, changed_since: datetime | None = None) -> Iterator[Page[CrmPosition]]:
        """Relations of the position types (each relation also has a reverse row, which is skipped)."""
        types = {self.vocabulary.relation_type(name): function for name, function in POSITIONS.items()}
        domain: list[Any] = [["type", "in", list(types)]]
        if changed_since is not None:
            domain.append(["last_modified_at", ">=", changed_since.astimezone(UTC).replace(tzinfo=None)])
        for rows in self._keyset("party.relation.all", domain, RELATION_FIELDS):
            positions = [
                CrmPosition(
                    crm_id=str(row["id"]),
                    member_crm_id=str(row["from_"]),
                    org_unit_crm_id=str(row["to"]),
                    function=types[row["type"]],
                    start_date=row["start_date"],
                    end_date=row["end_date"],
                    public=types[row["type"]] not in NOT_PUBLIC,
                    modified_at=aware(row["last_modified_at"]),
                )
                for row in rows
            ]
            yield Page(positions, cursor=str(rows[-1]["id"]))

    def fetch_position_ids(self) -> Iterator[list[str]]:
        """Ids of every position relation."""
        types = [self.vocabulary.relation_type(name) for name in POSITIONS]
        for rows in self._keyset("party.relation.all", [["type", "in", types]], ["id"], size=10000):
            yield [str(row["id"]) for row in rows]

    def fetch_member_ids(self) -> Iterator[list[str]]:
        """Ids of every active member party."""
        for rows in self._keyset("party.party", self._member_domain(), ["id"], size=10000):
            yield [str(row["id"]) for row in rows]

    def find_survivor(self, crm_id: str) -> str | None:
        """Follow `replaced_by` (Tryton's merge of duplicate parties) to the party that remains."""
        current, seen = crm_id, set()
        while current.isdigit() and current not in seen:
            seen.add(current)
            rows = self.client.call("model.party.party.read", [int(current)], ["replaced_by"], ALL)
            if not rows or not rows[0]["replaced_by"]:
                break
            current = str(rows[0]["replaced_by"])
        return current if current != crm_id else None


def plain_values(values: dict[str, Any]) -> dict[str, Any]:
    """Current values in the canonical JSON form used to compare with an outbox message."""
    country = values.get("country") or "NL"
    return {
        name: mapping.plain(mapping.canonical_edit(name, value, country=country))
        for name, value in values.items()
    }
