"""The Tryton write path: compare with the party's current values, then write through the party with
its `_timestamp`, so a party changed between our read and our write is a recorded conflict.

Everything is written through `party.party.write` (nested commands for contact mechanisms, addresses
and categories): that moves the party's own timestamp, and one call carries a whole batch in one
Tryton transaction. A failing batch is retried party by party to single out the refused one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crm_sync import mapping
from crm_sync.adapters.tryton.client import TrytonClient, TrytonConcurrency, TrytonUserError
from crm_sync.adapters.tryton.reader import ALL, PartyDetails, TrytonReader, plain_values
from crm_sync.adapters.tryton.vocabulary import (
    COMPETENCE_ROOT,
    FLAGS,
    INTEREST_ROOT,
    PREFERENCE_ROOT,
    UNMAPPED_FIELDS,
    Vocabulary,
)
from crm_sync.ports import (
    CrmCredentialsRefused,
    CrmError,
    CrmUnavailable,
    FieldConflict,
    MemberChange,
    PushOutcome,
    PushResult,
)
from portal.members import names

ADDRESS_FIELDS = {
    "street": "street_name",
    "house_number": "building_number",
    "house_number_suffix": "unit_number",
    "postcode": "postal_code",
    "city": "city",
}
NAME_FIELDS = ("given_name", "infix", "family_name")
Write = tuple[int, dict[str, Any], str]  # party id, values, its _timestamp


class TrytonWriter(TrytonReader):
    """Pushes portal edits to Tryton."""

    client: TrytonClient
    _countries: dict[str, int]

    def _country(self, code: str) -> int | None:
        if code not in self._countries:
            rows = self.client.call(
                "model.country.country.search_read", [["code", "=", code]], 0, 1, None, ["id"], {}
            )
            if not rows:
                return None
            self._countries[code] = rows[0]["id"]
        return self._countries[code]

    def _category(self, root: str, name: str) -> int:
        """The id of a category under `root`, created when an interest or competence is new to Tryton."""
        vocabulary = self.vocabulary
        found = vocabulary.category(root, name)
        if found is None:
            parent = vocabulary.category("", root)
            found = self.client.call("model.party.category.create", [{"name": name, "parent": parent}], {})[0]
            self._vocabulary = Vocabulary.load(self.client)
        return found

    def push_member_changes(
        self, changes: Sequence[MemberChange], *, timeout: float | None = None
    ) -> list[PushOutcome]:
        """Deliver the changes; raises `CrmUnavailable` when Tryton cannot be reached at all."""
        ids = sorted({int(change.member_crm_id) for change in changes if change.member_crm_id.isdigit()})
        fields = ["id", "name", "active", "replaced_by", "categories", "_timestamp"]
        rows = (
            {row["id"]: row for row in self.client.call("model.party.party.read", ids, fields, ALL)}
            if ids
            else {}
        )
        details = self._details(ids) if ids else PartyDetails({}, {}, {})
        outcomes: dict[str, PushOutcome] = {}
        writes: dict[str, Write] = {}
        for change in changes:
            row = rows.get(int(change.member_crm_id)) if change.member_crm_id.isdigit() else None
            if row is None or not row["active"] or row["replaced_by"]:
                outcomes[change.key] = PushOutcome(
                    change.key,
                    PushResult.REJECTED,
                    f"party {change.member_crm_id} is gone or inactive in Tryton",
                )
                continue
            current = plain_values(self.current_values(row, details))
            conflicts, due = mapping.compare_for_push(change, current)
            if conflicts:
                names_ = ", ".join(conflict.field for conflict in conflicts)
                outcomes[change.key] = PushOutcome(
                    change.key,
                    PushResult.CONFLICT,
                    f"changed in Tryton since the edit: {names_}",
                    tuple(conflicts),
                )
            elif not due:
                outcomes[change.key] = PushOutcome(change.key, PushResult.ALREADY_APPLIED)
            elif unmapped := sorted(UNMAPPED_FIELDS & due.keys()):
                outcomes[change.key] = PushOutcome(
                    change.key, PushResult.REJECTED, f"Tryton has no field for {', '.join(unmapped)}"
                )
            else:
                values = self._values(row, details, current, due)
                if values is None:
                    outcomes[change.key] = PushOutcome(
                        change.key, PushResult.REJECTED, "unknown country code"
                    )
                else:
                    writes[change.key] = (row["id"], values, row["_timestamp"])
        outcomes.update(self._write(writes, changes, timeout))
        return [outcomes[change.key] for change in changes]

    def _values(
        self, row: dict[str, Any], details: PartyDetails, current: dict[str, Any], due: dict[str, Any]
    ) -> dict[str, Any] | None:
        """`party.party.write` values (with nested commands) that bring the party to the due values."""
        party = row["id"]
        values: dict[str, Any] = {}
        if any(name in due for name in NAME_FIELDS):
            merged = {name: due.get(name, current[name]) for name in NAME_FIELDS}
            values["name"] = names.formal_name(merged["given_name"], merged["infix"], merged["family_name"])
        commands: list[Any] = []
        for kind in ("email", "mobile", "phone"):
            if kind not in due:
                continue
            existing = next((m["id"] for m in details.mechanisms.get(party, []) if m["type"] == kind), None)
            if existing is not None:
                commands.append(
                    ["write", [existing], {"value": due[kind]}] if due[kind] else ["delete", [existing]]
                )
            elif due[kind]:
                commands.append(["create", [{"type": kind, "value": due[kind]}]])
        if commands:
            values["contact_mechanisms"] = commands
        address = {ADDRESS_FIELDS[name]: due[name] for name in ADDRESS_FIELDS if name in due}
        if "house_number" in address:
            address["building_number"] = (
                "" if address["building_number"] is None else str(address["building_number"])
            )
        if "country" in due:
            country = self._country(str(due["country"]))
            if country is None:
                return None
            address["country"] = country
        if address:
            existing_address = details.addresses.get(party)
            values["addresses"] = (
                [["write", [existing_address["id"]], address]]
                if existing_address
                else [["create", [address]]]
            )
        categories = self._category_commands(current, due)
        if categories:
            values["categories"] = categories
        return values

    def _category_commands(self, current: dict[str, Any], due: dict[str, Any]) -> list[Any]:
        add: list[int] = []
        remove: list[int] = []
        for category_name, field in FLAGS.items():
            if field in due:
                (add if due[field] else remove).append(self._category(PREFERENCE_ROOT, category_name))
        for field, root in (("interests", INTEREST_ROOT), ("competences", COMPETENCE_ROOT)):
            if field in due:
                old, new = set(current[field]), set(due[field])
                add += [self._category(root, name) for name in sorted(new - old)]
                remove += [self._category(root, name) for name in sorted(old - new)]
        return ([["add", add]] if add else []) + ([["remove", remove]] if remove else [])

    def _write(
        self, writes: dict[str, Write], changes: Sequence[MemberChange], timeout: float | None
    ) -> dict[str, PushOutcome]:
        if not writes:
            return {}
        try:
            self._party_write(list(writes.values()), timeout)
            return {key: PushOutcome(key, PushResult.DELIVERED) for key in writes}
        except (CrmUnavailable, CrmCredentialsRefused):
            raise
        except CrmError:
            pass  # one party spoiled the batch: find it
        by_key = {change.key: change for change in changes}
        outcomes: dict[str, PushOutcome] = {}
        for key, write in writes.items():
            try:
                self._party_write([write], timeout)
                outcomes[key] = PushOutcome(key, PushResult.DELIVERED)
            except (CrmUnavailable, CrmCredentialsRefused):
                raise
            except TrytonConcurrency as error:
                change = by_key[key]
                conflicts = tuple(
                    FieldConflict(name, None, value, change.previous.get(name))
                    for name, value in change.values.items()
                )
                outcomes[key] = PushOutcome(key, PushResult.CONFLICT, str(error), conflicts)
            except TrytonUserError as error:
                outcomes[key] = PushOutcome(key, PushResult.REJECTED, str(error))
            except CrmError as error:
                outcomes[key] = PushOutcome(key, PushResult.UNCERTAIN, str(error))
        return outcomes

    def _party_write(self, writes: list[Write], timeout: float | None) -> None:
        arguments: list[Any] = []
        for party, values, _stamp in writes:
            arguments += [[party], values]
        stamps = {f"party.party,{party}": stamp for party, _values, stamp in writes}
        self.client.call("model.party.party.write", *arguments, {"_timestamp": stamps}, timeout=timeout)
