"""The CRM simulator over real HTTP: CiviCRM APIv4 request/response shapes, errors, writes, faults, churn."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from crm_sync.simulator.testing import SimulatorHandle, cached_database, copy_database, running_simulator

MEMBERS = 1000
SEED = 11
HEADERS = {"X-Civi-Auth": "Bearer test-key", "X-Requested-With": "XMLHttpRequest"}
LIVE = "SELECT id FROM civicrm_contact WHERE contact_type = 'Individual' AND is_deleted = 0"
GENERIC = re.compile(
    r"^Sorry an error occurred and your request was not completed\. \(Error ID: \w{4}-\w{4}-\w{4}\)$"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated party for the whole module."""
    return cached_database(tmp_path_factory.mktemp("crm-sim"), members=MEMBERS, seed=SEED)


@pytest.fixture(scope="module")
def reader(template: Path) -> Iterator[SimulatorHandle]:
    """A simulator shared by the tests that only read (they must not write or set faults)."""
    with running_simulator(template, members=MEMBERS, seed=SEED) as handle:
        yield handle


@pytest.fixture
def sim(template: Path, tmp_path: Path) -> Iterator[SimulatorHandle]:
    """A simulator on this test's own copy of the party, for writes, faults and churn."""
    path = copy_database(template, tmp_path / "crm.sqlite")
    with running_simulator(path, members=MEMBERS, seed=SEED) as handle:
        yield handle


def post(
    handle: SimulatorHandle,
    entity: str,
    action: str,
    params: Any = None,
    *,
    headers: dict[str, str] | None = None,
    raw: str | None = None,
) -> requests.Response:
    """POST one APIv4 call the way CiviCRM clients do (form field `params` with a JSON string)."""
    encoded = raw if raw is not None else orjson.dumps(params)
    data = {} if params is None and raw is None else {"params": encoded}
    url = f"{handle.url}/civicrm/ajax/api4/{entity}/{action}"
    return requests.post(url, data=data, headers=HEADERS if headers is None else headers, timeout=10)


def api(handle: SimulatorHandle, entity: str, action: str = "get", **params: Any) -> list[dict[str, Any]]:
    """Call and return `values`, failing on anything but HTTP 200."""
    response = post(handle, entity, action, params)
    assert response.status_code == 200, response.text
    return response.json()["values"]


def sql(handle: SimulatorHandle, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the simulator's database directly, to compare with what the API says."""
    conn = sqlite3.connect(handle.db_path)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def ids(handle: SimulatorHandle, where: list[Any]) -> list[int]:
    """The ids the API returns for Contact.get with `where`."""
    return [row["id"] for row in api(handle, "Contact", select=["id"], where=where)]


def one(handle: SimulatorHandle, query: str, *args: Any) -> Any:
    """The first column of the first row of a direct query."""
    return sql(handle, query, *args)[0][0]


def by_id(contact_id: int) -> list[list[Any]]:
    """A where list selecting one id."""
    return [["id", "=", contact_id]]


def assert_generic_error(response: requests.Response, status: int) -> None:
    """CiviCRM's answer to a user without `view debug output`: no reason, just an error id."""
    assert response.status_code == status
    body = response.json()
    assert body["error_code"] == 0
    assert body["status"] == status
    assert GENERIC.match(body["error_message"]), body


def test_success_body_has_civicrm_keys(reader: SimulatorHandle) -> None:
    response = post(reader, "Contact", "get", {"select": ["id", "display_name"], "limit": 3})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"values", "entity", "action", "version", "count", "countFetched"}
    assert [body[key] for key in ("entity", "action", "version", "count", "countFetched")] == [
        "Contact",
        "get",
        4,
        3,
        3,
    ]
    assert all(set(row) == {"id", "display_name"} for row in body["values"])


def test_select_where_order_limit_offset(reader: SimulatorHandle) -> None:
    where = [["contact_type", "=", "Individual"], ["last_name", "LIKE", "J%"]]
    order = {"last_name": "DESC", "id": "ASC"}
    select = ["last_name", "first_name"]
    rows = api(reader, "Contact", select=select, where=where, orderBy=order, limit=5, offset=2)
    expected = sql(
        reader,
        "SELECT id, last_name, first_name FROM civicrm_contact WHERE contact_type = 'Individual' "
        "AND is_deleted = 0 AND last_name LIKE 'J%' ORDER BY last_name DESC, id ASC LIMIT 5 OFFSET 2",
    )
    assert [(r["id"], r["last_name"], r["first_name"]) for r in rows] == expected
    assert len(rows) == 5


