import pytest
from django.urls import reverse

from sophos.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/partner/billing/9999/12/", 404),
        ("/audit/?until=9999-12-31", 200),
        ("/audit/export.csv?until=9999-12-31", 200),
    ],
)
def test_last_representable_date_is_handled(owner_client, url, status):
    response = owner_client.get(url)

    assert response.status_code == status


def test_console_rejects_a_deeply_nested_body(owner_client, synced_fleet):
    tenant = Tenant.objects.order_by("name").first()
    data = {
        "tenant": str(tenant.pk),
        "method": "POST",
        "path": "/endpoint/v1/endpoints/x/isolation",
        "body": "[" * 50_000 + "]" * 50_000,
    }

    response = owner_client.post(
        reverse("console"), data, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert b"nests too deeply" in response.content


def test_refused_role_change_saves_nothing(client):
    from portal.accounts.models import Role
    from tests.portal.factories import make_user

    alice = make_user(roles=[Role.OWNER], username="alice", email="a@example.com")
    client.force_login(alice)

    client.post(
        reverse("user_edit", args=[alice.pk]),
        {"email": "new@example.com", "roles": [Role.ADMINISTRATOR]},
    )

    alice.refresh_from_db()
    assert alice.email == "a@example.com"


def test_new_tamper_password_survives_a_failed_reread(
    owner_client, synced_fleet, monkeypatch
):
    import re

    from portal.tenants.views import endpoints as endpoint_views
    from sophos.errors import InvalidResponse
    from sophos.models import Endpoint

    endpoint = Endpoint.objects.filter(tamper_protection_enabled=True).first()

    def unreadable(*args, **kwargs):
        raise InvalidResponse("Sophos Central sent a body that is not JSON.")

    monkeypatch.setattr(endpoint_views, "_endpoint_or_404", unreadable)
    url = reverse(
        "tenants:endpoint_tamper_password", args=[endpoint.tenant_id, endpoint.pk]
    )

    response = owner_client.post(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert re.search(r"[0-9A-F]{16}", response.content.decode())
