import pytest

from sophos.errors import NotFound
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.services import groups


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def group(tenant, owner):
    return groups.endpoint_group_create(
        user=owner, tenant=tenant, name="Kiosks", type="computer", description="Lobby"
    )


def test_group_create_and_list(tenant, group):
    listed = groups.endpoint_groups_list(tenant=tenant, group_type="computer")

    assert group.name == "Kiosks"
    assert group.type == "computer"
    assert group.endpoint_count == 0
    assert group.id in {g.id for g in listed}
    assert all(g.type == "computer" for g in listed)


def test_group_create_invalid_type(tenant, owner):
    with pytest.raises(ValueError, match="computer or server"):
        groups.endpoint_group_create(
            user=owner, tenant=tenant, name="X", type="printer"
        )


def test_group_add_reports_each_outcome(tenant, group, owner):
    computer = Endpoint.objects.filter(tenant=tenant, type="computer").first()
    server = Endpoint.objects.filter(tenant=tenant, type="server").first()
    missing = "00000000-0000-4000-8000-000000000000"

    result = groups.endpoint_group_endpoints_add(
        user=owner,
        tenant=tenant,
        group_id=group.id,
        endpoint_ids=[str(computer.pk), str(server.pk), missing],
    )

    computer.refresh_from_db()
    assert result.added == [str(computer.pk)]
    assert result.wrong_type == [str(server.pk)]
    assert result.not_found == [missing]
    assert computer.group_name == "Kiosks"
    members = groups.endpoint_group_members_list(tenant=tenant, group_id=group.id)
    assert [m.id for m in members] == [str(computer.pk)]
    found = groups.endpoint_groups_of_endpoint(tenant=tenant, endpoint_id=computer.pk)
    assert [g.id for g in found] == [group.id]


def test_group_remove_bulk_and_single(tenant, group, owner):
    first, second = Endpoint.objects.filter(tenant=tenant, type="computer")[:2]
    groups.endpoint_group_endpoints_add(
        user=owner,
        tenant=tenant,
        group_id=group.id,
        endpoint_ids=[str(first.pk), str(second.pk)],
    )

    removed = groups.endpoint_group_endpoints_remove(
        user=owner, tenant=tenant, group_id=group.id, endpoint_ids=[str(first.pk)]
    )
    groups.endpoint_group_endpoint_remove(
        user=owner, tenant=tenant, group_id=group.id, endpoint_id=str(second.pk)
    )

    first.refresh_from_db()
    assert removed.removed == [str(first.pk)]
    assert first.group_name == ""
    assert (
        groups.endpoint_group_get(tenant=tenant, group_id=group.id).endpoint_count == 0
    )
    with pytest.raises(NotFound):
        groups.endpoint_group_endpoint_remove(
            user=owner, tenant=tenant, group_id=group.id, endpoint_id=str(second.pk)
        )


def test_group_update_and_delete(tenant, group, owner):
    updated = groups.endpoint_group_update(
        user=owner,
        tenant=tenant,
        group_id=group.id,
        name="Lobby kiosks",
        description="Front desk",
    )
    groups.endpoint_group_delete(user=owner, tenant=tenant, group_id=group.id)

    assert updated.name == "Lobby kiosks"
    assert updated.description == "Front desk"
    with pytest.raises(NotFound):
        groups.endpoint_group_get(tenant=tenant, group_id=group.id)
    operations = list(
        AuditEntry.objects.order_by("id").values_list("operation", flat=True)
    )
    assert operations == [
        "endpoint_group_create",
        "endpoint_group_update",
        "endpoint_group_delete",
    ]


def test_group_create_missing_name(tenant, owner):
    with pytest.raises(ValueError, match="name is missing"):
        groups.endpoint_group_create(user=owner, tenant=tenant, name=" ", type="server")


def test_group_add_to_unknown_group(tenant, owner):
    with pytest.raises(NotFound) as caught:
        groups.endpoint_group_endpoints_add(
            user=owner,
            tenant=tenant,
            group_id="00000000-0000-4000-8000-000000000000",
            endpoint_ids=["00000000-0000-4000-8000-000000000001"],
        )

    assert caught.value.correlation_id
    assert AuditEntry.objects.get().outcome == "failed"
