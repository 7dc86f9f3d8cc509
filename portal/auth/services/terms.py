"""The yearly terms gate: versions, acceptances, who still has to accept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from audit.services import record_change
from portal.auth.models import Account, RoleGrant, TermsAcceptance, TermsTranslation, TermsVersion
from portal.auth.notices import _
from portal.auth.services.sessions import ClientInfo
from portal.core.actors import Actor
from portal.core.errors import Conflict, ValidationFailed
from portal.members.models import Member, OrgUnit

ACCEPTANCE_VALIDITY = timedelta(days=365)
WARN_BEFORE = timedelta(days=30)


@dataclass(frozen=True)
class TermsStatus:
    """Where an account stands with the terms."""

    current: TermsVersion | None
    valid_until: datetime | None  # None: no valid acceptance

    @property
    def is_accepted(self) -> bool:
        """The gate is open."""
        return self.valid_until is not None

    def expires_soon(self, now: datetime) -> bool:
        """Within the 30-day warning period."""
        return self.valid_until is not None and expires_soon(self.valid_until, now)


def expires_soon(valid_until: datetime, now: datetime) -> bool:
    """An acceptance valid until `valid_until` is within the 30-day warning period at `now`."""
    return valid_until - now <= WARN_BEFORE


@dataclass(frozen=True)
class TermsText:
    """The text of a version to show in one language: its translation when there is one, else the
    original, with the language it is in (for the page's `lang`) and whether it is the binding text."""

    title: str
    body_markdown: str
    language: str
    is_original: bool


def text_in(version: TermsVersion, language: str) -> TermsText:
    """`version` in `language` if it was written or translated in it, else in its own language."""
    if language != version.language:
        for translation in version.translations:
            if translation.language == language:
                return TermsText(translation.title, translation.body_markdown, language, False)
    return TermsText(version.title, version.body_markdown, version.language, True)


def current_terms(session: Session) -> TermsVersion | None:
    """The newest published version."""
    return session.scalar(
        select(TermsVersion).order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc()).limit(1)
    )


def terms_status(session: Session, account_id: int, now: datetime) -> TermsStatus:
    """Whether the account holds a valid acceptance of a version no older than the last re-acceptance one."""
    current = current_terms(session)
    if current is None:
        return TermsStatus(None, None)
    return TermsStatus(current, accepted_until(session, account_id, now))


_FLOOR = (
    select(TermsVersion.published_at)
    .where(TermsVersion.requires_reacceptance.is_(True))
    .order_by(TermsVersion.published_at.desc(), TermsVersion.id.desc())
    .limit(1)
    .scalar_subquery()
)


def accepted_until_of(
    account_id: ColumnElement[Any] | InstrumentedAttribute[Any], now: ColumnElement[Any]
) -> ScalarSelect[Any]:
    """`accepted_until` as a scalar subquery, to load along with something else in one query."""
    return (
        select(func.max(TermsAcceptance.expires_at))
        .join(TermsVersion, TermsVersion.id == TermsAcceptance.terms_version_id)
        .where(
            TermsAcceptance.account_id == account_id,
            TermsAcceptance.expires_at > now,
            or_(_FLOOR.is_(None), TermsVersion.published_at >= _FLOOR),
        )
        .scalar_subquery()
    )


_NOW = bindparam("now", type_=TermsAcceptance.expires_at.type)
_ACCEPTED_UNTIL = select(accepted_until_of(bindparam("account_id"), _NOW))  # built once


def accepted_until(session: Session, account_id: int, now: datetime) -> datetime | None:
    """Until when the account's newest valid acceptance holds (None: none): an acceptance that has not
    expired, of a version no older than the newest one that required re-acceptance."""
    return session.scalar(_ACCEPTED_UNTIL, {"account_id": account_id, "now": now})


def accept_terms(
    session: Session,
    *,
    account: Account,
    version_id: int,
    client: ClientInfo,
    actor: Actor,
    now: datetime,
    language: str = "",
) -> TermsAcceptance:
    """Record that the account accepted the current version (version, UTC time, IP, user agent, and the
    language of the text they read: `language` as the page showed it, see `text_in`)."""
    current = current_terms(session)
    if current is None or current.id != version_id:
        raise Conflict(_("These terms have been replaced; read the current version."))
    read = text_in(current, language).language if language else ""
    acceptance = TermsAcceptance(
        account_id=account.id,
        terms_version_id=current.id,
        accepted_at=now,
        expires_at=now + ACCEPTANCE_VALIDITY,
        ip=client.ip[:45],
        user_agent=client.user_agent[:300],
        language=read,
    )
    session.add(acceptance)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="auth.terms_accepted",
        target=acceptance,
        changes={
            "version": [None, current.version],
            "expires_at": [None, acceptance.expires_at],
            "language": [None, read or None],
        },
    )
    return acceptance


