"""Every page of issue 5 renders for the people who may see it."""

from portal.auth.roles import Role
from portal.members.models import PositionFunction
from portal.members.testing import make_position


def test_member_pages_render(signed_in_client, org_tree, db_session) -> None:
    client, _credentials = signed_in_client()
    for path in [
        "/my-page",
        "/my-page/edit",
        "/my-page/card",
        "/whos-who",
        f"/whos-who/bodies/{org_tree.branch.id}",
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])
    assert client.get("/members").status_code == 403


def test_officer_pages_render(signed_in_client, org_tree, member_factory, db_session) -> None:
    target = member_factory(family_name="Doelwit")
    make_position(db_session, target, org_tree.branch, PositionFunction.CHAIR)
    db_session.commit()
    client, _ = signed_in_client(Role.BRANCH_BOARD, org_tree.branch.id)
    assert client.get("/members").status_code == 200
    response = client.get(f"/members/{target.id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    assert client.get(f"/whos-who/people/{target.id}").status_code == 200
