from urllib.parse import urlsplit

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


def _installers(api, tenant, **params):
    return tenant_request(api, tenant, "GET", "/endpoint/v1/downloads", **params)


def test_downloads_links_stay_off_the_internet(api, first_tenant):
    body = _installers(api, first_tenant).json()

    assert body["tenant"] == {"id": first_tenant.id}
    urls = [item["downloadUrl"] for item in body["installers"]]
    assert len(urls) == 4
    assert len(set(urls)) == len(urls)
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname.endswith(".invalid")
        assert first_tenant.id in parts.path


def test_release_notes_links_stay_off_the_internet(api, first_tenant):
    body = tenant_request(
        api, first_tenant, "GET", "/endpoint/v1/software/packages/static"
    ).json()

    hosts = {urlsplit(item["packageNotesUrl"]).hostname for item in body["items"]}
    assert hosts
    assert all(host.endswith(".invalid") for host in hosts)


def test_downloads_filtered_by_platform(api, first_tenant):
    response = _installers(api, first_tenant, platforms="linux,macOS")

    platforms = [item["platform"] for item in response.json()["installers"]]
    assert response.status_code == 200
    assert sorted(platforms) == ["linux", "macOS"]


def test_downloads_filtered_by_requested_products(api, first_tenant):
    every = _installers(api, first_tenant).json()["installers"]

    response = _installers(api, first_tenant, requestedProducts="deviceEncryption")

    listed = response.json()["installers"]
    assert response.status_code == 200
    assert 0 < len(listed) < len(every)
    assert {item["type"] for item in listed} == {"computer"}
    for item in listed:
        assert "deviceEncryption" in item["supportedProducts"]


def test_downloads_reject_unknown_platform(api, first_tenant):
    response = _installers(api, first_tenant, platforms="windows,amiga")

    assert response.status_code == 400
    assert "platforms" in response.json()["message"]
    assert "'amiga'" in response.json()["message"]
