"""The door's check-in statement stays one psycopg can keep parsed: up to 4 kB and 50 parameters.

Past either limit psycopg re-parses the statement's text with a regular expression on every
execution (about 800 more Python calls per check-in), which is what merging the audit append into
the statement first did.
"""

from __future__ import annotations

from typing import Any

from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH, MAX_CACHED_STATEMENT_PARAMS
from sqlalchemy import create_engine

from audit.sql_append import _HOLE_MARK, Hole
from portal.core.actors import Actor
from portal.core.clock import utcnow
from portal.meetings.services.check_in import _CHECK_IN_AUDIT, _CHECK_IN_ON_ROLL, _audit_changes


def test_the_check_in_statement_fits_psycopgs_statement_cache() -> None:
    dialect = create_engine("postgresql+psycopg://portal@localhost/portal").dialect
    compiled = _CHECK_IN_ON_ROLL.statement.compile(dialect=dialect)
    assert len(str(compiled).encode()) <= MAX_CACHED_STATEMENT_LENGTH
    assert len(compiled.params) <= MAX_CACHED_STATEMENT_PARAMS


def _values(label: str, reasons: str = "reasons", request_id: str = "r") -> dict[str, Any] | None:
    """The check-in statement's audit values for a steward labelled `label`."""
    return _CHECK_IN_AUDIT.values(
        actor=Actor.account(1, label),
        action="meetings.check_in",
        target_type="attendances",
        changes=_audit_changes(7, Hole("member_id"), Hole("may_vote"), Hole(reasons), ""),
        occurred_at=utcnow(),
        request_id=request_id,
    )


def test_the_audit_template_splits_at_every_hole_whatever_the_actor_writes() -> None:
    """A label that contains what a hole looks like does not move the split."""
    labels = ("Steward 1", 'member_id" "\\u001f', "\x1f" + "0" * 16 + "target_id", "⚖ \u2028\n\t\x7f")
    for label in labels:
        values = _values(label, request_id='r"\\\n')
        assert values is not None
        segments = [values[f"audit_part_{index}"] for index in range(5)]
        assert segments[0].endswith('"may_vote":[null,')
        assert segments[1] == '],"meeting_id":[null,7],"member_id":[null,'
        assert segments[3].endswith('"target":["attendances",')
        assert segments[4] == "]}"


def test_a_hole_the_statement_does_not_fill_leaves_the_entry_to_record_change() -> None:
    assert _values("Steward 1", reasons="unknown") is None


def test_the_holes_own_mark_in_a_label_leaves_the_entry_to_record_change() -> None:
    """Whoever could type the secret mark would only send the entry the ordinary way."""
    for label in (_HOLE_MARK + "reasons", _HOLE_MARK):
        assert _values(label) is None