def test_row_count_gives_count_matched(reader: SimulatorHandle) -> None:
    organisations = [["contact_type", "=", "Organization"]]
    body = post(reader, "Contact", "get", {"select": ["row_count"], "where": organisations}).json()
    expected = one(reader, "SELECT COUNT(*) FROM civicrm_contact WHERE contact_type = 'Organization'")
    assert body["countMatched"] == body["count"] == expected
    assert body["values"] == []
    body = post(
        reader, "Contact", "get", {"select": ["id", "row_count"], "where": organisations, "limit": 10}
    ).json()
    assert (body["countMatched"], body["countFetched"]) == (expected, 10)


def test_or_and_nesting(reader: SimulatorHandle) -> None:
    first, second, third = (row[0] for row in sql(reader, f"{LIVE} LIMIT 3"))
    nested = ["OR", [["id", "=", first], ["AND", [["id", ">=", second], ["id", "<=", second]]]]]
    assert ids(reader, [nested, ["id", "!=", third]]) == [first, second]
    assert ids(reader, [["id", "IN", [first, third]]]) == [first, third]
    assert ids(reader, [["id", "BETWEEN", [first, third]], ["id", "NOT IN", [second]]]) == [first, third]


def test_implicit_joins_and_custom_fields(reader: SimulatorHandle) -> None:
    contact_id, email, phone, postcode, branch, interests = sql(
        reader,
        "SELECT c.id, e.email, p.phone, a.postal_code, c.party_member_branch_id, c.party_member_interests "
        "FROM civicrm_contact c JOIN civicrm_email e ON e.contact_id = c.id AND e.is_primary = 1 "
        "JOIN civicrm_phone p ON p.contact_id = c.id AND p.is_primary = 1 "
        "JOIN civicrm_address a ON a.contact_id = c.id AND a.is_primary = 1 "
        "WHERE c.is_deleted = 0 AND c.party_member_interests != '[]' LIMIT 1",
    )[0]
    select = ["email_primary.email", "phone_primary.phone", "phone_primary.phone_type_id:name"]
    select += ["address_primary.postal_code", "address_primary.country_id:abbr", "Party_Member.*"]
    (row,) = api(reader, "Contact", select=select, where=by_id(contact_id))
    assert [row[key] for key in select[:2]] == [email, phone]
    assert row["address_primary.postal_code"] == postcode
    assert row["phone_primary.phone_type_id:name"] in ("Mobile", "Phone")
    assert row["address_primary.country_id:abbr"] == "NL"
    assert row["Party_Member.branch_id"] == branch
    assert row["Party_Member.interests"] == orjson.loads(interests)
    assert isinstance(row["Party_Member.directory_consent"], bool)
    national = [["contact_sub_type", "=", "National"]]
    (unit,) = api(reader, "Contact", select=["contact_sub_type", "Party_Unit.*"], where=national)
    assert unit["contact_sub_type"] == ["National"]
    assert (unit["Party_Unit.code"], unit["Party_Unit.parent_id"]) == ("NL", None)


def test_pseudoconstant_names_in_select_and_where(reader: SimulatorHandle) -> None:
    select = ["status_id:name", "membership_type_id:name"]
    rows = api(reader, "Membership", select=select, where=[["status_id:name", "=", "Grace"]])
    assert rows
    assert {row["status_id:name"] for row in rows} == {"Grace"}
    assert {row["membership_type_id:name"] for row in rows} <= {"Lid", "Jongerenlid"}
    where = [["relationship_type_id:name", "IN", ["Chair_of", "Treasurer_of"]]]
    rows = api(reader, "Relationship", select=["relationship_type_id:name"], where=where)
    assert {row["relationship_type_id:name"] for row in rows} == {"Chair_of", "Treasurer_of"}
    assert api(reader, "Membership", where=[["status_id:name", "=", "NoSuchStatus"]]) == []


