"""Demo accounts for `make demo`: real members of the pulled replica, known passwords, enrolled TOTP seeds.

Never in production: `create_demo_accounts` refuses there, and a production app refuses to start while a
demo account exists (ASVS 6.3.2, security plan A14).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import exists, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from portal.auth import totp
from portal.auth.crypto import AuthKeys, hash_password
from portal.auth.models import Account, RoleGrant
from portal.auth.roles import Role
from portal.auth.services.grants import grant_role, recompute_grants
from portal.auth.services.terms import current_terms, publish_terms
from portal.core import clock
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.members.models import Member, MembershipStatus, OrgUnit, OrgUnitKind, Position, PositionFunction

log = logging.getLogger(__name__)
DEMO_ACTOR = Actor.system("demo")
DEMO_TERMS = """# Gedragsregels voor functionarissen

U krijgt in het ledenportaal gegevens van andere leden te zien. Dat zijn bijzondere persoonsgegevens:
uit het lidmaatschap van een politieke partij blijkt iemands politieke voorkeur (AVG artikel 9).

1. Gebruik de gegevens alleen voor uw taak in de partij.
2. Deel ze met niemand die ze niet voor zijn of haar taak nodig heeft.
3. Download of print niet meer dan nodig, en vernietig het als u het niet meer nodig hebt.
4. Meld een verloren telefoon of laptop, of een vermoedelijk lek, meteen bij de ledenadministratie.
"""
DEMO_TERMS_EN = """# Code of conduct for officers

In the member portal you see other members' data. These are special categories of personal data:
membership of a political party reveals a person's political opinions (GDPR Article 9).

1. Use the data only for your task in the party.
2. Share it with no one who does not need it for their own task.
3. Download or print no more than you need, and destroy it when you no longer need it.
4. Report a lost phone or laptop, or a suspected leak, to the membership administration at once.
"""
# role label, position function and unit kind (None: a member without positions), password
DEMO_PEOPLE: tuple[tuple[str, PositionFunction | None, OrgUnitKind | None, str], ...] = (
    ("member", None, None, "paarse kraanvogel boven de polder"),
    ("branch_chair", PositionFunction.CHAIR, OrgUnitKind.BRANCH, "zeven fietsen in de regen"),
    (
        "regional_officer",
        PositionFunction.REGIONAL_SECRETARY,
        OrgUnitKind.REGION,
        "een lantaarn op het dijkje",
    ),
    ("steward", PositionFunction.STEWARD, OrgUnitKind.BRANCH, "koffie met drie klontjes suiker"),
    ("admin", None, None, "de sleutelbos van het partijbureau"),
)


def _pick(
    session: Session, function: PositionFunction | None, kind: OrgUnitKind | None, taken: set[int]
) -> Member | None:
    query = select(Member).where(
        Member.status == MembershipStatus.CURRENT,
        Member.removed_at.is_(None),
        Member.email != "",
        Member.id.not_in(taken or {0}),
    )
    if function is None:
        query = query.where(~exists().where(Position.member_id == Member.id))
    else:
        today = clock.today()
        query = query.where(
            exists()
            .where(
                Position.member_id == Member.id, Position.function == function, Position.removed_at.is_(None)
            )
            .where(Position.org_unit_id == OrgUnit.id, OrgUnit.kind == kind)
            .where((Position.end_date.is_(None)) | (Position.end_date >= today))
        )
    return session.scalar(query.order_by(Member.id).limit(1))


def _account_for(session: Session, member: Member, password: str, keys: AuthKeys, seed: str) -> Account:
    now = utcnow()
    account = session.scalar(select(Account).where(Account.member_id == member.id))
    if account is None:
        account = Account(member_id=member.id, password_hash="", password_changed_at=now, created_at=now)
        session.add(account)
    account.password_hash, account.password_changed_at, account.is_demo = hash_password(password), now, True
    account.totp_secret_encrypted, account.totp_enrolled_at, account.totp_last_step = (
        keys.encrypt_seed(seed),
        now,
        None,
    )
    account.factor_failures, account.factor_locked_at, account.disabled_at = 0, None, None
    session.flush()
    return account


def _holds_admin(session: Session, member: Member, now: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    RoleGrant.member_id == member.id, RoleGrant.role == Role.ADMIN, RoleGrant.open_at(now)
                )
            )
        )
    )


def create_demo_accounts(app: Flask) -> list[dict[str, Any]]:
    """Pick a plain member, a branch chair, a regional officer, a steward and an admin; print and save."""
    settings = app.extensions["portal"].settings
    if settings.is_production:
        raise RuntimeError("demo accounts are never created in production")
    keys: AuthKeys = app.extensions["auth_keys"]
    database: Database = app.extensions["portal"].database
    chosen: list[dict[str, Any]] = []
    with database.transaction() as session:
        now = utcnow()
        recompute_grants(session, now=now, actor=DEMO_ACTOR)
        if current_terms(session) is None:
            publish_terms(
                session,
                version="2026-1",
                title="Gedragsregels voor functionarissen",
                body_markdown=DEMO_TERMS,
                requires_reacceptance=True,
                actor=DEMO_ACTOR,
                now=now,
                language="nl",
                translations={"en": ("Code of conduct for officers", DEMO_TERMS_EN)},
            )
        taken: set[int] = set()
        for label, function, kind, password in DEMO_PEOPLE:
            member = _pick(session, function, kind, taken)
            if member is None:
                log.warning("no member found for demo account %s", label)
                continue
            taken.add(member.id)
            seed = totp.new_seed()
            account = _account_for(session, member, password, keys, seed)
            if label == "admin" and not _holds_admin(session, member, now):  # once, however often demo runs
                grant_role(
                    session,
                    member=member,
                    role=Role.ADMIN,
                    scope_unit_id=None,
                    ends_at=now + timedelta(days=365),
                    reason="Demo-beheerder (make demo)",
                    actor=DEMO_ACTOR,
                    now=now,
                )
            chosen.append(
                {
                    "role": label,
                    "member_number": member.member_number,
                    "email": member.email,
                    "name": member.display_name,
                    "password": password,
                    "totp_secret": seed,
                    "account_id": account.id,
                }
            )
    path = settings.instance_path / "demo_accounts.json"
    path.write_text(json.dumps(chosen, indent=2, ensure_ascii=False))
    path.chmod(0o600)
    for person in chosen:
        print(
            f"  demo {person['role']:<17} #{person['member_number']:<9} "
            f"{person['password']!r}  TOTP {person['totp_secret']}"
        )
    return chosen


def refuse_demo_accounts_in_production(database: Database) -> None:
    """A production start with a demo account present stops here (the schema may not exist yet)."""
    try:
        with database.session() as session:
            found = session.scalar(select(Account.id).where(Account.is_demo.is_(True)).limit(1))
    except SQLAlchemyError:
        log.warning("could not check for demo accounts (is the database migrated?)")
        return
    if found is not None:
        raise RuntimeError("a demo account exists in this production database; remove it before starting")
