import pytest
from django.urls import reverse

from portal.accounts.models import Role as PortalRole
from sophos.models import AuditEntry, Tenant
from sophos.services import partner_admins, partner_tenants
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db

TENANT_FORM = {
    "name": "Quarry Lane Builders Ltd",
    "show_as": "Quarry Lane",
    "data_geography": "DE",
    "data_region": "",
    "billing_type": "trial",
    "first_name": "Ana",
    "last_name": "Costa",
    "email": "ana@quarrylane.example",
    "country_code": "de",
}


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def technician_client(client, tenants):
    client.force_login(make_user(roles=[PortalRole.TECHNICIAN], tenants=tenants[:1]))
    return client


def _allowed_set():
    sets = partner_admins.partner_permission_sets_list().items
    return next(item for item in sets if item.allowed_in_custom_roles)


# Tenants


def test_tenants_list_live_with_mirror(owner_client, tenants):
    response = owner_client.get(reverse("partner_tenants"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    for tenant in tenants:
        assert tenant.display_name in html
    assert "Create tenant" in html


def test_tenants_list_partial_and_csv(owner_client, tenants):
    partial = owner_client.get(
        reverse("partner_tenants"), {"geography": "US"}, headers={"HX-Request": "true"}
    )
    exported = owner_client.get(reverse("partner_tenants"), {"format": "csv"})

    assert "<html" not in partial.content.decode()
    assert 'id="tenants-table"' in partial.content.decode()
    lines = exported.content.decode().splitlines()
    assert lines[0].startswith("Tenant,Name in Sophos Central")
    assert len(lines) == len(tenants) + 1


def test_tenants_list_scoped_to_assignments(technician_client, tenants):
    html = technician_client.get(reverse("partner_tenants")).content.decode()

    assert tenants[0].display_name in html
    for other in tenants[1:]:
        assert other.display_name not in html
        assert str(other.pk) not in html


def test_tenant_detail_outside_scope_is_404(technician_client, tenants):
    inside = technician_client.get(
        reverse("partner_tenant_detail", args=[tenants[0].pk])
    )
    outside = technician_client.get(
        reverse("partner_tenant_detail", args=[tenants[1].pk])
    )

    assert inside.status_code == 200
    assert outside.status_code == 404


def test_tenant_detail_full_and_partial(owner_client, tenants):
    url = reverse("partner_tenant_detail", args=[tenants[0].pk])

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    assert tenants[0].name in page.content.decode()
    assert "Open the tenant" in page.content.decode()
    assert "<html" not in partial.content.decode()


def test_tenant_create_mirrors_the_tenant(owner_client, tenants):
    response = owner_client.post(reverse("partner_tenant_create"), TENANT_FORM)

    created = Tenant.objects.get(name="Quarry Lane Builders Ltd")
    assert response.status_code == 302
    assert response["Location"] == reverse("partner_tenant_detail", args=[created.pk])
    assert created.data_geography == "DE"
    assert created.api_host.startswith("https://api-")
    entry = AuditEntry.objects.get(operation="tenant_create")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED
    assert entry.parameters["body"]["contact"]["address"] == {"countryCode": "DE"}


def test_tenant_create_needs_geography_or_region(owner_client, tenants, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        reverse("partner_tenant_create"), {**TENANT_FORM, "data_geography": ""}
    )

    assert response.status_code == 400
    assert "Choose a data geography or a data region." in response.content.decode()
    assert writes == []


def test_tenant_create_shows_sophos_rejection(owner_client, tenants, monkeypatch):
    rejection = reject(
        monkeypatch, "POST", r"/partner/v1/tenants$", 400, "Invalid contact email."
    )

    response = owner_client.post(reverse("partner_tenant_create"), TENANT_FORM)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Invalid contact email." in html
    assert rejection.correlation_id in html
    assert not Tenant.objects.filter(name=TENANT_FORM["name"]).exists()


def test_technician_cannot_create_tenants(technician_client, monkeypatch):
    writes = record_writes(monkeypatch)

    page = technician_client.get(reverse("partner_tenants")).content.decode()
    response = technician_client.post(reverse("partner_tenant_create"), TENANT_FORM)

    assert "Create tenant" not in page
    assert response.status_code == 403
    assert writes == []


def test_billing_user_sees_no_tenants(client, tenants):
    client.force_login(make_user(roles=[PortalRole.BILLING]))

    response = client.get(reverse("partner_tenants"))

    assert response.status_code == 403


# Admins


def test_admins_list_and_detail(owner_client, tenants):
    admin = partner_admins.partner_admins_list().items[0]

    listing = owner_client.get(reverse("partner_admins"))
    detail = owner_client.get(reverse("partner_admin_detail", args=[admin.id]))
    partial = owner_client.get(
        reverse("partner_admin_detail", args=[admin.id]),
        headers={"HX-Request": "true"},
    )

    assert admin.username in listing.content.decode()
    assert "Role assignments" in detail.content.decode()
    assert "Whole partner account" in detail.content.decode()
    assert "<html" not in partial.content.decode()


def test_admin_create_with_tenant_role(owner_client, tenants):
    role = partner_admins.partner_roles_list().items[1]

    response = owner_client.post(
        reverse("partner_admin_create"),
        {
            "email": "new.admin@brightline.example",
            "first_name": "New",
            "last_name": "Admin",
            "role": role.id,
            "scope_type": "tenant",
            "tenant": str(tenants[0].pk),
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(operation="partner_admin_create")
    assert entry.tenant_id == tenants[0].pk
    assert entry.parameters["body"]["roleAssignments"][0]["scope"] == {
        "type": "tenant",
        "id": str(tenants[0].pk),
    }


def test_admin_create_tenant_scope_needs_tenant(owner_client, tenants, monkeypatch):
    role = partner_admins.partner_roles_list().items[1]
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        reverse("partner_admin_create"),
        {
            "email": "x@brightline.example",
            "first_name": "X",
            "last_name": "Y",
            "role": role.id,
            "scope_type": "tenant",
        },
    )

    assert response.status_code == 400
    assert "Choose the tenant the role applies to." in response.content.decode()
    assert writes == []


def test_admin_create_email_in_use_beside_field(owner_client, tenants, monkeypatch):
    rejection = reject(
        monkeypatch,
        "POST",
        r"/partner/v1/admins$",
        409,
        "Email address already in use.",
    )

    response = owner_client.post(
        reverse("partner_admin_create"),
        {
            "email": "taken@brightline.example",
            "first_name": "T",
            "last_name": "U",
            "scope_type": "partner",
        },
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="field-email"' in html
    assert "Email address already in use." in html
    assert rejection.correlation_id in html


def test_admin_role_add_and_remove(owner_client, tenants):
    admin = partner_admins.partner_admins_list().items[1]
    role = partner_admins.partner_roles_list().items[2]

    added = owner_client.post(
        reverse("partner_admin_roles_add", args=[admin.id]),
        {"role": role.id, "scope_type": "tenant", "tenant": str(tenants[0].pk)},
        headers={"HX-Request": "true"},
    )
    new = next(
        item
        for item in partner_admins.partner_admin_role_assignments_list(
            admin_id=admin.id
        ).items
        if item.role_id == role.id
    )
    removed = owner_client.post(
        reverse("partner_admin_roles_remove", args=[admin.id, new.id]),
        headers={"HX-Request": "true"},
    )

    assert f"Tenant {tenants[0].display_name}" in added.content.decode()
    assert "Removed a role assignment" in removed.content.decode()
    remaining = partner_admins.partner_admin_role_assignments_list(admin_id=admin.id)
    assert new.id not in [item.id for item in remaining.items]


def test_admin_detail_unknown_is_404(owner_client, tenants):
    response = owner_client.get(
        reverse("partner_admin_detail", args=["00000000-0000-4000-8000-000000000000"])
    )

    assert response.status_code == 404


# Roles


def test_roles_list_and_permission_sets(owner_client, tenants):
    roles = owner_client.get(reverse("partner_roles")).content.decode()
    sets = owner_client.get(reverse("partner_permission_sets")).content.decode()

    assert "Super Admin" in roles
    assert "Predefined" in roles
    assert _allowed_set().name in sets


def test_role_create_update_delete(owner_client, tenants):
    permission_set = _allowed_set()

    created = owner_client.post(
        reverse("partner_role_create"),
        {
            "name": "Billing viewers",
            "description": "",
            "principal_type": "user",
            "permission_sets": [permission_set.id],
        },
    )
    role = next(
        r
        for r in partner_admins.partner_roles_list().items
        if r.name == "Billing viewers"
    )
    updated = owner_client.post(
        reverse("partner_role_detail", args=[role.id]),
        {
            "name": "Billing viewers",
            "description": "Read billing",
            "permission_sets": [permission_set.id],
        },
    )
    confirm = owner_client.get(reverse("partner_role_delete", args=[role.id]))
    deleted = owner_client.post(reverse("partner_role_delete", args=[role.id]))

    assert created.status_code == 302
    assert updated.status_code == 302
    assert "Delete the partner role Billing viewers?" in confirm.content.decode()
    assert deleted.status_code == 302
    names = [r.name for r in partner_admins.partner_roles_list().items]
    assert "Billing viewers" not in names


def test_role_create_needs_permission_set(owner_client, tenants, monkeypatch):
    writes = record_writes(monkeypatch)

    page = owner_client.get(reverse("partner_role_create"))
    response = owner_client.post(
        reverse("partner_role_create"),
        {"name": "Empty", "description": "", "principal_type": "user"},
    )

    assert page.status_code == 200
    assert "Create a partner role" in page.content.decode()
    assert response.status_code == 400
    assert "Choose at least one permission set." in response.content.decode()
    assert writes == []


def test_predefined_role_is_read_only(owner_client, tenants, monkeypatch):
    role = partner_admins.partner_roles_list().items[0]
    writes = record_writes(monkeypatch)

    page = owner_client.get(reverse("partner_role_detail", args=[role.id]))
    response = owner_client.post(reverse("partner_role_delete", args=[role.id]))

    assert "Sophos predefines this role" in page.content.decode()
    assert ">Save<" not in page.content.decode()
    assert response.status_code == 400
    assert "predefined by Sophos" in response.content.decode()
    assert writes == []


def test_role_delete_assigned_explains(owner_client, tenants, monkeypatch):
    role = partner_admins.partner_role_create(
        user=None, name="Assigned", permission_sets=[_allowed_set().id]
    )
    reject(
        monkeypatch,
        "DELETE",
        r"/partner/v1/roles/",
        409,
        "You cannot delete a role assigned to an admin.",
    )

    response = owner_client.post(reverse("partner_role_delete", args=[role.id]))

    assert response.status_code == 409
    assert "remove it from those admins first" in response.content.decode()


def test_partner_admin_pages_need_partner_admin(technician_client, monkeypatch):
    writes = record_writes(monkeypatch)

    responses = [
        technician_client.get(reverse("partner_admins")),
        technician_client.get(reverse("partner_roles")),
        technician_client.post(reverse("partner_role_create"), {"name": "x"}),
    ]

    assert [response.status_code for response in responses] == [403] * 3
    assert writes == []


def test_partner_tenant_service_lists_unmirrored_tenants(synced_fleet):
    created = partner_tenants.partner_tenant_create(
        user=None,
        name="Unmirrored",
        contact=partner_tenants.TenantContact(
            first_name="A", last_name="B", email="a@b.example"
        ),
        billing_type="trial",
        data_geography="US",
    )
    Tenant.objects.filter(pk=created.id).delete()

    listed = {t.id: t for t in partner_tenants.partner_tenants_list().items}

    assert listed[created.id].mirror is None
