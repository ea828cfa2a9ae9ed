import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Endpoint, Tenant
from sophos.simulator.faults import set_faults
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

HTMX = {"HX-Request": "true"}


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.filter(endpoints__isnull=False).order_by("name").first()


@pytest.fixture
def endpoint(tenant):
    return (
        Endpoint.objects.filter(
            tenant=tenant,
            isolation_status="notIsolated",
            tamper_protection_enabled=True,
            os_platform="windows",
        )
        .order_by("hostname")
        .first()
    )


@pytest.fixture
def reader(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, endpoint):
    return reverse(f"tenants:{name}", args=[tenant.pk, endpoint.pk])


def test_endpoint_detail_full_page(owner_client, tenant, endpoint):
    response = owner_client.get(_url("endpoint_detail", tenant, endpoint))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert endpoint.hostname in html
    assert "Sophos Health Service" in html
    assert 'id="isolation-panel"' in html
    assert "Not isolated" in html
    assert "Threat protection" in html
    assert "Base policy: no other policy names it." in html
    assert _url("endpoint_isolation", tenant, endpoint) in html
    assert _url("endpoint_delete", tenant, endpoint) in html


def test_endpoint_detail_labels_codes(owner_client, tenant, endpoint):
    response = owner_client.get(_url("endpoint_detail", tenant, endpoint))

    html = response.content.decode()
    assert '<th scope="row">Intercept X</th>' in html
    assert '<th scope="row">Endpoint Protection</th>' in html
    assert '<th scope="row">interceptX</th>' not in html
    assert "<dt>Lockdown</dt><dd>Not installed</dd>" in html
    assert f"<dt>Type</dt><dd>{endpoint.type.capitalize()}</dd>" in html
    assert "(Windows " in html
    assert "notEncrypted" not in html


def test_endpoint_detail_htmx_partial(owner_client, tenant, endpoint):
    response = owner_client.get(_url("endpoint_detail", tenant, endpoint), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="endpoint-detail">')


def test_endpoint_detail_unknown_id(owner_client, tenant):
    url = reverse(
        "tenants:endpoint_detail",
        args=[tenant.pk, "00000000-0000-4000-8000-000000000000"],
    )

    response = owner_client.get(url)

    assert response.status_code == 404


def test_endpoint_list_links_detail(owner_client, tenant, endpoint):
    response = owner_client.get(reverse("tenant_endpoints", args=[tenant.pk]))

    assert _url("endpoint_detail", tenant, endpoint) in response.content.decode()


def test_isolate_shows_new_state(owner_client, tenant, endpoint):
    response = owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "isolate", "comment": "Ransomware suspected"},
        headers=HTMX,
    )

    html = response.content.decode()
    endpoint.refresh_from_db()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="isolation-panel"')
    assert "Isolated the endpoint." in html
    assert "Ransomware suspected" in html
    assert "Release from isolation" in html
    assert endpoint.isolation_status == "isolated"
    audit = AuditEntry.objects.get(operation="endpoint_isolation_update")
    assert audit.parameters["comment"] == "Ransomware suspected"


def test_isolate_requires_comment(owner_client, tenant, endpoint, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "isolate", "comment": ""},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert writes == []


def test_isolate_conflict_shown_in_place(owner_client, tenant, endpoint):
    set_faults(isolation_delay_seconds=600)
    owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "isolate", "comment": "First"},
        headers=HTMX,
    )

    response = owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "release", "comment": "Too soon"},
        headers=HTMX,
    )

    html = response.content.decode()
    audit = AuditEntry.objects.filter(outcome="failed").get()
    assert response.status_code == 200
    assert 'id="isolation-panel"' in html
    assert "still in progress" in html
    assert "Status 409" in html
    assert audit.correlation_id in html


def test_isolate_error_full_page(owner_client, tenant, endpoint, monkeypatch):
    rejected = reject(monkeypatch, "PATCH", r"/isolation$", 400, "Isolation is off")

    response = owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "isolate", "comment": "Check"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "<html" in html
    assert "Isolation is off" in html
    assert rejected.correlation_id in html


def test_release_redirects_without_htmx(owner_client, tenant, endpoint):
    owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "isolate", "comment": "Contain"},
    )

    response = owner_client.post(
        _url("endpoint_isolation", tenant, endpoint),
        {"action": "release", "comment": "Cleaned"},
    )

    endpoint.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == _url("endpoint_detail", tenant, endpoint)
    assert endpoint.isolation_status == "notIsolated"


