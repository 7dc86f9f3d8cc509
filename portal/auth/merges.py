"""Accounts follow a CRM merge: the login of a merged-away member moves to the surviving member.

The CRM says both records are one person, so the login stays theirs. One case is not decided here:
when the survivor already has an account of its own, two logins would point at one person. Then the
merged-away account is disabled (its sessions no longer sign anyone in), nothing is moved or
deleted, and the audit log and the account's disabled reason tell an admin which two accounts to
reconcile. Role grants stay where they are: derived ones are recomputed from the survivor's positions
after the pull; a granted one is an admin's decision to repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.services import record_change
from portal.auth.models import Account
from portal.auth.services.sessions import end_account_sessions
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.core.database import Database
from portal.core.events import MembersMerged

log = logging.getLogger("portal.auth.merges")
MERGE_ACTOR = Actor.system("crm-merge")


def follow_merged_accounts(
    session: Session, *, merges: Sequence[tuple[int, int]], actor: Actor, now: datetime
) -> None:
    """Re-link each merged-away member's account to the survivor, or disable it when the survivor
    already has one (recorded for an admin); flushes, the caller commits."""
    for merged_id, survivor_id in merges:
        account = session.scalar(select(Account).where(Account.member_id == merged_id))
        if account is None:
            continue
        taken = session.scalar(select(Account.id).where(Account.member_id == survivor_id))
        if taken is None:
            account.member_id = survivor_id
            session.flush()
            record_change(
                session,
                actor=actor,
                action="account.relinked_after_merge",
                target=account,
                changes={"member_id": [merged_id, survivor_id]},
            )
            continue
        reason = (
            f"CRM merge: member {merged_id} became member {survivor_id}, who already has account "
            f"{taken}; an admin decides which account stays"
        )
        changes: dict[str, list[object]] = {"disabled_reason": [account.disabled_reason, reason]}
        if account.disabled_at is None:
            changes["disabled_at"] = [None, now]
            account.disabled_at = now
        account.disabled_reason = reason[:300]
        end_account_sessions(session, account.id, reason="account_disabled", now=now)  # as disable_account
        session.flush()
        record_change(
            session, actor=actor, action="account.disabled_after_merge", target=account, changes=changes
        )
        log.warning("%s (account %s disabled)", reason, account.id)


def members_merged_handler(database: Database) -> Callable[[MembersMerged], None]:
    """The `MembersMerged` subscriber: follows the merges in a transaction of its own."""

    def on_members_merged(event: MembersMerged) -> None:
        with database.transaction() as session:
            follow_merged_accounts(session, merges=event.merges, actor=MERGE_ACTOR, now=utcnow())

    return on_members_merged
