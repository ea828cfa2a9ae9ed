import csv
import io

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.services import groups
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

HTMX = {"HX-Request": "true"}


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def group(tenant, owner):
    return groups.endpoint_group_create(
        user=owner, tenant=tenant, name="Kiosks", type="computer", description="Lobby"
    )


@pytest.fixture
def reader(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _computers(tenant, count):
    return list(
        Endpoint.objects.filter(tenant=tenant, type="computer").order_by("hostname")[
            :count
        ]
    )


def test_group_list_full_page(owner_client, tenant, group):
    response = owner_client.get(_url("endpoint_groups", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Kiosks" in html
    assert _url("endpoint_group_detail", tenant, group.id) in html
    assert _url("endpoint_group_create", tenant) in html
    assert 'aria-current="page">Endpoint groups' in html


def test_group_list_htmx_partial(owner_client, tenant, group):
    response = owner_client.get(_url("endpoint_groups", tenant), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="groups-table"')


def test_group_list_filters_by_type(owner_client, tenant, group):
    response = owner_client.get(_url("endpoint_groups", tenant), {"type": "server"})

    rows = response.context["result"].matched
    assert rows
    assert all(row.type == "server" for row in rows)
    assert group.id not in {row.id for row in rows}


def test_group_list_csv(owner_client, tenant, group):
    response = owner_client.get(
        _url("endpoint_groups", tenant), {"format": "csv", "q": "Kiosks"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == ["Name", "Type", "Endpoints", "Description", "Updated"]
    assert rows[1][:4] == ["Kiosks", "Computer", "0", "Lobby"]


def test_group_list_error_shown(owner_client, tenant, monkeypatch):
    rejected = reject(monkeypatch, "GET", r"/endpoint-groups$", 503, "Groups down")

    response = owner_client.get(_url("endpoint_groups", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Groups down" in html
    assert rejected.correlation_id in html


def test_group_members_error_shown(owner_client, tenant, group, monkeypatch, caplog):
    rejected = reject(monkeypatch, "GET", r"/endpoints$", 403, "Members hidden")

    response = owner_client.get(_url("endpoint_group_detail", tenant, group.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Members hidden" in html
    assert rejected.correlation_id in html
    assert f"members of group {group.id} failed" in caplog.text


def test_group_create(owner_client, tenant):
    response = owner_client.post(
        _url("endpoint_group_create", tenant),
        {"name": "Front desk", "type": "computer", "description": "Reception PCs"},
    )

    created = next(
        g for g in groups.endpoint_groups_list(tenant=tenant) if g.name == "Front desk"
    )
    assert response.status_code == 302
    assert response["Location"] == _url("endpoint_group_detail", tenant, created.id)
    assert created.description == "Reception PCs"
    assert AuditEntry.objects.get().operation == "endpoint_group_create"


def test_group_create_invalid_form(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("endpoint_group_create", tenant), {"name": " ", "type": "printer"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in html
    assert "Select a valid choice." in html
    assert writes == []


def test_group_create_sophos_error(owner_client, tenant, monkeypatch):
    rejected = reject(
        monkeypatch, "POST", r"/endpoint-groups$", 409, "A group named Kiosks exists"
    )

    response = owner_client.post(
        _url("endpoint_group_create", tenant), {"name": "Kiosks", "type": "computer"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "A group named Kiosks exists" in html
    assert rejected.correlation_id in html


def test_group_detail_lists_members(owner_client, tenant, group, owner):
    members = _computers(tenant, 2)
    groups.endpoint_group_endpoints_add(
        user=owner,
        tenant=tenant,
        group_id=group.id,
        endpoint_ids=[str(e.pk) for e in members],
    )

    full = owner_client.get(_url("endpoint_group_detail", tenant, group.id))
    partial = owner_client.get(
        _url("endpoint_group_detail", tenant, group.id), headers=HTMX
    )

    html = full.content.decode()
    assert full.status_code == 200
    assert "<html" in html
    for member in members:
        assert member.hostname in html
        assert f'value="{member.pk}" form="members-remove"' in html
    assert "<html" not in partial.content.decode()
    assert partial.content.decode().lstrip().startswith('<div id="members-table"')


def test_group_detail_unknown_id(owner_client, tenant):
    url = _url("endpoint_group_detail", tenant, "00000000-0000-4000-8000-000000000000")

    assert owner_client.get(url).status_code == 404


def test_group_edit(owner_client, tenant, group):
    response = owner_client.post(
        _url("endpoint_group_edit", tenant, group.id),
        {"name": "Lobby kiosks", "description": "Front"},
    )

    updated = groups.endpoint_group_get(tenant=tenant, group_id=group.id)
    assert response.status_code == 302
    assert updated.name == "Lobby kiosks"
    assert updated.description == "Front"


def test_group_delete_confirmation_and_delete(owner_client, tenant, group):
    confirm = owner_client.get(_url("endpoint_group_delete", tenant, group.id))
    response = owner_client.post(_url("endpoint_group_delete", tenant, group.id))

    assert "stay in the tenant but in no group" in confirm.content.decode()
    breadcrumb = f'<a href="{_url("endpoint_groups", tenant)}">Endpoint groups</a>'
    assert breadcrumb in confirm.content.decode()
    assert response.status_code == 302
    assert response["Location"] == _url("endpoint_groups", tenant)
    assert group.id not in {g.id for g in groups.endpoint_groups_list(tenant=tenant)}


def test_group_delete_error(owner_client, tenant, group, monkeypatch):
    rejected = reject(monkeypatch, "DELETE", r"/endpoint-groups/", 409, "Group busy")

    response = owner_client.post(_url("endpoint_group_delete", tenant, group.id))

    html = response.content.decode()
    assert response.status_code == 409
    assert "Group busy" in html
    assert rejected.correlation_id in html


def test_add_members_offers_right_type(owner_client, tenant, group):
    response = owner_client.get(_url("endpoint_group_members_add", tenant, group.id))

    html = response.content.decode()
    computers = Endpoint.objects.filter(tenant=tenant, type="computer")
    servers = Endpoint.objects.filter(tenant=tenant, type="server")
    assert response.status_code == 200
    assert all(str(e.pk) in html for e in computers)
    assert not any(str(e.pk) in html for e in servers)


def test_add_members_shows_result(owner_client, tenant, group):
    chosen = _computers(tenant, 2)

    response = owner_client.post(
        _url("endpoint_group_members_add", tenant, group.id),
        {"endpoints": [str(e.pk) for e in chosen]},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="add-members"')
    assert "Added 2 endpoints." in html
    for endpoint in chosen:
        assert endpoint.hostname in html
        endpoint.refresh_from_db()
        assert endpoint.group_name == "Kiosks"


def test_add_members_rejects_unoffered_id(owner_client, tenant, group, monkeypatch):
    server = Endpoint.objects.filter(tenant=tenant, type="server").first()
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("endpoint_group_members_add", tenant, group.id),
        {"endpoints": [str(server.pk)]},
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert writes == []


def test_remove_members_bulk_and_single(owner_client, tenant, group, owner):
    first, second, third = _computers(tenant, 3)
    groups.endpoint_group_endpoints_add(
        user=owner,
        tenant=tenant,
        group_id=group.id,
        endpoint_ids=[str(first.pk), str(second.pk), str(third.pk)],
    )

    bulk = owner_client.post(
        _url("endpoint_group_members_remove", tenant, group.id),
        {"endpoints": [str(first.pk), str(second.pk)]},
        headers=HTMX,
    )
    single = owner_client.post(
        _url("endpoint_group_member_remove", tenant, group.id, third.pk),
        headers=HTMX,
    )

    assert "Removed 2 endpoint(s) from the group." in bulk.content.decode()
    assert "Removed the endpoint from the group." in single.content.decode()
    assert (
        groups.endpoint_group_get(tenant=tenant, group_id=group.id).endpoint_count == 0
    )
    third.refresh_from_db()
    assert third.group_name == ""


def test_remove_members_needs_selection(owner_client, tenant, group, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("endpoint_group_members_remove", tenant, group.id), {}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Select at least one endpoint to remove." in response.content.decode()
    assert writes == []


def test_remove_single_not_member_shows_error(owner_client, tenant, group):
    outsider = _computers(tenant, 1)[0]

    response = owner_client.post(
        _url("endpoint_group_member_remove", tenant, group.id, outsider.pk),
        headers=HTMX,
    )

    html = response.content.decode()
    audit = AuditEntry.objects.get(operation="endpoint_group_endpoint_remove")
    assert response.status_code == 200
    assert "Status 404" in html
    assert audit.correlation_id in html


def test_reader_sees_no_group_controls(reader, tenant, group):
    listing = reader.get(_url("endpoint_groups", tenant)).content.decode()
    detail = reader.get(_url("endpoint_group_detail", tenant, group.id))

    html = detail.content.decode()
    assert _url("endpoint_group_create", tenant) not in listing
    assert detail.status_code == 200
    assert _url("endpoint_group_members_add", tenant, group.id) not in html
    assert _url("endpoint_group_delete", tenant, group.id) not in html
    assert "members-remove" not in html


@pytest.mark.parametrize(
    "name",
    [
        "endpoint_group_edit",
        "endpoint_group_delete",
        "endpoint_group_members_add",
        "endpoint_group_members_remove",
    ],
)
def test_reader_forged_group_post_rejected(reader, tenant, group, monkeypatch, name):
    writes = record_writes(monkeypatch)

    response = reader.post(_url(name, tenant, group.id), {"name": "Forged"})

    assert response.status_code == 403
    assert writes == []
