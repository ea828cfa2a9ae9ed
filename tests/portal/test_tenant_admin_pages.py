import pytest
from django.urls import reverse

from portal.accounts.models import Role as PortalRole
from sophos.models import AuditEntry, Tenant
from sophos.services import directory, tenant_admins
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.order_by("name").first()


@pytest.fixture
def reader_client(client, tenant):
    client.force_login(make_user(roles=[PortalRole.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _admin(tenant):
    return tenant_admins.tenant_admins_list(tenant=tenant).items[0]


def _roles(tenant):
    return {
        role.name: role for role in tenant_admins.tenant_roles_list(tenant=tenant).items
    }


def _allowed_set(tenant):
    sets = tenant_admins.tenant_permission_sets_list(tenant=tenant).items
    return next(item for item in sets if item.allowed_in_custom_roles)


def _custom_role(tenant, name="Help desk plus"):
    permission_set = _allowed_set(tenant)
    return tenant_admins.tenant_role_create(
        user=None, tenant=tenant, name=name, permission_sets=[permission_set.id]
    )


# Admins


def test_admins_list_full_and_partial(owner_client, tenant):
    admin = _admin(tenant)

    page = owner_client.get(_url("tenant_admins_list", tenant))
    partial = owner_client.get(
        _url("tenant_admins_list", tenant), headers={"HX-Request": "true"}
    )

    assert admin.name in page.content.decode()
    assert "<html" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert admin.name in partial.content.decode()


def test_admin_detail_shows_role_names(owner_client, tenant):
    admin = _admin(tenant)
    names = {role.id: role.name for role in _roles(tenant).values()}

    response = owner_client.get(_url("tenant_admins_detail", tenant, admin.id))

    html = response.content.decode()
    assert response.status_code == 200
    for assignment in admin.role_assignments:
        assert names[assignment.role_id] in html
    assert "Give role" in html


def test_admin_detail_partial(owner_client, tenant):
    admin = _admin(tenant)

    response = owner_client.get(
        _url("tenant_admins_detail", tenant, admin.id), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="admin-roles"' in html


def test_admin_create_from_directory_user(owner_client, tenant):
    user = directory.users_list(tenant=tenant).items[1]
    role = _roles(tenant)["Help Desk"]

    response = owner_client.post(
        _url("tenant_admins_create", tenant), {"user": user.id, "roles": [role.id]}
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(operation="tenant_admin_create")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED
    assert entry.parameters["body"]["userId"] == user.id


def test_admin_create_needs_a_role(owner_client, tenant, monkeypatch):
    user = directory.users_list(tenant=tenant).items[1]
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("tenant_admins_create", tenant), {"user": user.id}
    )

    assert response.status_code == 400
    assert "Choose at least one role." in response.content.decode()
    assert writes == []


def test_admin_create_shows_sophos_rejection(owner_client, tenant, monkeypatch):
    user = directory.users_list(tenant=tenant).items[1]
    role = _roles(tenant)["Admin"]
    rejection = reject(
        monkeypatch, "POST", r"/common/v1/admins$", 404, "User or role not found."
    )

    response = owner_client.post(
        _url("tenant_admins_create", tenant), {"user": user.id, "roles": [role.id]}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "User or role not found." in html
    assert rejection.correlation_id in html


def test_admin_role_add_and_remove(owner_client, tenant):
    admin = _admin(tenant)
    role = _roles(tenant)["Read-only"]

    added = owner_client.post(
        _url("tenant_admin_roles_add", tenant, admin.id),
        {"role": role.id},
        headers={"HX-Request": "true"},
    )
    assignments = tenant_admins.tenant_admin_role_assignments_list(
        tenant=tenant, admin_id=admin.id
    ).items
    new = next(item for item in assignments if item.role_id == role.id)
    removed = owner_client.post(
        _url("tenant_admin_roles_remove", tenant, admin.id, new.id),
        headers={"HX-Request": "true"},
    )

    assert "Gave" in added.content.decode()
    assert "Read-only" in added.content.decode()
    assert "Removed a role assignment" in removed.content.decode()
    remaining = tenant_admins.tenant_admin_role_assignments_list(
        tenant=tenant, admin_id=admin.id
    ).items
    assert new.id not in [item.id for item in remaining]


def test_admin_role_remove_shows_rejection(owner_client, tenant, monkeypatch):
    admin = _admin(tenant)
    assignment = admin.role_assignments[0]
    rejection = reject(
        monkeypatch, "DELETE", r"/role-assignments/", 500, "Unexpected error."
    )

    response = owner_client.post(
        _url("tenant_admin_roles_remove", tenant, admin.id, assignment.id),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "Unexpected error." in html
    assert rejection.correlation_id in html


def test_admin_delete_last_super_admin_explains(owner_client, tenant, monkeypatch):
    admin = _admin(tenant)
    rejection = reject(
        monkeypatch,
        "DELETE",
        r"/common/v1/admins/[^/]+$",
        409,
        "Can't remove last Super admin.",
    )

    response = owner_client.post(_url("tenant_admins_delete", tenant, admin.id))

    html = response.content.decode()
    assert response.status_code == 409
    assert "Sophos Central keeps at least one Super Admin" in html
    assert rejection.correlation_id in html


def test_admin_delete_confirmation_lists_losses(owner_client, tenant):
    admin = _admin(tenant)

    response = owner_client.get(_url("tenant_admins_delete", tenant, admin.id))

    html = response.content.decode()
    assert f"Delete the admin {admin.name}?" in html
    assert "can no longer sign in" in html


# Roles


def test_roles_list_shows_predefined(owner_client, tenant):
    response = owner_client.get(_url("tenant_roles_list", tenant))

    html = response.content.decode()
    assert "Super Admin" in html
    assert "Predefined" in html


def test_predefined_role_is_read_only(owner_client, tenant, monkeypatch):
    role = _roles(tenant)["Super Admin"]
    writes = record_writes(monkeypatch)

    page = owner_client.get(_url("tenant_roles_detail", tenant, role.id))
    response = owner_client.post(
        _url("tenant_roles_detail", tenant, role.id), {"name": "Hacked"}
    )

    html = page.content.decode()
    assert "Sophos predefines this role" in html
    assert ">Save<" not in html
    assert response.status_code == 400
    assert writes == []


def test_role_create_and_update(owner_client, tenant):
    permission_set = _allowed_set(tenant)

    created = owner_client.post(
        _url("tenant_roles_create", tenant),
        {
            "name": "Night shift",
            "description": "",
            "principal_type": "user",
            "permission_sets": [permission_set.id],
        },
    )
    role = _roles(tenant)["Night shift"]
    updated = owner_client.post(
        _url("tenant_roles_detail", tenant, role.id),
        {
            "name": "Night shift",
            "description": "Weekends too",
            "permission_sets": [permission_set.id],
        },
    )

    assert created.status_code == 302
    assert role.permission_sets == (permission_set.id,)
    assert updated.status_code == 302
    assert _roles(tenant)["Night shift"].description == "Weekends too"


def test_role_create_name_conflict_beside_field(owner_client, tenant, monkeypatch):
    permission_set = _allowed_set(tenant)
    rejection = reject(
        monkeypatch, "POST", r"/common/v1/roles$", 409, "Role name already in use."
    )

    response = owner_client.post(
        _url("tenant_roles_create", tenant),
        {
            "name": "Admin",
            "principal_type": "user",
            "permission_sets": [permission_set.id],
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="field-name"' in html
    assert "Role name already in use." in html
    assert rejection.correlation_id in html


def test_role_delete_assigned_explains(owner_client, tenant, monkeypatch):
    role = _custom_role(tenant)
    reject(
        monkeypatch,
        "DELETE",
        r"/common/v1/roles/",
        409,
        "You can't delete a role assigned to an admin.",
    )

    response = owner_client.post(_url("tenant_roles_delete", tenant, role.id))

    assert response.status_code == 409
    assert "remove it from those admins first" in response.content.decode()


def test_role_delete_custom(owner_client, tenant):
    role = _custom_role(tenant, name="Temporary")

    response = owner_client.post(_url("tenant_roles_delete", tenant, role.id))

    assert response.status_code == 302
    assert "Temporary" not in _roles(tenant)


def test_permission_sets_list(owner_client, tenant):
    permission_set = tenant_admins.tenant_permission_sets_list(tenant=tenant).items[0]

    response = owner_client.get(_url("tenant_permission_sets_list", tenant))

    assert response.status_code == 200
    assert permission_set.name in response.content.decode()


def test_read_only_user_sees_no_admin_controls(reader_client, tenant):
    admin = _admin(tenant)
    role = _custom_role(tenant)

    admin_page = reader_client.get(_url("tenant_admins_detail", tenant, admin.id))
    role_page = reader_client.get(_url("tenant_roles_detail", tenant, role.id))
    listing = reader_client.get(_url("tenant_roles_list", tenant))

    assert "Give role" not in admin_page.content.decode()
    assert ">Remove<" not in admin_page.content.decode()
    assert ">Save<" not in role_page.content.decode()
    assert "Add role" not in listing.content.decode()


def test_read_only_user_forged_posts_are_403(reader_client, tenant, monkeypatch):
    admin = _admin(tenant)
    role = _roles(tenant)["Admin"]
    assignment = admin.role_assignments[0]
    writes = record_writes(monkeypatch)

    responses = [
        reader_client.post(_url("tenant_admins_create", tenant), {}),
        reader_client.post(
            _url("tenant_admin_roles_add", tenant, admin.id), {"role": role.id}
        ),
        reader_client.post(
            _url("tenant_admin_roles_remove", tenant, admin.id, assignment.id)
        ),
        reader_client.post(_url("tenant_admins_delete", tenant, admin.id)),
        reader_client.post(_url("tenant_roles_detail", tenant, role.id), {}),
        reader_client.post(_url("tenant_roles_delete", tenant, role.id)),
    ]

    assert [response.status_code for response in responses] == [403] * 6
    assert writes == []
