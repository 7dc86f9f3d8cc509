"""Portal edits to the CRM: the outbox, its relay and what admins and members see of it."""

from crm_sync.push.admin import discard_message, replay_all, replay_message
from crm_sync.push.enqueue import enqueue_member_change
from crm_sync.push.relay import RelayReport, deliver_now, drain
from crm_sync.push.state import DeliveryState, MemberDelivery, delivery_state, outbox_summary

__all__ = [
    "DeliveryState",
    "MemberDelivery",
    "RelayReport",
    "deliver_now",
    "delivery_state",
    "discard_message",
    "drain",
    "enqueue_member_change",
    "outbox_summary",
    "replay_all",
    "replay_message",
]