def test_scan_and_update_check(owner_client, tenant, endpoint):
    scan = owner_client.post(_url("endpoint_scan", tenant, endpoint), headers=HTMX)
    check = owner_client.post(
        _url("endpoint_update_check", tenant, endpoint), headers=HTMX
    )

    assert "Scan requested. Status: requested." in scan.content.decode()
    assert "Update check requested." in check.content.decode()
    operations = set(AuditEntry.objects.values_list("operation", flat=True))
    assert operations == {"endpoint_scan_start", "endpoint_update_check_start"}


def test_scan_error_shows_correlation_id(owner_client, tenant, endpoint, monkeypatch):
    rejected = reject(monkeypatch, "POST", r"/scans$", 503, "Scanning unavailable")

    response = owner_client.post(_url("endpoint_scan", tenant, endpoint), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="actions-panel"' in html
    assert "Scanning unavailable" in html
    assert rejected.correlation_id in html


def test_tamper_protection_off(owner_client, tenant, endpoint):
    tamper_off = tenant.tamper_off

    response = owner_client.post(
        _url("endpoint_tamper_protection", tenant, endpoint),
        {"enabled": "off"},
        headers=HTMX,
    )

    endpoint.refresh_from_db()
    tenant.refresh_from_db()
    assert "Tamper protection turned off." in response.content.decode()
    assert endpoint.tamper_protection_enabled is False
    assert tenant.tamper_off == tamper_off + 1


def test_tamper_password_shown_once(owner_client, tenant, endpoint, caplog):
    caplog.set_level("DEBUG")

    response = owner_client.post(
        _url("endpoint_tamper_password", tenant, endpoint), headers=HTMX
    )

    html = response.content.decode()
    password = response.context["new_password"]
    audit = AuditEntry.objects.get(operation="endpoint_tamper_protection_update")
    assert password in html
    assert "shown only this once" in html
    assert "no-store" in response["Cache-Control"]
    assert password not in str(audit.parameters)
    assert password not in audit.message
    assert password not in caplog.text
    page = owner_client.get(_url("endpoint_detail", tenant, endpoint))
    assert password not in page.content.decode()


def test_tamper_password_full_page_without_redirect(owner_client, tenant, endpoint):
    response = owner_client.post(_url("endpoint_tamper_password", tenant, endpoint))

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert response.context["new_password"] in response.content.decode()


def test_delete_confirmation_says_reinstall(owner_client, tenant, endpoint):
    response = owner_client.get(_url("endpoint_delete", tenant, endpoint))

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Delete the endpoint {endpoint.hostname}?" in html
    assert "only when Sophos software is installed on it again" in html
    breadcrumb = (
        f'<a href="{reverse("tenant_endpoints", args=[tenant.pk])}">Endpoints</a>'
    )
    assert breadcrumb in html
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_delete_removes_endpoint(owner_client, tenant, endpoint):
    response = owner_client.post(_url("endpoint_delete", tenant, endpoint))

    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_endpoints", args=[tenant.pk])
    assert not Endpoint.objects.filter(pk=endpoint.pk).exists()
    assert AuditEntry.objects.get(operation="endpoint_delete").outcome == "succeeded"


def test_delete_error_stays_on_confirmation(
    owner_client, tenant, endpoint, monkeypatch
):
    rejected = reject(monkeypatch, "DELETE", r"/endpoints/", 409, "Endpoint busy")

    response = owner_client.post(_url("endpoint_delete", tenant, endpoint))

    html = response.content.decode()
    assert response.status_code == 409
    assert "Endpoint busy" in html
    assert rejected.correlation_id in html
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_reader_sees_no_action_controls(reader, tenant, endpoint):
    response = reader.get(_url("endpoint_detail", tenant, endpoint))

    html = response.content.decode()
    assert response.status_code == 200
    assert endpoint.hostname in html
    assert _url("endpoint_isolation", tenant, endpoint) not in html
    assert _url("endpoint_scan", tenant, endpoint) not in html
    assert _url("endpoint_tamper_password", tenant, endpoint) not in html
    assert _url("endpoint_delete", tenant, endpoint) not in html


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("endpoint_isolation", {"action": "isolate", "comment": "Forged"}),
        ("endpoint_scan", {}),
        ("endpoint_update_check", {}),
        ("endpoint_tamper_protection", {"enabled": "off"}),
        ("endpoint_tamper_password", {}),
        ("endpoint_delete", {}),
    ],
)
def test_reader_forged_post_rejected(reader, tenant, endpoint, monkeypatch, name, data):
    writes = record_writes(monkeypatch)

    response = reader.post(_url(name, tenant, endpoint), data)

    assert response.status_code == 403
    assert writes == []
    assert not AuditEntry.objects.exists()
