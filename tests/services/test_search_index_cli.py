"""`flask members reindex` rebuilds the index from the replica."""

from sqlalchemy import delete, func, select

from portal.members.search_models import MemberSearchTerm
from portal.members.testing import make_member


def test_reindex_command_rebuilds_the_index(runner, db_session) -> None:
    member = make_member(db_session, given_name="Ömer", family_name="Öztürk")
    db_session.execute(delete(MemberSearchTerm))
    db_session.commit()
    result = runner.invoke(args=["members", "reindex"])
    assert result.exit_code == 0, result.output
    terms = set(
        db_session.scalars(select(MemberSearchTerm.term).where(MemberSearchTerm.member_id == member.id))
    )
    assert {"omer", "ozturk", "~osturk"} <= terms
    assert db_session.scalar(select(func.count()).select_from(MemberSearchTerm)) == len(terms)
