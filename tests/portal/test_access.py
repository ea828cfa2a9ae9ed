import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory

from portal.access import (
    Capability,
    has_capability,
    tenant_for,
    tenants_actionable,
    tenants_visible,
)
from portal.accounts.models import Role, TenantAssignment, TenantGroup, UserRole
from sophos.models import Connection, Tenant

pytestmark = pytest.mark.django_db


def make_tenant(connection, name):
    return Tenant.objects.create(
        id=uuid.uuid4(), connection=connection, name=name, api_host="https://x"
    )


@pytest.fixture
def tenants():
    connection = Connection.objects.create(name="c", client_id="c")
    return [make_tenant(connection, f"Tenant {n}") for n in range(3)]


def make_user(django_user_model, name, *roles):
    user = django_user_model.objects.create_user(username=name, password="pw-123456")
    for role in roles:
        UserRole.objects.create(user=user, role=role)
    return django_user_model.objects.get(pk=user.pk)


def test_owner_sees_and_acts_on_every_tenant(django_user_model, tenants):
    owner = make_user(django_user_model, "o", Role.OWNER)

    assert tenants_visible(owner).count() == 3
    assert tenants_actionable(owner).count() == 3


def test_technician_reaches_assigned_and_grouped_tenants(django_user_model, tenants):
    tech = make_user(django_user_model, "t", Role.TECHNICIAN)
    group = TenantGroup.objects.create(name="North")
    group.tenants.add(tenants[1])
    TenantAssignment.objects.create(user=tech, tenant=tenants[0])
    TenantAssignment.objects.create(user=tech, group=group)

    visible = set(tenants_visible(tech))

    assert visible == {tenants[0], tenants[1]}
    assert set(tenants_actionable(tech)) == visible


def test_read_only_sees_assigned_but_acts_on_none(django_user_model, tenants):
    reader = make_user(django_user_model, "r", Role.READ_ONLY)
    TenantAssignment.objects.create(user=reader, tenant=tenants[2])

    assert list(tenants_visible(reader)) == [tenants[2]]
    assert tenants_actionable(reader).count() == 0


def test_roles_combine_as_a_union(django_user_model, tenants):
    user = make_user(django_user_model, "u", Role.READ_ONLY, Role.BILLING)
    TenantAssignment.objects.create(user=user, tenant=tenants[0])

    assert has_capability(user, Capability.VIEW_BILLING)
    assert list(tenants_visible(user)) == [tenants[0]]


def test_billing_user_sees_no_tenants(django_user_model, tenants):
    user = make_user(django_user_model, "b", Role.BILLING)

    assert tenants_visible(user).count() == 0
    assert not has_capability(user, Capability.VIEW_TENANTS)


def test_inactive_user_has_no_rights(django_user_model, tenants):
    user = make_user(django_user_model, "x", Role.OWNER)
    user.is_active = False

    assert tenants_visible(user).count() == 0


def test_tenant_for_hides_unassigned_tenants(django_user_model, tenants):
    tech = make_user(django_user_model, "t", Role.TECHNICIAN)
    TenantAssignment.objects.create(user=tech, tenant=tenants[0])
    request = RequestFactory().get("/")
    request.user = tech

    assert tenant_for(request, tenants[0].pk) == tenants[0]
    with pytest.raises(Http404):
        tenant_for(request, tenants[1].pk)


def test_tenant_for_rejects_writes_by_read_only(django_user_model, tenants):
    reader = make_user(django_user_model, "r", Role.READ_ONLY)
    TenantAssignment.objects.create(user=reader, tenant=tenants[0])
    request = RequestFactory().post("/")
    request.user = reader

    with pytest.raises(PermissionDenied):
        tenant_for(request, tenants[0].pk, write=True)
