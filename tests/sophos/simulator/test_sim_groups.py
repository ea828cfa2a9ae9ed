import pytest
from sim_helpers import tenant_request

from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.models import SimObject

GROUPS = "/endpoint/v1/endpoint-groups"


@pytest.fixture
def computers(first_tenant):
    rows = SimObject.objects.filter(
        kind=ENDPOINT_KIND, scope_id=first_tenant.id, data__type="computer"
    )
    return [row.object_id for row in rows[:2]]


@pytest.fixture
def group(api, first_tenant):
    response = tenant_request(
        api, first_tenant, "POST", GROUPS, {"name": "Front desk", "type": "computer"}
    )
    assert response.status_code == 201
    return response.json()


def test_group_create_with_endpoints(api, first_tenant, computers):
    response = tenant_request(
        api,
        first_tenant,
        "POST",
        GROUPS,
        {"name": "Seattle", "type": "computer", "endpointIds": computers},
    )

    body = response.json()
    assert response.status_code == 201
    assert body["endpoints"]["total"] == len(computers)
    assert {item["id"] for item in body["endpoints"]["items"]} == set(computers)


def test_group_add_reports_errors(api, first_tenant, group, computers):
    unknown = "00000000-0000-4000-8000-000000000000"

    response = tenant_request(
        api,
        first_tenant,
        "POST",
        f"{GROUPS}/{group['id']}/endpoints",
        {"ids": [*computers, unknown]},
    )

    body = response.json()
    assert response.status_code == 201
    assert [item["id"] for item in body["addedEndpoints"]] == computers
    assert body["errors"]["endpointsNotFound"] == [unknown]
    assert body["errors"]["endpointsOfWrongType"] == []


def test_group_members_listed_and_removed(api, first_tenant, group, computers):
    members_path = f"{GROUPS}/{group['id']}/endpoints"
    tenant_request(api, first_tenant, "POST", members_path, {"ids": computers})

    listed = tenant_request(api, first_tenant, "GET", members_path).json()
    removed = tenant_request(
        api, first_tenant, "DELETE", members_path, ids=computers[0]
    ).json()
    single = tenant_request(
        api, first_tenant, "DELETE", f"{members_path}/{computers[1]}"
    )
    after = tenant_request(api, first_tenant, "GET", members_path).json()

    assert {item["id"] for item in listed["items"]} == set(computers)
    assert "nextKey" not in listed["pages"]
    assert removed["removedEndpoints"] == [{"id": computers[0]}]
    assert single.json() == {"removed": True}
    assert after["items"] == []


def test_endpoint_shows_its_group(api, first_tenant, group, computers):
    tenant_request(
        api,
        first_tenant,
        "POST",
        f"{GROUPS}/{group['id']}/endpoints",
        {"ids": computers},
    )

    detail = tenant_request(
        api, first_tenant, "GET", f"/endpoint/v1/endpoints/{computers[0]}"
    ).json()

    assert detail["group"] == {"id": group["id"], "name": "Front desk"}


def test_group_of_wrong_type(api, first_tenant, computers):
    server_group = tenant_request(
        api, first_tenant, "POST", GROUPS, {"name": "DCs", "type": "server"}
    ).json()

    response = tenant_request(
        api,
        first_tenant,
        "POST",
        f"{GROUPS}/{server_group['id']}/endpoints",
        {"ids": computers[:1]},
    )

    assert response.json()["errors"]["endpointsOfWrongType"] == computers[:1]


def test_groups_by_type(api, first_tenant, group):
    tenant_request(api, first_tenant, "POST", GROUPS, {"name": "DCs", "type": "server"})

    response = tenant_request(api, first_tenant, "GET", f"{GROUPS}/types/computer")

    assert response.status_code == 200
    assert {g["type"] for g in response.json()["items"]} == {"computer"}


def test_group_delete_releases_members(api, first_tenant, group, computers):
    tenant_request(
        api,
        first_tenant,
        "POST",
        f"{GROUPS}/{group['id']}/endpoints",
        {"ids": computers},
    )

    deleted = tenant_request(api, first_tenant, "DELETE", f"{GROUPS}/{group['id']}")

    assert deleted.json() == {"deleted": True}
    detail = tenant_request(
        api, first_tenant, "GET", f"/endpoint/v1/endpoints/{computers[0]}"
    ).json()
    assert "group" not in detail


USERS = "/common/v1/directory/users"
USER_GROUPS = "/common/v1/directory/user-groups"


def test_directory_memberships(api, first_tenant):
    user = tenant_request(
        api, first_tenant, "POST", USERS, {"name": "Ada Byrne"}
    ).json()
    group = tenant_request(
        api, first_tenant, "POST", USER_GROUPS, {"name": "Finance"}
    ).json()
    unknown = "00000000-0000-4000-8000-000000000000"

    added = tenant_request(
        api,
        first_tenant,
        "POST",
        f"{USERS}/{user['id']}/groups",
        {"ids": [group["id"], unknown]},
    ).json()
    members = tenant_request(
        api, first_tenant, "GET", f"{USER_GROUPS}/{group['id']}/users"
    ).json()
    busy = tenant_request(api, first_tenant, "DELETE", f"{USER_GROUPS}/{group['id']}")
    removed = tenant_request(
        api,
        first_tenant,
        "DELETE",
        f"{USER_GROUPS}/{group['id']}/users",
        ids=user["id"],
    ).json()
    deleted = tenant_request(
        api, first_tenant, "DELETE", f"{USER_GROUPS}/{group['id']}"
    )

    assert added == {
        "addedToGroups": [{"id": group["id"]}],
        "errors": {"groupsNotFound": [unknown]},
    }
    assert [m["id"] for m in members["items"]] == [user["id"]]
    assert busy.status_code == 409
    assert removed["removedUsers"] == [{"id": user["id"]}]
    assert deleted.status_code == 200


def test_groups_filtered_by_endpoint(api, first_tenant, group, computers):
    tenant_request(
        api,
        first_tenant,
        "POST",
        f"{GROUPS}/{group['id']}/endpoints",
        {"ids": computers[:1]},
    )
    other = SimObject.objects.get(kind=ENDPOINT_KIND, object_id=computers[1])

    single = tenant_request(
        api, first_tenant, "GET", GROUPS, endpointIds=computers[0]
    ).json()
    both = tenant_request(
        api, first_tenant, "GET", GROUPS, endpointIds=",".join(computers)
    ).json()
    computer_groups = tenant_request(
        api, first_tenant, "GET", f"{GROUPS}/types/computer", endpointIds=computers[0]
    ).json()
    server_groups = tenant_request(
        api, first_tenant, "GET", f"{GROUPS}/types/server", endpointIds=computers[0]
    ).json()

    assert [item["id"] for item in single["items"]] == [group["id"]]
    assert {item["id"] for item in both["items"]} == {
        group["id"],
        other.data["group"]["id"],
    }
    assert [item["id"] for item in computer_groups["items"]] == [group["id"]]
    assert server_groups["items"] == []
