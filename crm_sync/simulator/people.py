"""Generated people: an Individual contact with e-mail, phone, address and membership rows."""

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import accumulate

import orjson

from crm_sync.simulator.contact_details import (
    ascii_slug,
    display_and_sort_name,
    make_email,
    make_phone,
    make_postcode,
    make_street,
)
from crm_sync.simulator.data.names import (
    FEMALE_GIVEN_NAMES,
    MALE_GIVEN_NAMES,
    OTHER_GIVEN_NAMES,
    PLAIN_FAMILY_NAMES,
    PREFIXED_FAMILY_NAMES,
)
from crm_sync.simulator.data.places import PROVINCES
from crm_sync.simulator.data.vocabulary import COMPETENCES, INTERESTS
from crm_sync.simulator.options import NETHERLANDS
from crm_sync.simulator.org_tree import Unit, municipality_city

#: Generated data is anchored here, not at the wall clock, so a seed always gives the same rows.
BASE_DATE = date(2026, 1, 1)
FOUNDED = date(1966, 10, 14)
CRM_MIGRATION = datetime(2012, 3, 1, tzinfo=UTC)

#: (status name, share, status id) — shares from the brief, ids are CiviCRM's.
STATUS_SHARES: tuple[tuple[str, float, int], ...] = (
    ("New", 0.04, 1),
    ("Current", 0.80, 2),
    ("Grace", 0.06, 3),
    ("Expired", 0.06, 4),
    ("Cancelled", 0.03, 6),
    ("Deceased", 0.01, 7),
)


