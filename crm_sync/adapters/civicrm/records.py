"""CiviCRM rows → the port's records: validated with marshmallow, one membership chosen per contact.

Pure functions of the bodies CiviCRM sent; the members' part runs in the reading worker (`reader.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from crm_sync.adapters.civicrm.schemas import (
    IndividualSchema,
    MembershipSchema,
    load_each,
)
from crm_sync.adapters.civicrm.vocabulary import (
    MEMBERSHIP_STATUSES,
    STATUS_RANK,
)
from crm_sync.ports import CrmMember, InvalidRecord, Page
from portal.members.models import MembershipStatus

ENDED_STATUSES = (MembershipStatus.CANCELLED, MembershipStatus.DECEASED)

# Built once per process: a schema instance is reusable and costs a few hundred µs to make.
_INDIVIDUAL = IndividualSchema()
_MEMBERSHIP = MembershipSchema()


def aware(moment: datetime | None) -> datetime | None:
    """A CiviCRM site time (UTC, naive) as an aware datetime."""
    return None if moment is None else moment.replace(tzinfo=UTC)


def choose_per_contact(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The most "alive" membership per contact (current before new before grace …, latest end first)."""
    chosen: dict[int, dict[str, Any]] = {}
    for row in rows:
        current = chosen.get(row["contact_id"])
        rank = (STATUS_RANK[row["status"]], -(row["end_date"] or date.min).toordinal())
        if current is None or rank < (
            STATUS_RANK[current["status"]],
            -(current["end_date"] or date.min).toordinal(),
        ):
            chosen[row["contact_id"]] = row
    return chosen


def choose_memberships(
    rows: list[dict[str, Any]],
) -> tuple[dict[int, dict[str, Any]], list[InvalidRecord]]:
    """Validate membership rows (marshmallow) and choose one per contact."""
    good, bad = load_each(_MEMBERSHIP, rows)
    invalid = [InvalidRecord("membership", crm_id, errors) for crm_id, errors in bad]
    known = []
    for row in good:
        status = MEMBERSHIP_STATUSES.get(row["status"])
        if status is None:
            invalid.append(InvalidRecord("membership", str(row["id"]), {"status_id:name": ["unknown"]}))
            continue
        known.append(row | {"status": status})
    return choose_per_contact(known), invalid


def scan_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A light parse for the nightly change scan: nothing here is applied, it only picks contacts to
    refetch (and the refetch validates in full). A row that does not parse is left to that refetch."""
    parsed = []
    for row in rows:
        try:
            parsed.append(
                {
                    "contact_id": int(row["contact_id"]),
                    "status": MEMBERSHIP_STATUSES[row["status_id:name"]],
                    "join_date": date.fromisoformat(row["join_date"]) if row.get("join_date") else None,
                    "end_date": date.fromisoformat(row["end_date"]) if row.get("end_date") else None,
                }
            )
        except (KeyError, TypeError, ValueError):
            continue
    return parsed


def membership_dates(membership: dict[str, Any], status: MembershipStatus) -> dict[str, date | None]:
    """Member since / until / dues paid through, from the chosen membership."""
    return {
        "member_since": membership["join_date"],
        "member_until": membership["end_date"] if status in ENDED_STATUSES else None,
        "dues_paid_through": membership["end_date"],
    }


@dataclass(frozen=True)
class RawMembers:
    """One page of Individuals with their Membership and non-primary Phone rows, as CiviCRM sent them
    (not yet validated)."""

    contacts: list[dict[str, Any]]
    memberships: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)


def _member(row: dict[str, Any], membership: dict[str, Any], others: dict[str, str]) -> CrmMember:
    status: MembershipStatus = membership["status"]
    if row["is_deceased"]:
        status = MembershipStatus.DECEASED
    primary_is_mobile = row["phone_type"] == "Mobile"
    primary = row["phone"]
    return CrmMember(
        crm_id=str(row["id"]),
        member_number=row["member_number"],
        given_name=row["first_name"],
        infix=row["middle_name"],
        family_name=row["last_name"],
        status=status,
        branch_crm_id=str(row["branch_id"]) if row["branch_id"] else None,
        email=row["email"],
        mobile=primary if primary and primary_is_mobile else others.get("mobile", ""),
        phone=primary if primary and not primary_is_mobile else others.get("phone", ""),
        street=row["street_name"],
        house_number=row["street_number"],
        house_number_suffix=row["street_number_suffix"],
        postcode=row["postal_code"],
        city=row["city"],
        country=row["country"] or "NL",
        birth_date=row["birth_date"],
        **membership_dates(membership, status),
        do_not_call=row["do_not_phone"],
        do_not_email=row["do_not_email"] or row["is_opt_out"],
        directory_consent=row["directory_consent"],
        interests=tuple(row["interests"]),
        competences=tuple(row["competences"]),
        modified_at=aware(row["modified_date"]),
        is_trashed=row["is_deleted"],
    )


def members_from_rows(raw: RawMembers) -> Page[CrmMember]:
    """Validate (marshmallow) and map one raw page; a bad record is reported with its id and skipped."""
    contacts = raw.contacts
    good, bad = load_each(_INDIVIDUAL, contacts)
    invalid = [InvalidRecord("member", crm_id, errors) for crm_id, errors in bad]
    memberships, membership_invalid = choose_memberships(raw.memberships)
    invalid.extend(membership_invalid)
    others: dict[int, dict[str, str]] = {}
    for row in raw.phones:
        kind = "mobile" if row.get("phone_type_id:name") == "Mobile" else "phone"
        others.setdefault(int(row["contact_id"]), {}).setdefault(kind, str(row.get("phone") or ""))
    members = [
        _member(row, memberships[row["id"]], others.get(row["id"], {}))
        for row in good
        if row["id"] in memberships
    ]
    return Page(members, invalid, cursor=str(contacts[-1].get("id", "")) if contacts else "")
