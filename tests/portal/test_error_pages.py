import uuid

import pytest


@pytest.mark.django_db
def test_not_found_page_keeps_the_navigation(owner_client):
    response = owner_client.get(f"/tenants/{uuid.uuid4()}/endpoints/")

    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Back to the fleet overview" in response.content


@pytest.mark.django_db
def test_forbidden_page_explains_the_role(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="pw-123456x")
    client.force_login(user)

    response = client.get("/partner/billing/")

    assert response.status_code == 403
    assert b"Your role does not allow" in response.content


@pytest.mark.django_db
def test_sophos_refusal_on_a_detail_page_is_explained(owner_client, synced_fleet):
    from django.urls import reverse

    from sophos.models import Endpoint
    from sophos.simulator.faults import reset_faults, set_faults

    endpoint = Endpoint.objects.order_by("hostname").first()
    set_faults(forbidden_tenant_ids=[str(endpoint.tenant_id)])
    url = reverse("tenants:endpoint_detail", args=[endpoint.tenant_id, endpoint.pk])

    try:
        response = owner_client.get(url)
    finally:
        reset_faults()

    assert response.status_code == 502
    assert b"Sophos Central did not answer as expected" in response.content
    assert b"Correlation id" in response.content