def _datetime_text(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class PeopleRows:
    """Rows waiting to be written, one list per table."""

    contacts: list[tuple[object, ...]] = field(default_factory=list)
    emails: list[tuple[object, ...]] = field(default_factory=list)
    phones: list[tuple[object, ...]] = field(default_factory=list)
    addresses: list[tuple[object, ...]] = field(default_factory=list)
    memberships: list[tuple[object, ...]] = field(default_factory=list)
    group_contacts: list[tuple[object, ...]] = field(default_factory=list)

    def clear(self) -> None:
        """Forget the rows once they are written."""
        for rows in (
            self.contacts,
            self.emails,
            self.phones,
            self.addresses,
            self.memberships,
            self.group_contacts,
        ):
            rows.clear()


@dataclass(frozen=True)
class PersonInfo:
    """What position generation needs to know about a generated person."""

    contact_id: int
    branch_index: int
    status: str
    age: int
    is_deleted: bool


@dataclass
class RowIds:
    """Next free primary key per child table."""

    email: int = 1
    phone: int = 1
    address: int = 1
    membership: int = 1
    group_contact: int = 1


class PersonFactory:
    """Makes realistic Dutch members; one instance per generation run (or churn run)."""

    def __init__(
        self,
        rng: random.Random,
        branches: Sequence[Unit],
        *,
        ids: RowIds,
        used_emails: set[str],
        today: date = BASE_DATE,
        group_ids: Sequence[int] = (1, 2, 3),
    ) -> None:
        self.rng = rng
        self.branches = branches
        self.ids = ids
        self.used_emails = used_emails
        self.today = today
        self.group_ids = group_ids
        self.rows = PeopleRows()
        self.last_identity: tuple[str, str | None, str, str, int] | None = None
        weights = [max(unit.population, 1) ** 1.15 for unit in branches]
        self._cumulative = list(accumulate(weights))
        self._postcodes = [self._postcode_range(unit) for unit in branches]
        self._status_cumulative = list(accumulate(share for _, share, _ in STATUS_SHARES))

    def _postcode_range(self, unit: Unit) -> tuple[int, int]:
        # Seeded by the CBS code so a municipality keeps its postcodes whatever the seed.
        local = random.Random(unit.code)
        ranges = next(r for code, _, r in PROVINCES if code == unit.province_code)
        low, high = local.choice(ranges)
        span = max(2, min(unit.population // 8, high - low))
        start = local.randint(low, max(low, high - span))
        return start, span

    def pick_branch(self) -> int:
        """Return the index of a branch, weighted by municipality size."""
        return bisect.bisect_left(self._cumulative, self.rng.random() * self._cumulative[-1])

    def pick_status(self) -> str:
        """Return a membership status name drawn with the brief's shares."""
        index = bisect.bisect_left(self._status_cumulative, self.rng.random())
        return STATUS_SHARES[min(index, len(STATUS_SHARES) - 1)][0]

    def person(
        self,
        contact_id: int,
        member_number: str,
        *,
        branch_index: int | None = None,
        status: str | None = None,
        now_text: str | None = None,
        duplicate_of: tuple[str, str | None, str, str, int] | None = None,
        is_deleted: bool = False,
    ) -> PersonInfo:
        """Append the rows of one person; returns what positions need to know."""
        rng = self.rng
        rand = rng.random
        branch_index = self.pick_branch() if branch_index is None else branch_index
        branch = self.branches[branch_index]
        status = status or self.pick_status()
        today = self.today.toordinal()
        if duplicate_of is None:
            first, middle, last, birth, gender = self._name_and_birth(today)
        else:
            first, middle, last, birth, gender = duplicate_of
        self.last_identity = (first, middle, last, birth, gender)
        age = (today - date.fromisoformat(birth).toordinal()) // 365
        display, sort = display_and_sort_name(first, middle, last)
        join, start, end, is_override = self._membership_dates(status, today, birth)
        if now_text is not None:
            created = modified = now_text
        else:
            created_at = max(
                CRM_MIGRATION.timestamp(), datetime.fromisoformat(join).replace(tzinfo=UTC).timestamp()
            )
            created_at += int(rand() * 86000)
            base = datetime(BASE_DATE.year, BASE_DATE.month, BASE_DATE.day, tzinfo=UTC)
            modified_at = created_at + (base.timestamp() - 1 - created_at) * rand() ** 0.5
            created, modified = _datetime_text(created_at), _datetime_text(modified_at)
        interests = rng.sample(INTERESTS, int(rand() * rand() * 5))
        competences = rng.sample(COMPETENCES, int(rand() * rand() * 4))
        self.rows.contacts.append(
            (
                contact_id,
                "Individual",
                None,
                display,
                sort,
                first,
                middle,
                last,
                None,
                member_number,
                int(is_deleted),
                int(status == "Deceased"),
                birth,
                gender,
                int(rand() < 0.03),
                int(rand() < 0.02),
                int(rand() < 0.04),
                "nl_NL" if rand() < 0.98 else "en_GB",
                created,
                modified,
                branch.id,
                int(rand() < 0.6),
                orjson.dumps(interests).decode(),
                orjson.dumps(competences).decode(),
                None,
                None,
                None,
                None,
                None,
            )
        )
        self._contact_details(contact_id, first, middle, last, birth, branch_index)
        if duplicate_of is None:
            self._memberships(contact_id, status, age, join, start, end, is_override)
            self._groups(contact_id, status)
        return PersonInfo(contact_id, branch_index, status, age, is_deleted)

    def _name_and_birth(self, today: int) -> tuple[str, str | None, str, str, int]:
        rng = self.rng
        rand = rng.random
        roll = rand()
        if roll < 0.505:
            first, gender = FEMALE_GIVEN_NAMES[int(rand() * len(FEMALE_GIVEN_NAMES))], 1
        elif roll < 0.99:
            first, gender = MALE_GIVEN_NAMES[int(rand() * len(MALE_GIVEN_NAMES))], 2
        else:
            first, gender = OTHER_GIVEN_NAMES[int(rand() * len(OTHER_GIVEN_NAMES))], 3
        middle: str | None = None
        if rand() < 0.25:
            middle, last = PREFIXED_FAMILY_NAMES[int(rand() * len(PREFIXED_FAMILY_NAMES))]
        else:
            last = PLAIN_FAMILY_NAMES[int(rand() * len(PLAIN_FAMILY_NAMES))]
            if rand() < 0.03:
                second = PLAIN_FAMILY_NAMES[int(rand() * len(PLAIN_FAMILY_NAMES))]
                last = f"{last}-{second}" if second != last else last
        roll = rand()
        if roll < 0.13:
            age = 16 + int(rand() * 12)
        elif roll < 0.40:
            age = 28 + int(rand() * 17)
        elif roll < 0.78:
            age = 45 + int(rand() * 22)
        else:
            age = 67 + int(rand() ** 1.6 * 29)
        birth = date.fromordinal(today - age * 365 - int(rand() * 365) - age // 4)
        return first, middle, last, birth.isoformat(), gender

    def _membership_dates(self, status: str, today: int, birth: str) -> tuple[str, str, str, int]:
        rand = self.rng.random
        earliest = max(FOUNDED.toordinal(), date.fromisoformat(birth).toordinal() + 16 * 365)
        year = self.today.year
        if status == "New":
            join = max(earliest, today - 1 - int(rand() * 90))
            end = date(year, 12, 31).toordinal()
        else:
            span = max(1, today - 120 - earliest)
            # Recent joiners dominate: parties grew in waves, most members are recent.
            join = today - 120 - int(rand() ** 2.2 * span)
            join = max(join, earliest)
            if status == "Current":
                end = date(year + (1 if rand() < 0.3 else 0), 12, 31).toordinal()
            elif status == "Grace":
                end = today - 1 - int(rand() * 90)
            else:
                low = max(join + 365, date(2005, 1, 1).toordinal())
                high = today - 180
                end = low + int(rand() * max(1, high - low)) if low < high else high
                join = min(join, end - 30)
        is_override = int(status == "Deceased" or (status == "Cancelled" and rand() < 0.5))
        return (
            date.fromordinal(join).isoformat(),
            date.fromordinal(join).isoformat(),
            date.fromordinal(end).isoformat(),
            is_override,
        )

    def _contact_details(
        self, contact_id: int, first: str, middle: str | None, last: str, birth: str, branch_index: int
    ) -> None:
        rand = self.rng.random
        ids, rows = self.ids, self.rows
        if rand() < 0.95:
            email = make_email(rand, self.used_emails, first, middle, last, birth)
            rows.emails.append((ids.email, contact_id, email, 1, 1, int(rand() < 0.005)))
            ids.email += 1
            if rand() < 0.05:
                work = f"{ascii_slug(first)}.{ascii_slug(last)}@werk{int(rand() * 900)}.nl"
                rows.emails.append((ids.email, contact_id, work, 0, 2, 0))
                ids.email += 1
        if rand() < 0.90:
            phone, numeric, kind = make_phone(rand)
            rows.phones.append((ids.phone, contact_id, phone, numeric, kind, 1, 1))
            ids.phone += 1
        street, number, suffix, street_address = make_street(rand)
        postcode = make_postcode(rand, *self._postcodes[branch_index])
        city = municipality_city(self.branches[branch_index].municipality or "")
        rows.addresses.append(
            (
                ids.address,
                contact_id,
                street,
                number,
                suffix,
                street_address,
                postcode,
                city,
                NETHERLANDS,
                1,
                1,
            )
        )
        ids.address += 1

    def _memberships(
        self, contact_id: int, status: str, age: int, join: str, start: str, end: str, is_override: int
    ) -> None:
        rand = self.rng.random
        ids = self.ids
        status_id = next(sid for name, _, sid in STATUS_SHARES if name == status)
        if status == "Current" and rand() < 0.02 and join > "1995-01-01":
            # A re-joiner: an old cancelled membership before the current one.
            old_end = date.fromisoformat(join).toordinal() - 400 - int(rand() * 3000)
            old_join = old_end - 365 - int(rand() * 3000)
            if old_join > FOUNDED.toordinal():
                self.rows.memberships.append(
                    (
                        ids.membership,
                        contact_id,
                        1,
                        6,
                        date.fromordinal(old_join).isoformat(),
                        date.fromordinal(old_join).isoformat(),
                        date.fromordinal(old_end).isoformat(),
                        0,
                    )
                )
                ids.membership += 1
        membership_type = 2 if age < 28 and rand() < 0.7 else 1
        self.rows.memberships.append(
            (ids.membership, contact_id, membership_type, status_id, join, start, end, is_override)
        )
        ids.membership += 1

    def _groups(self, contact_id: int, status: str) -> None:
        rand = self.rng.random
        if status in ("Deceased", "Expired", "Cancelled"):
            return
        ids = self.ids
        newsletter, volunteers, congress = self.group_ids
        roll = rand()
        if roll < 0.70:
            self.rows.group_contacts.append(
                (ids.group_contact, newsletter, contact_id, "Added" if roll < 0.65 else "Removed")
            )
            ids.group_contact += 1
        if rand() < 0.08:
            self.rows.group_contacts.append((ids.group_contact, volunteers, contact_id, "Added"))
            ids.group_contact += 1
        if rand() < 0.05:
            self.rows.group_contacts.append(
                (ids.group_contact, congress, contact_id, "Pending" if rand() < 0.1 else "Added")
            )
            ids.group_contact += 1
