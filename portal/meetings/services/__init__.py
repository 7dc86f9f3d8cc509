"""Meeting use cases, one module per group; this file only re-exports them."""

from portal.meetings.services.check_in import check_in_by_card, check_in_member
from portal.meetings.services.check_out import check_out_attendance, check_out_member
from portal.meetings.services.dashboard import (
    Counts,
    attendance_rows,
    guests_inside,
    live_counts,
    recent_attempts,
    snapshot_rows,
    snapshots,
    take_snapshot,
)
from portal.meetings.services.door import DoorResult, Outcome, Signal, active_presence, log_attempt
from portal.meetings.services.freeze import freeze_due_rolls, freeze_roll
from portal.meetings.services.guests import register_guest
from portal.meetings.services.meetings import (
    DoorContext,
    MeetingDraft,
    assign_steward,
    create_meeting,
    door_context,
    meetings_in_scope,
    quorum_rule,
    record_suspension,
    revoke_steward,
    steward_meetings,
    stewards_of,
    unit_lineage,
    unit_subtree,
    update_meeting,
    voting_rule,
)
from portal.meetings.services.reports import member_attendance_data, record_export, roll_entries
from portal.meetings.services.retention import pseudonymise_expired_attendance, pseudonymise_meeting
from portal.meetings.services.roll import (
    decide_difference,
    flag_differences,
    flag_differences_after_pull,
    pending_differences,
)
from portal.meetings.services.search import Candidate, SearchResult, search_members
from portal.meetings.services.voting_rights import override_voting_right, overrides, record_voting_card

__all__ = [
    "Candidate",
    "Counts",
    "DoorContext",
    "DoorResult",
    "MeetingDraft",
    "Outcome",
    "SearchResult",
    "Signal",
    "active_presence",
    "assign_steward",
    "attendance_rows",
    "check_in_by_card",
    "check_in_member",
    "check_out_attendance",
    "check_out_member",
    "create_meeting",
    "decide_difference",
    "door_context",
    "flag_differences",
    "flag_differences_after_pull",
    "freeze_due_rolls",
    "freeze_roll",
    "guests_inside",
    "live_counts",
    "log_attempt",
    "meetings_in_scope",
    "member_attendance_data",
    "override_voting_right",
    "overrides",
    "pending_differences",
    "pseudonymise_expired_attendance",
    "pseudonymise_meeting",
    "quorum_rule",
    "recent_attempts",
    "record_export",
    "record_suspension",
    "record_voting_card",
    "register_guest",
    "revoke_steward",
    "roll_entries",
    "search_members",
    "snapshot_rows",
    "snapshots",
    "steward_meetings",
    "stewards_of",
    "take_snapshot",
    "unit_lineage",
    "unit_subtree",
    "update_meeting",
    "voting_rule",
]
