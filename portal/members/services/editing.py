"""Changing a member's data in the portal: the row, the audit diff and the outbox message at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from audit.services import record_change
from crm_sync import mapping
from crm_sync.models import OutboxMessage
from crm_sync.push.enqueue import enqueue_member_change
from portal.core.actors import Actor
from portal.core.errors import Conflict, ValidationFailed
from portal.members.models import Member
from portal.members.services.search_index import refresh_search_entries


def _(message: str) -> str:
    """Mark a message for translation; the view translates it (`gettext(error.message)`)."""
    return message


_NAME_FIELDS = frozenset({"given_name", "infix", "family_name"})
_SEARCHED_FIELDS = _NAME_FIELDS | {"interests"}


@dataclass(frozen=True)
class MemberUpdate:
    """What `update_member` did: the audit diff and the outbox message to push after commit."""

    member: Member
    changes: dict[str, list[Any]] = field(default_factory=dict)
    outbox_message: OutboxMessage | None = None

    @property
    def message_ids(self) -> list[int]:
        """Ids to hand to `crm_sync.web.push_now` after the commit (empty when nothing changed)."""
        return [self.outbox_message.id] if self.outbox_message is not None else []


def _check_types(values: Mapping[str, Any]) -> None:
    problems: dict[str, str] = {}
    for name, value in values.items():
        if (
            name == "house_number"
            and value is not None
            and (isinstance(value, bool) or not isinstance(value, int))
        ):
            problems[name] = _("Enter a whole number.")
        elif name == "birth_date" and value is not None and not isinstance(value, date):
            problems[name] = _("Enter a date.")
        elif name in {"interests", "competences"} and not isinstance(value, list | tuple | set):
            problems[name] = _("Choose from the list.")
    if problems:
        raise ValidationFailed(_("Some values have the wrong type."), fields=problems)


def update_member(
    session: Session,
    *,
    actor: Actor,
    member: Member,
    changes: Mapping[str, Any],
    outbox_enabled: bool = True,
    expected_version: int | None = None,
) -> MemberUpdate:
    """Write validated `changes` to the member, record the diff and queue the push; flushes, never commits."""
    refused = sorted(set(changes) - mapping.EDITABLE_FIELDS)
    if refused:
        raise ValidationFailed(
            _("These fields cannot be changed in the portal."),
            fields=dict.fromkeys(refused, _("This field is kept by the membership administration.")),
        )
    if member.removed_at is not None:
        raise Conflict(_("This member is no longer in the membership administration."))
    if expected_version is not None and member.version != expected_version:
        raise Conflict(_("Someone else changed these details in the meantime. Reload and try again."))
    _check_types(changes)
    country = str(changes.get("country") or member.country or "NL")
    wanted = {name: mapping.canonical_edit(name, value, country=country) for name, value in changes.items()}
    previous = {name: getattr(member, name) for name in wanted}
    changed = {name: value for name, value in wanted.items() if previous[name] != value}
    if not changed:
        return MemberUpdate(member)
    for name, value in changed.items():
        setattr(member, name, value)
    if _NAME_FIELDS & changed.keys():
        member.refresh_sort_name()
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            _("Someone else changed these details in the meantime. Reload and try again.")
        ) from None
    diff = {name: [previous[name], value] for name, value in changed.items()}
    record_change(session, actor=actor, action="member.updated", target=member, changes=diff)
    if _SEARCHED_FIELDS & changed.keys():
        refresh_search_entries(session, [member.id])
    message = None
    if outbox_enabled:
        message = enqueue_member_change(
            session, member_id=member.id, values=changed, previous=previous, actor_label=actor.label
        )
    return MemberUpdate(member, diff, message)