def test_trash_is_excluded_unless_asked(reader: SimulatorHandle) -> None:
    trashed = one(reader, "SELECT id FROM civicrm_contact WHERE is_deleted = 1")
    assert api(reader, "Contact", where=by_id(trashed)) == []
    asked = [*by_id(trashed), ["is_deleted", "IN", [False, True]]]
    (row,) = api(reader, "Contact", select=["is_deleted"], where=asked)
    assert row["is_deleted"] is True


def test_keyset_paging_returns_every_individual_once(reader: SimulatorHandle) -> None:
    seen: list[int] = []
    last = 0
    while True:
        where = [["contact_type", "=", "Individual"], ["is_deleted", "IN", [False, True]], ["id", ">", last]]
        rows = api(
            reader,
            "Contact",
            select=["id", "email_primary.email"],
            where=where,
            orderBy={"id": "ASC"},
            limit=250,
        )
        seen += [row["id"] for row in rows]
        if len(rows) < 250:
            break
        last = rows[-1]["id"]
    assert len(seen) == len(set(seen)) == MEMBERS


def test_missing_params_field_is_a_default_get(reader: SimulatorHandle) -> None:
    response = post(reader, "Group", "get")
    assert response.status_code == 200
    assert {row["name"] for row in response.json()["values"]} >= {"Nieuwsbrief", "Vrijwilligers"}


def test_get_by_http_get_works_but_a_write_by_get_is_refused(reader: SimulatorHandle) -> None:
    url = f"{reader.url}/civicrm/ajax/api4/Contact"
    ok = requests.get(f"{url}/get", params={"params": '{"limit":1}'}, headers=HEADERS, timeout=10)
    assert ok.status_code == 200
    write = '{"where":[["id","=",1]],"values":{"first_name":"X"}}'
    refused = requests.get(f"{url}/update", params={"params": write}, headers=HEADERS, timeout=10)
    assert refused.status_code == 405
    message = "SECURITY: All requests that modify the database must be http POST, not GET."
    assert refused.json() == {"error_code": 0, "error_message": message, "status": 405}


def test_missing_ajax_header_and_bad_keys(reader: SimulatorHandle) -> None:
    alert = post(reader, "Contact", "get", {}, headers={})
    assert alert.status_code == 400
    message = "SECURITY ALERT: Ajax requests can only be issued by javascript clients, eg. CRM.api4()."
    assert alert.json() == {"error_code": 400, "error_message": message}
    ajax = {"X-Requested-With": "XMLHttpRequest"}
    for headers in ({"X-Civi-Auth": "Bearer wrong", **ajax}, ajax, {"X-Civi-Auth": "wrong"}):
        refused = post(reader, "Contact", "get", {}, headers=headers)
        assert refused.status_code == 401
        assert refused.text == "HTTP 401 Invalid credential"
        assert refused.headers["Content-Type"].startswith("text/plain")
    # An authx header credential is itself CSRF-proof, so CiviCRM does not ask for X-Requested-With then.
    keyed = post(reader, "Contact", "get", {"limit": 1}, headers={"X-Civi-Auth": "Bearer test-key"})
    assert keyed.status_code == 200


def test_malformed_json_unknown_entity_action_and_field(reader: SimulatorHandle) -> None:
    assert_generic_error(post(reader, "Contact", "get", raw="{not json"), 500)
    assert_generic_error(post(reader, "Contact", "get", raw='"a string"'), 500)
    assert_generic_error(post(reader, "Nonsense", "get", {}), 404)
    assert_generic_error(post(reader, "Contact", "frobnicate", {}), 404)
    assert_generic_error(post(reader, "Contact", "get", {"select": ["shoe_size"]}), 500)
    assert_generic_error(post(reader, "Contact", "get", {"where": [["id", "~", 1]]}), 500)
    assert_generic_error(post(reader, "Contact", "get", {"chain": {"x": ["Email", "get", {}]}}), 500)