def publish_terms(
    session: Session,
    *,
    version: str,
    title: str,
    body_markdown: str,
    requires_reacceptance: bool,
    actor: Actor,
    now: datetime,
    language: str,
    translations: Mapping[str, tuple[str, str]] | None = None,
) -> TermsVersion:
    """Publish a new version, written in `language`; with `requires_reacceptance` every officer must
    accept it again. `translations` maps another language to its (title, text): both or neither (an
    empty pair is no translation); the original stays the binding text."""
    problems = {}
    if not version.strip():
        problems["version"] = _("A version label is required.")
    if not title.strip():
        problems["title"] = _("A title is required.")
    if not body_markdown.strip():
        problems["body_markdown"] = _("The text is required.")
    translated: dict[str, tuple[str, str]] = {}
    for other, (other_title, other_body) in (translations or {}).items():
        if not other_title.strip() and not other_body.strip():
            continue
        if other == language:
            problems[f"title_{other}"] = _("This is the language of the original text.")
        elif not other_title.strip():
            problems[f"title_{other}"] = _("A translation needs a title too.")
        elif not other_body.strip():
            problems[f"body_markdown_{other}"] = _("A translation needs its text too.")
        else:
            translated[other] = (other_title.strip(), other_body)
    if problems:
        raise ValidationFailed(_("The terms were not published."), fields=problems)
    if session.scalar(select(TermsVersion.id).where(TermsVersion.version == version.strip())) is not None:
        raise ValidationFailed(
            _("The terms were not published."), fields={"version": _("This version exists.")}
        )
    row = TermsVersion(
        version=version.strip(),
        title=title.strip(),
        body_markdown=body_markdown,
        language=language,
        published_at=now,
        requires_reacceptance=requires_reacceptance,
        published_by_account_id=actor.id if actor.kind == "account" else None,
        translations=[
            TermsTranslation(language=other, title=other_title, body_markdown=other_body)
            for other, (other_title, other_body) in sorted(translated.items())
        ],
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        actor=actor,
        action="auth.terms_published",
        target=row,
        changes={
            "version": [None, row.version],
            "requires_reacceptance": [None, requires_reacceptance],
            "language": [None, language],
            "translations": [None, sorted(translated) or None],
        },
    )
    return row


@dataclass(frozen=True)
class Acceptances:
    """Who accepted one version: how many officers, and how many read it in each language ("" for
    acceptances recorded before the language was)."""

    officers: int
    by_language: dict[str, int]


def acceptances_per_version(session: Session) -> dict[int, Acceptances]:
    """Per version id, the officers who accepted it (each once, however often they renewed)."""
    officers = dict(
        session.execute(
            select(
                TermsAcceptance.terms_version_id, func.count(func.distinct(TermsAcceptance.account_id))
            ).group_by(TermsAcceptance.terms_version_id)
        ).all()
    )
    by_language: dict[int, dict[str, int]] = {}
    for version_id, language, count in session.execute(
        select(
            TermsAcceptance.terms_version_id,
            TermsAcceptance.language,
            func.count(func.distinct(TermsAcceptance.account_id)),
        )
        .group_by(TermsAcceptance.terms_version_id, TermsAcceptance.language)
        .order_by(TermsAcceptance.language)
    ):
        by_language.setdefault(version_id, {})[language] = count
    return {version_id: Acceptances(count, by_language[version_id]) for version_id, count in officers.items()}


@dataclass(frozen=True)
class PendingOfficer:
    """An officer who has not (re-)accepted the current terms."""

    member_number: str
    name: str
    roles: tuple[str, ...]
    has_account: bool


def unaccepted_by_branch(session: Session, now: datetime) -> dict[str, list[PendingOfficer]]:
    """Per org unit name (the grant's scope): officers without a valid acceptance of the current terms."""
    grants = session.execute(
        select(RoleGrant, Member, OrgUnit.name)
        .join(Member, Member.id == RoleGrant.member_id)
        .outerjoin(OrgUnit, OrgUnit.id == RoleGrant.scope_unit_id)
        .where(RoleGrant.current_at(now))
        .order_by(OrgUnit.name, Member.sort_name)
    )
    accounts = dict(session.execute(select(Account.member_id, Account.id)).all())
    accepted_cache: dict[int, bool] = {}
    grouped: dict[str, dict[str, PendingOfficer]] = {}
    for grant, member, unit_name in grants:
        account_id = accounts.get(member.id)
        if account_id is not None:
            if account_id not in accepted_cache:
                accepted_cache[account_id] = terms_status(session, account_id, now).is_accepted
            if accepted_cache[account_id]:
                continue
        bucket = grouped.setdefault(unit_name or "—", {})
        known = bucket.get(member.member_number)
        roles = (*known.roles, grant.role.value) if known else (grant.role.value,)
        bucket[member.member_number] = PendingOfficer(
            member.member_number, member.display_name, roles, account_id is not None
        )
    return {unit: list(people.values()) for unit, people in grouped.items()}
