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
