"""Member use cases, one module per group; this file only re-exports them."""

from portal.members.services.directory import (
    DirectoryFilters,
    body_view,
    list_bodies,
    listed_person,
    search_people,
)
from portal.members.services.editing import MemberUpdate, update_member
from portal.members.services.member_search import MemberFilters, Scope, member_in_scope, search_members
from portal.members.services.my_data import collect_personal_data
from portal.members.services.search_index import rebuild_search_index, refresh_search_entries

__all__ = [
    "DirectoryFilters",
    "MemberFilters",
    "MemberUpdate",
    "Scope",
    "body_view",
    "collect_personal_data",
    "list_bodies",
    "listed_person",
    "member_in_scope",
    "rebuild_search_index",
    "refresh_search_entries",
    "search_members",
    "search_people",
    "update_member",
]