def test_sql_injection_in_field_names_and_values_has_no_effect(reader: SimulatorHandle) -> None:
    before = one(reader, "SELECT COUNT(*) FROM civicrm_contact")
    for params in (
        {"select": ["id; DROP TABLE civicrm_contact"]},
        {"select": ["id", "(SELECT api_key FROM civicrm_contact)"]},
        {"where": [["id) OR (1=1", "=", 1]]},
        {"orderBy": {"id; DELETE FROM civicrm_contact": "ASC"}},
        {"orderBy": {"id": "ASC; DELETE FROM civicrm_contact"}},
    ):
        assert_generic_error(post(reader, "Contact", "get", params), 500)
    assert api(reader, "Contact", where=[["last_name", "=", "x' OR '1'='1"]]) == []
    assert api(reader, "Contact", where=[["last_name", "LIKE", "%'; DROP TABLE civicrm_contact; --"]]) == []
    assert one(reader, "SELECT COUNT(*) FROM civicrm_contact") == before


def test_contact_update_bumps_modified_date_and_is_recorded(sim: SimulatorHandle) -> None:
    contact_id, before = sql(sim, LIVE.replace("SELECT id", "SELECT id, modified_date") + " LIMIT 1")[0]
    changes = {"first_name": "Zoë", "middle_name": "van der", "Party_Member.interests": ["Europa"]}
    (row,) = api(sim, "Contact", "update", where=by_id(contact_id), values=changes)
    assert row["first_name"] == "Zoë"
    assert row["display_name"].startswith("Zoë van der ")
    assert row["Party_Member.interests"] == ["Europa"]
    assert row["modified_date"] > before
    assert row["modified_date"] >= time.strftime("%Y-%m-%d", time.gmtime())
    (recorded,) = sim.requests("Contact", "update")
    assert (recorded["params"], recorded["status"]) == ({"where": by_id(contact_id), "values": changes}, 200)
    wanted = {"entity": "Contact", "action": "update"}
    listed = requests.get(f"{sim.url}/_sim/requests", params=wanted, timeout=10)
    assert listed.json() == [recorded]


def test_child_writes_bump_the_contact(sim: SimulatorHandle) -> None:
    contact_id, before = sql(
        sim,
        "SELECT c.id, c.modified_date FROM civicrm_contact c "
        "JOIN civicrm_email e ON e.contact_id = c.id WHERE c.is_deleted = 0 LIMIT 1",
    )[0]
    record = {"contact_id": contact_id, "email": "nieuw@voorbeeld.nl", "is_primary": True}
    saved = api(sim, "Email", "save", records=[record], match=["contact_id", "is_primary"])
    assert saved[0]["email"] == "nieuw@voorbeeld.nl"
    primaries = "SELECT COUNT(*) FROM civicrm_email WHERE contact_id = ? AND is_primary = 1"
    assert one(sim, primaries, contact_id) == 1
    (row,) = api(sim, "Contact", select=["email_primary.email", "modified_date"], where=by_id(contact_id))
    assert row["email_primary.email"] == "nieuw@voorbeeld.nl"
    assert row["modified_date"] > before
    street = {"street_name": "Dorpsstraat", "street_number": 12, "street_number_suffix": "a"}
    where = [["contact_id", "=", contact_id], ["is_primary", "=", True]]
    (address,) = api(sim, "Address", "update", where=where, values=street)
    assert address["street_address"] == "Dorpsstraat 12 a"
    mobile = {
        "contact_id": contact_id,
        "phone": "+31 6 1234 5678",
        "phone_type_id:name": "Mobile",
        "is_primary": True,
    }
    (phone,) = api(sim, "Phone", "create", values=mobile)
    assert (phone["phone_numeric"], phone["phone_type_id"]) == ("31612345678", 2)
    assert [entry["action"] for entry in sim.requests()] == ["save", "update", "create"]


def test_invalid_writes_answer_the_generic_error(sim: SimulatorHandle) -> None:
    live = one(sim, f"{LIVE} LIMIT 1")
    trashed = one(sim, "SELECT id FROM civicrm_contact WHERE is_deleted = 1 LIMIT 1")
    for entity, action, params in (
        ("Email", "create", {"values": {"contact_id": live, "email": "not-an-address"}}),
        ("Contact", "update", {"where": by_id(trashed), "values": {"first_name": "X"}}),
        ("Contact", "update", {"where": by_id(99_999_999), "values": {"first_name": "X"}}),
        ("Phone", "create", {"values": {"contact_id": trashed, "phone": "0612345678"}}),
        ("Contact", "update", {"where": by_id(live), "values": {"modified_date": "2020-01-01"}}),
    ):
        assert_generic_error(post(sim, entity, action, params), 500)
    assert [entry["status"] for entry in sim.requests()] == [500] * 5


