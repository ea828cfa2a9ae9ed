import json
import uuid
from unittest import mock

import httpx
import pytest
from django.urls import reverse

from portal.accounts.models import Role, TenantAssignment, UserRole
from sophos.client import SophosClient
from sophos.models import Alert, AuditEntry, Endpoint, Tenant
from sophos.shared_state import CacheTokenStore
from sophos.simulator.faults import set_faults
from sophos.simulator.transport import SimulatorTransport
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/console/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def recorder(monkeypatch):
    """Serve the console's client from one simulator transport that records."""
    transport = SimulatorTransport(record=True)
    monkeypatch.setattr(
        "sophos.services.connections._transport_for", lambda connection: transport
    )
    return transport


def _alert_allowing(action, **filters):
    for alert in Alert.objects.filter(**filters):
        if action in alert.allowed_actions:
            return alert
    raise AssertionError(f"the seeded fleet has no alert that allows {action}")


@pytest.fixture
def tenant(synced_fleet):
    """A mirrored tenant with endpoints and an alert that allows acknowledge."""
    return _alert_allowing("acknowledge", tenant__connection=synced_fleet).tenant


def _serve_with(monkeypatch, answer):
    """Serve the console's client with ``answer`` for every API request."""

    def handle(request):
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(
                200, json={"access_token": "mock-token", "expires_in": 3600}
            )
        return answer(request)

    transport = httpx.MockTransport(handle)
    monkeypatch.setattr(
        "sophos.services.connections._transport_for", lambda connection: transport
    )


@pytest.fixture
def no_send():
    with mock.patch.object(SophosClient, "request", autospec=True) as request:
        yield request


def _user_with(role, *tenants):
    user = make_user()
    UserRole.objects.create(user=user, role=role)
    for tenant in tenants:
        TenantAssignment.objects.create(user=user, tenant=tenant)
    return user


@pytest.fixture
def tech_client(client, tenant):
    client.force_login(_user_with(Role.TECHNICIAN, tenant))
    return client


@pytest.fixture
def read_only_client(client, tenant):
    client.force_login(_user_with(Role.READ_ONLY, tenant))
    return client


def _post(client, **fields):
    return client.post(URL, fields, headers=HTMX)


def _alert_action(tenant, action="acknowledge"):
    alert = _alert_allowing(action, tenant=tenant)
    return {
        "tenant": str(tenant.pk),
        "operation": "alert_action_perform",
        "param_alertId": str(alert.pk),
        "body": json.dumps({"action": action}),
    }


# The page


