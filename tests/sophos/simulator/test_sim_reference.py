from sim_helpers import GLOBAL, tenant_request

from sophos.simulator.api.reference import SPECIAL_PACKAGES, STATIC_PACKAGES


def test_web_categories_bare_array(api, first_tenant):
    body = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/settings/web-control/categories"
    ).json()

    assert isinstance(body, list)
    assert {"id", "name", "label"} <= set(body[0])


def test_permission_sets(api, first_tenant):
    tenant = tenant_request(
        api, first_tenant, "GET", "/common/v1/roles/permission-sets"
    )
    partner = api.client.get(
        GLOBAL + "/partner/v1/roles/permission-sets",
        headers={
            "Authorization": f"Bearer {api.token}",
            "X-Partner-ID": api.partner_id,
        },
    )

    assert tenant.json() == partner.json()
    assert tenant.json()["items"]


def test_special_package_added_once(api, first_tenant):
    package_id = SPECIAL_PACKAGES[0]["id"]
    path = f"/endpoint/v1/software/packages/static/{package_id}/add"

    first = tenant_request(api, first_tenant, "POST", path, {})
    second = tenant_request(api, first_tenant, "POST", path, {})
    listed = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/software/packages/static"
    ).json()

    assert first.status_code == 201
    assert second.status_code == 409
    assert package_id in {item["id"] for item in listed["items"]}


def test_fixed_package_cannot_be_added(api, first_tenant):
    path = f"/endpoint/v1/software/packages/static/{STATIC_PACKAGES[0]['id']}/add"

    response = tenant_request(api, first_tenant, "POST", path, {})

    assert response.status_code == 409


def test_special_package_hidden_until_added(api, first_tenant):
    package_id = SPECIAL_PACKAGES[1]["id"]

    listed = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/software/packages/static"
    ).json()
    read = tenant_request(
        api, first_tenant, "GET", f"/endpoint/v1/software/packages/static/{package_id}"
    )

    assert package_id not in {item["id"] for item in listed["items"]}
    assert read.status_code == 404


def test_package_comment_put_creates(api, first_tenant):
    path = f"/endpoint/v1/software/comments/{STATIC_PACKAGES[1]['id']}"

    put = tenant_request(api, first_tenant, "PUT", path, {"comment": "Pinned for CAD"})
    read = tenant_request(api, first_tenant, "GET", path)
    listed = tenant_request(api, first_tenant, "GET", "/endpoint/v1/software/comments")

    assert put.status_code == 200
    assert read.json()["comment"] == "Pinned for CAD"
    assert [c["id"] for c in listed.json()["items"]] == [STATIC_PACKAGES[1]["id"]]
    assert listed.json()["items"][0]["package"] == STATIC_PACKAGES[1]


def test_downloads_link_to_tenant_region(api, first_tenant):
    body = tenant_request(api, first_tenant, "GET", "/endpoint/v1/downloads").json()

    assert body["tenant"] == {"id": first_tenant.id}
    url = body["installers"][0]["downloadUrl"]
    assert url.startswith(f"https://api-{first_tenant.data_region}.central.sophos.com/")
