"""I12: the pull and a portal edit racing on one member: the optimistic version makes the late one lose
loudly (a `Conflict` for the editor), so no write is lost. PostgreSQL only: on SQLite a write session
takes the database's write lock at BEGIN, so the two cannot interleave."""

import pytest

from portal.core.actors import Actor
from portal.core.database import Database
from portal.core.errors import Conflict
from portal.members.models import Member
from portal.members.services import update_member
from portal.members.testing import make_member, make_org_unit

EDITOR = Actor.account(7, "Jan Editor")


@pytest.fixture
def member_id(database: Database) -> int:
    with database.transaction() as session:
        branch = make_org_unit(session)
        return make_member(session, branch_id=branch.id, city="Utrecht").id


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_I12_a_pull_and_an_edit_racing_on_one_member_lose_nothing(database: Database, member_id: int) -> None:
    editor = database.session(write=True)
    member = editor.get_one(Member, member_id)  # the form was loaded …
    with database.transaction() as session:  # … then the pull changed the row
        session.get_one(Member, member_id).phone = "+31201234567"
    with pytest.raises(Conflict):
        update_member(editor, actor=EDITOR, member=member, changes={"city": "Zeist"})
    editor.rollback()
    editor.close()
    with database.transaction() as session:
        again = session.get_one(Member, member_id)
        assert (again.phone, again.city) == ("+31201234567", "Utrecht")  # the pull's write survived