def test_delete_trashes_contacts_and_promotes_another_primary(sim: SimulatorHandle) -> None:
    contact_id = one(sim, f"{LIVE} LIMIT 1")
    second = {"contact_id": contact_id, "email": "tweede@voorbeeld.nl", "is_primary": False}
    api(sim, "Email", "create", values=second)
    primary_email = "SELECT id, email FROM civicrm_email WHERE contact_id = ? AND is_primary = 1"
    primary = one(sim, primary_email, contact_id)
    assert api(sim, "Email", "delete", where=by_id(primary)) == [{"id": primary}]
    assert sql(sim, primary_email, contact_id)[0][1] == "tweede@voorbeeld.nl"
    assert api(sim, "Contact", "delete", where=by_id(contact_id)) == [{"id": contact_id}]
    assert one(sim, "SELECT is_deleted FROM civicrm_contact WHERE id = ?", contact_id) == 1


def test_get_merged_to(reader: SimulatorHandle) -> None:
    merged, survivor = sql(reader, "SELECT contact_id, survivor_id FROM sim_merged_to LIMIT 1")[0]
    assert api(reader, "Contact", "getMergedTo", contact_id=merged) == [{"id": survivor}]
    assert api(reader, "Contact", "getMergedTo", contact_id=survivor) == []


def test_faults_latency_errors_throttling_and_maintenance(sim: SimulatorHandle) -> None:
    sim.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert post(sim, "Contact", "get", {"limit": 1}).status_code == 200
    assert time.perf_counter() - started >= 0.15
    sim.reset_faults()
    sim.set_faults(error_rate=0.5)
    statuses = [post(sim, "Contact", "get", {"limit": 1}).status_code for _ in range(40)]
    assert 5 < statuses.count(500) < 35
    assert statuses.count(200) == 40 - statuses.count(500)
    sim.set_faults(error_rate=0.0, rate_limit_retry_after=7)
    throttled = post(sim, "Contact", "get", {})
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "7")
    control = f"{sim.url}/_sim/faults"
    faults = requests.post(control, json={"rate_limit_retry_after": None, "down": True}, timeout=10)
    assert faults.json() == {"latency_ms": 0, "error_rate": 0.0, "rate_limit_retry_after": None, "down": True}
    down = post(sim, "Contact", "update", {"where": by_id(1), "values": {"first_name": "X"}})
    assert down.status_code == 503
    assert down.json() == {"status_code": 503, "error_message": "maintenance"}
    assert sim.requests() == []
    assert requests.get(f"{sim.url}/_sim/health", timeout=10).json() == {"members": MEMBERS, "seed": SEED}
    requests.post(control, json={"reset": True}, timeout=10).raise_for_status()
    assert post(sim, "Contact", "get", {"limit": 1}).status_code == 200
    assert requests.post(control, json={"error_rate": 3}, timeout=10).status_code == 400


def test_churn_changes_about_the_requested_share_and_bumps_modified_date(sim: SimulatorHandle) -> None:
    live = len(sql(sim, LIVE))
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    counts = sim.churn(5, seed=3)
    assert counts["contacts_changed"] == round(live * 0.05)
    assert counts["new_members"] >= 1
    assert counts["positions_ended"] >= 1
    changed_since = "SELECT COUNT(*) FROM civicrm_contact WHERE contact_type = 'Individual' "
    changed_since += "AND modified_date >= ?"
    changed = one(sim, changed_since, started)
    assert 0.04 * MEMBERS <= changed <= 0.08 * MEMBERS
    assert changed >= counts["contacts_changed"] + counts["new_members"]
    where = [
        ["contact_type", "=", "Individual"],
        ["is_deleted", "IN", [0, 1]],
        ["modified_date", ">=", started],
    ]
    assert len(api(sim, "Contact", select=["id"], where=where)) == changed
    served = requests.post(f"{sim.url}/_sim/churn", json={"percent": 1, "seed": 4}, timeout=30).json()
    assert served["contacts_changed"] > 0
