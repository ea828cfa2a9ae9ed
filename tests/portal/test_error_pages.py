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


@pytest.fixture
def csrf_client(owner):
    from django.test import Client

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(owner)
    return checked


@pytest.mark.django_db
def test_csrf_failure_shows_styled_page(csrf_client):
    response = csrf_client.post(
        "/sync/", HTTP_REFERER="http://testserver/jobs/", HTTP_HOST="testserver"
    )

    content = response.content.decode()
    assert response.status_code == 403
    assert "This form has expired, probably because you signed in again" in content
    assert "Reload the page and try again." in content
    assert "data-error-message" in content
    assert 'href="http://testserver/jobs/"' in content
    assert "CSRF verification failed" not in content
    assert 'class="topbar"' in content


@pytest.mark.django_db
def test_csrf_failure_ignores_foreign_referer(csrf_client):
    response = csrf_client.post("/sync/", HTTP_REFERER="https://example.com/x")

    content = response.content.decode()
    assert response.status_code == 403
    assert "example.com" not in content
    assert "Back to the fleet overview" in content


@pytest.mark.django_db
def test_csrf_failure_on_htmx_post_has_message(csrf_client):
    response = csrf_client.post("/sync/", HTTP_HX_REQUEST="true")

    assert response.status_code == 403
    assert b"data-error-message>This form has expired" in response.content


@pytest.mark.django_db
def test_pages_load_htmx_error_script(owner_client):
    response = owner_client.get("/jobs/")

    content = response.content.decode()
    assert "js/htmx_errors.js" in content
    assert 'id="request-error"' in content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/fleet/isolation/preview/", "/fleet/drift/start/", "/sync/"]
)
def test_get_of_post_only_address_explains(owner_client, url):
    response = owner_client.get(url)

    content = response.content.decode()
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "This address only accepts form submissions." in content
    assert "Back to the fleet overview" in content
    assert 'class="topbar"' in content


@pytest.mark.django_db
def test_method_not_allowed_page_links_back(owner_client):
    response = owner_client.get("/sync/", HTTP_REFERER="http://testserver/jobs/")

    assert response.status_code == 405
    assert b'href="http://testserver/jobs/"' in response.content


@pytest.mark.django_db
def test_post_to_get_only_address_keeps_empty_405(owner_client):
    response = owner_client.post("/console/preview/")

    assert response.status_code == 405
    assert response.content == b""