def test_console_requires_login(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_console_rejects_billing_role(client):
    client.force_login(_user_with(Role.BILLING))

    response = client.get(URL)

    assert response.status_code == 403


def test_console_page_full(owner_client, tenant):
    response = owner_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'aria-current="page">API console</a>' in html
    assert '<label for="id_tenant">Tenant</label>' in html
    assert '<label for="id_operation">Operation</label>' in html
    assert '<label for="id_body">JSON body</label>' in html
    assert '<optgroup label="Alerts">' in html
    assert '<option value="alert_action_perform">' in html
    assert f'<option value="{tenant.pk}">' in html
    assert 'hx-post="/console/"' in html
    assert "<script>" not in html.split("</head>", 1)[1]


def test_console_page_htmx_partial(owner_client, tenant):
    response = owner_client.get(URL, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="console-form"' in html
    assert 'id="console-result"' in html


def test_console_page_prefills_operation(owner_client, tenant):
    response = owner_client.get(
        URL, {"operation": "alert_action_perform", "tenant": tenant.pk}
    )

    html = response.content.decode()
    assert '<option value="alert_action_perform" selected>' in html
    assert 'name="param_alertId"' in html
    assert "&quot;action&quot;: &quot;&quot;" in html
    assert "&quot;message&quot;: null" in html
    assert f"X-Tenant-ID: {tenant.pk}" in html
    assert tenant.api_host in html


def test_console_nav_link_hidden_without_capability(client):
    client.force_login(_user_with(Role.BILLING))

    response = client.get(reverse("jobs"))

    assert "API console" not in response.content.decode()


def test_operation_partial_fills_fields(owner_client, tenant):
    response = owner_client.get(
        reverse("console_operation"),
        {"name": "endpoint_get", "tenant": tenant.pk},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="console-fields"' in html
    assert 'value="GET" readonly' in html
    assert 'value="/endpoint/v1/endpoints/{endpointId}" readonly' in html
    assert '<label for="id_param_endpointId">endpointId</label>' in html
    assert "<code>view</code>" in html
    assert f"X-Tenant-ID: {tenant.pk}" in html


def test_operation_partial_shows_partner_header(owner_client, synced_fleet):
    response = owner_client.get(
        reverse("console_operation"), {"name": "tenants_list"}, headers=HTMX
    )

    html = response.content.decode()
    assert "Partner API" in html
    assert f"X-Partner-ID: {synced_fleet.principal_id}" in html
    assert "https://api.central.sophos.com" in html


def test_operation_partial_unknown_name(owner_client):
    response = owner_client.get(
        reverse("console_operation"), {"name": "alert_gett"}, headers=HTMX
    )

    html = response.content.decode()
    assert "Unknown Sophos Central operation &#x27;alert_gett&#x27;" in html
    assert "Did you mean: alert_get" in html


def test_operation_partial_without_htmx_redirects(owner_client):
    response = owner_client.get(reverse("console_operation"), {"name": "alert_get"})

    assert response.status_code == 302
    assert response["Location"].startswith("/console/?")
    assert "operation=alert_get" in response["Location"]


def test_preview_matches_free_form_path(owner_client, tenant):
    response = owner_client.get(
        reverse("console_preview"),
        {"tenant": tenant.pk, "method": "GET", "path": "/common/v1/alerts"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert 'id="console-preview"' in html
    assert "<code>alerts_list</code>" in html
    assert f"X-Tenant-ID: {tenant.pk}" in html


def test_preview_rejects_wrong_connection_kind(owner_client, tenant):
    response = owner_client.get(
        reverse("console_preview"),
        {"tenant": tenant.pk, "method": "GET", "path": "/organization/v1/tenants"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert "Organization API" in html
    assert "is a partner credential: choose an organization connection." in html


def test_preview_needs_organization_connection(owner_client, synced_fleet):
    response = owner_client.get(
        reverse("console_preview"),
        {"method": "GET", "path": "/organization/v1/tenants"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert "Choose an organization connection" in html


def test_fill_in_button_loads_operation(owner_client, tenant, no_send):
    response = owner_client.post(
        URL, {"load": "1", "operation": "endpoint_get", "tenant": tenant.pk}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'name="param_endpointId"' in html
    assert "The response appears here." in html
    no_send.assert_not_called()


# Sending


def test_console_get_operation_lists_endpoints(owner_client, tenant, recorder):
    hostname = Endpoint.objects.filter(tenant=tenant).first().hostname

    response = _post(
        owner_client,
        tenant=tenant.pk,
        operation="endpoints_list",
        query="pageSize=100",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'console-status-ok">200</span>' in html
    assert "&quot;items&quot;" in html
    assert hostname in html
    assert "Content-Type" in html
    assert [call.status for call in recorder.calls] == [200]
    assert recorder.calls[0].url.startswith(tenant.api_host + "/endpoint/v1/endpoints")
    assert not AuditEntry.objects.filter(operation="console_request").exists()


def test_console_free_form_get_shows_matched_operation(owner_client, tenant):
    response = _post(
        owner_client, tenant=tenant.pk, method="GET", path="/common/v1/alerts"
    )

    html = response.content.decode()
    assert 'console-status-ok">200</span>' in html
    assert "<code>alerts_list</code>" in html
    assert "(matched by the path)" in html


def test_console_free_form_outside_catalog(owner_client, tenant, recorder):
    response = _post(
        owner_client, tenant=tenant.pk, method="GET", path="/common/v1/unlisted-route"
    )

    html = response.content.decode()
    assert 'console-status-error">404</span>' in html
    assert "Catalog operation" not in html
    assert [call.status for call in recorder.calls] == [404]


def test_console_post_is_audited(tech_client, tenant, recorder):
    fields = _alert_action(tenant)

    response = _post(tech_client, **fields)

    html = response.content.decode()
    assert 'console-status-ok">201</span>' in html
    assert "Recorded in the audit log." in html
    entry = AuditEntry.objects.get(operation="console_request")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED
    assert entry.status_code == 201
    assert entry.tenant_id == tenant.pk
    assert entry.parameters["method"] == "POST"
    assert entry.parameters["path"] == (
        f"/common/v1/alerts/{fields['param_alertId']}/actions"
    )
    assert entry.parameters["operation"] == "alert_action_perform"
    assert entry.parameters["body"] == {"action": "acknowledge"}
    assert [call.method for call in recorder.calls] == ["POST"]


def test_console_audit_scrubs_secrets(owner_client, tenant, recorder):
    fields = _alert_action(tenant)
    fields["body"] = json.dumps({"action": "acknowledge", "apiToken": "hunter2"})

    _post(owner_client, **fields)

    entry = AuditEntry.objects.get(operation="console_request")
    assert entry.parameters["body"]["apiToken"] == "[redacted]"
    assert "hunter2" not in json.dumps(entry.parameters)


def test_console_sophos_error_is_the_response(owner_client, tenant):
    fields = _alert_action(tenant)
    fields["body"] = json.dumps({"action": "notAnAction"})

    response = _post(owner_client, **fields)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'console-status-error">400</span>' in html
    assert "<code>badRequest</code>" in html
    assert "&#x27;notAnAction&#x27;" in html
    assert "requestId" in html
    entry = AuditEntry.objects.get(operation="console_request")
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert entry.status_code == 400
    assert entry.correlation_id
    assert entry.correlation_id in html


def test_console_get_not_found_is_shown(owner_client, tenant):
    response = _post(
        owner_client,
        tenant=tenant.pk,
        operation="alert_get",
        param_alertId=str(uuid.uuid4()),
    )

    html = response.content.decode()
    assert 'console-status-error">404</span>' in html
    assert "<code>notFound</code>" in html
    assert "Correlation id" in html


def test_console_partner_operation(owner_client, synced_fleet, recorder):
    response = _post(owner_client, operation="tenants_list")

    html = response.content.decode()
    assert 'console-status-ok">200</span>' in html
    assert f"X-Partner-ID: {synced_fleet.principal_id}" in html
    assert Tenant.objects.first().name in html
    assert recorder.calls[-1].url.startswith(
        "https://api.central.sophos.com/partner/v1/tenants"
    )


def test_console_rate_limit_message(owner_client, tenant):
    set_faults(rate_429=1.0, retry_after_seconds=1)

    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    assert 'console-status-error">429</span>' in html
    assert "Sophos is rate-limiting, retried 4 times." in html
    assert "Retry-After" in html


def test_console_long_retry_after_says_when_to_retry(owner_client, tenant):
    set_faults(rate_429=1.0, retry_after_seconds=30)

    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    assert 'console-status-error">429</span>' in html
    assert "Retry in 30 seconds." in html
    assert "Retry-After" in html


def test_console_shows_only_safe_headers(owner_client, tenant, monkeypatch):
    headers = {
        "Content-Type": "application/json",
        "X-Correlation-ID": "corr-123",
        "Set-Cookie": "session=secret-cookie",
        "WWW-Authenticate": "Bearer realm=sophos",
        "X-Internal-Host": "node-7",
    }
    _serve_with(
        monkeypatch,
        lambda request: httpx.Response(200, headers=headers, json={"items": []}),
    )

    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    assert 'console-status-ok">200</span>' in html
    assert "<dt>X-Correlation-ID</dt>" in html
    assert "corr-123" in html
    assert "Set-Cookie" not in html
    assert "secret-cookie" not in html
    assert "WWW-Authenticate" not in html
    assert "node-7" not in html


def test_console_timeout_is_shown(owner_client, tenant, monkeypatch):
    def time_out(request):
        raise httpx.ReadTimeout("timed out", request=request)

    _serve_with(monkeypatch, time_out)

    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'console-status-error">No response</span>' in html
    assert "GET /endpoint/v1/endpoints timed out." in html


def test_console_write_timeout_is_audited(owner_client, tenant, monkeypatch):
    def time_out(request):
        raise httpx.ReadTimeout("timed out", request=request)

    _serve_with(monkeypatch, time_out)

    _post(owner_client, **_alert_action(tenant))

    entry = AuditEntry.objects.get(operation="console_request")
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert "timed out" in entry.message


def test_console_cuts_long_bodies(owner_client, tenant, monkeypatch):
    monkeypatch.setattr("sophos.services.console.MAX_SHOWN_BODY_CHARS", 40)

    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    assert "The body is cut short here" in html
    assert "&quot;pages&quot;" not in html


def test_console_never_shows_the_token(owner_client, tenant, synced_fleet):
    response = _post(owner_client, tenant=tenant.pk, operation="endpoints_list")

    html = response.content.decode()
    client = SophosClient(client_id=synced_fleet.client_id, client_secret="-")
    token = CacheTokenStore().get(client._token_key)
    assert token is not None
    assert token.access_token not in html
    assert "Authorization" not in html
    assert "Bearer" not in html


def test_console_escapes_response_text(owner_client, no_send):
    response = _post(owner_client, operation="<script>alert(1)</script>")

    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


# Input errors: a message and nothing sent


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"method": "POST", "path": "/common/v1/x", "body": '{\n  "a": 1,\n}'},
            "The body is not valid JSON: Expecting property name enclosed in "
            "double quotes at line 3, column 1.",
        ),
        ({"method": "GET", "path": "endpoint/v1/endpoints"}, "must start with /"),
        ({"method": "GET", "path": "https://evil.example/x"}, "not a URL"),
        ({"method": "GET", "path": "//evil/x"}, "not a URL"),
        ({"method": "GET", "path": "/../x"}, "must not contain . or .."),
        ({"method": "GET", "path": "/common/%2e%2e/x"}, "encoded dots"),
        ({"method": "GET", "path": "/common/v1/alerts?x=1"}, "query string field"),
        ({"method": "GET", "path": "/common/v1/{alertId}"}, "Replace each"),
        ({"method": "GET", "path": "/common/v1/a b"}, "not allowed in a URL path"),
        ({"method": "TRACE", "path": "/common/v1/alerts"}, "is not supported"),
        ({"method": "GET", "path": "/common/v1/alerts", "body": "{}"}, "no body"),
        ({"operation": "alert_gett"}, "Unknown Sophos Central operation"),
        ({"operation": "alert_get"}, "Enter a value for the path parameter alertId"),
        (
            {"operation": "alert_get", "param_alertId": "a/../b"},
            "contains &#x27;/&#x27;",
        ),
        (
            {"operation": "alert_action_perform", "param_alertId": "x", "body": "{}"},
            "The body is missing the required field(s) action.",
        ),
        (
            {"operation": "alert_action_perform", "param_alertId": "x"},
            "needs a JSON object body with the field(s): action",
        ),
        (
            {"method": "POST", "path": "/common/v1/alerts/x/actions", "body": "{}"},
            "The body is missing the required field(s) action.",
        ),
        (
            {"operation": "endpoints_list", "query": "colour=red"},
            "does not take the query parameter(s) colour",
        ),
        ({"operation": "endpoints_list", "query": "a=1&&="}, "query string"),
    ],
)
def test_console_input_error_sends_nothing(
    owner_client, tenant, no_send, fields, message
):
    response = _post(owner_client, tenant=tenant.pk, **fields)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was sent" in html
    assert message in html
    no_send.assert_not_called()


def test_console_input_error_full_page(owner_client, tenant, no_send):
    response = owner_client.post(
        URL, {"tenant": tenant.pk, "method": "GET", "path": "//evil/x"}
    )

    html = response.content.decode()
    assert "<html" in html
    assert "Nothing was sent" in html
    assert 'value="//evil/x"' in html
    no_send.assert_not_called()


def test_console_tenant_api_needs_tenant(owner_client, synced_fleet, no_send):
    response = _post(owner_client, operation="endpoints_list")

    assert "Choose a tenant" in response.content.decode()
    no_send.assert_not_called()


# Access


def test_read_only_write_is_forbidden(read_only_client, tenant, no_send):
    response = _post(read_only_client, **_alert_action(tenant))

    assert response.status_code == 403
    no_send.assert_not_called()
    assert not AuditEntry.objects.exists()


def test_read_only_free_form_write_is_forbidden(read_only_client, tenant, no_send):
    response = _post(
        read_only_client, tenant=tenant.pk, method="DELETE", path="/common/v1/x"
    )

    assert response.status_code == 403
    no_send.assert_not_called()


def test_read_only_may_get(read_only_client, tenant):
    response = _post(read_only_client, tenant=tenant.pk, operation="endpoints_list")

    assert response.status_code == 200
    assert 'console-status-ok">200</span>' in response.content.decode()


def test_read_only_page_disables_writes(read_only_client, tenant):
    response = read_only_client.get(URL)

    html = response.content.decode()
    assert "Your role sends GET requests only." in html
    assert '<option value="alert_action_perform" disabled>' in html


def test_tenant_outside_scope_is_not_found(client, tenant, no_send):
    other = Tenant.objects.exclude(pk=tenant.pk).first()
    client.force_login(_user_with(Role.TECHNICIAN, tenant))

    response = _post(client, tenant=other.pk, operation="endpoints_list")

    assert response.status_code == 404
    no_send.assert_not_called()


def test_unknown_tenant_is_not_found(tech_client, no_send):
    response = _post(tech_client, tenant=uuid.uuid4(), operation="endpoints_list")

    assert response.status_code == 404
    no_send.assert_not_called()


def test_partner_api_needs_partner_admin(tech_client, no_send):
    response = _post(tech_client, operation="tenants_list")

    assert response.status_code == 403
    no_send.assert_not_called()
