"""Readers see no secrets, no foreign tenant names, and no duplicate syncs."""

import html

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import Endpoint, Job, Tenant
from sophos.services import migrations, sync
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def tenants(synced_fleet):
    first, second = Tenant.objects.order_by("name")[:2]
    return first, second


def test_console_hides_tamper_password_from_reader(client, tenants):
    endpoint = Endpoint.objects.filter(tenant=tenants[0]).order_by("hostname").first()
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenants[0]]))
    path = f"/endpoint/v1/endpoints/{endpoint.pk}/tamper-protection"
    data = {"tenant": str(tenants[0].pk), "method": "GET", "path": path}

    response = client.post(reverse("console"), data, headers=HTMX)

    body = html.unescape(response.content.decode())
    assert '"enabled"' in body
    assert '"password": "[redacted]"' in body


def test_migration_detail_hides_unassigned_tenant_name(client, tenants):
    sending, receiving = tenants
    ids = [str(pk) for pk in sending.endpoints.values_list("pk", flat=True)[:2]]
    job = migrations.migration_create(
        user=None,
        receiving_tenant=receiving,
        sending_tenant_id=str(sending.pk),
        endpoint_ids=ids,
    )
    client.force_login(make_user(roles=[Role.TECHNICIAN], tenants=[receiving]))

    url = reverse("tenants:migrations_detail", args=[receiving.pk, job.id])
    response = client.get(url)

    assert response.status_code == 200
    assert sending.display_name not in response.content.decode()


def test_sync_start_twice_reuses_the_active_job(synced_fleet, owner):
    first = sync.sync_start(user=owner)
    second = sync.sync_start(user=owner)

    active = Job.objects.filter(
        kind="sync", status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    )
    assert first.pk == second.pk
    assert active.count() == 1
