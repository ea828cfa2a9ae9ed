from datetime import UTC, datetime

import httpx
import pytest
from django.conf import settings
from sim_helpers import GLOBAL, TOKEN_URL, fetch_token

from sophos.simulator import clock
from sophos.simulator.models import SimTenant
from sophos.simulator.seed import tenant_credential

TOKEN_KEYS = {
    "access_token",
    "refresh_token",
    "token_type",
    "message",
    "errorCode",
    "expires_in",
    "trackingId",
}
ERROR_KEYS = {"error", "message", "correlationId", "requestId", "createdAt"}


def _token_request(sim_client, client_id, secret):
    return sim_client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "token",
        },
    )


def test_token_ok(fleet, sim_client):
    response = _token_request(sim_client, fleet.client_id, fleet.client_secret)

    body = response.json()
    assert response.status_code == 200
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.SIMULATOR_TOKEN_LIFETIME
    assert body["access_token"].count(".") == 2


def test_token_bad_secret(fleet, sim_client):
    response = _token_request(sim_client, fleet.client_id, "wrong")

    body = response.json()
    assert response.status_code == 401
    assert set(body) == {"errorCode", "message", "trackingId"}
    assert body["errorCode"] == "oauth.invalid_client_secret"


def test_token_unknown_client_id(fleet, sim_client):
    response = _token_request(sim_client, "not-a-sim_client", fleet.client_secret)

    assert response.status_code == 401
    assert response.json()["errorCode"] == "oauth.invalid_client_id"


def test_token_refresh_grant(fleet, sim_client):
    first = _token_request(sim_client, fleet.client_id, fleet.client_secret).json()

    response = sim_client.post(
        TOKEN_URL,
        json={
            "client_id": fleet.client_id,
            "client_secret": fleet.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )

    assert response.status_code == 200
    assert response.json()["access_token"] != first["access_token"]


def test_token_expired_is_401(fleet, sim_client):
    frozen = clock.FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    clock.set_clock(frozen)
    token = fetch_token(sim_client, fleet)
    frozen.advance(settings.SIMULATOR_TOKEN_LIFETIME + 1)

    response = sim_client.get(
        GLOBAL + "/whoami/v1", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS
    assert "expired" in response.json()["message"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}],
)
def test_bearer_missing_or_invalid_is_401(fleet, sim_client, headers):
    response = sim_client.get(GLOBAL + "/whoami/v1", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_error_ids_are_fresh(fleet, sim_client):
    first = sim_client.get(GLOBAL + "/whoami/v1").json()
    second = sim_client.get(GLOBAL + "/whoami/v1").json()

    assert first["correlationId"] != second["correlationId"]
    assert first["requestId"] != second["requestId"]


def test_whoami_partner(api):
    response = api.client.get(
        GLOBAL + "/whoami/v1", headers={"Authorization": f"Bearer {api.token}"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": api.partner_id,
        "idType": "partner",
        "apiHosts": {"global": "https://api.central.sophos.com"},
    }


def test_whoami_tenant_has_data_region(fleet, sim_client, first_tenant):
    credential = tenant_credential(first_tenant.id)
    token = fetch_token(sim_client, credential)

    body = sim_client.get(
        GLOBAL + "/whoami/v1", headers={"Authorization": f"Bearer {token}"}
    ).json()

    assert body["idType"] == "tenant"
    assert body["id"] == first_tenant.id
    region_host = f"https://api-{first_tenant.data_region}.central.sophos.com"
    assert body["apiHosts"]["dataRegion"] == region_host


def test_token_host_serves_only_token(fleet, sim_client):
    response = sim_client.get("https://id.sophos.com/whoami/v1")

    assert response.status_code == 404


def test_token_path_not_on_global_host(fleet, sim_client):
    response = sim_client.post(GLOBAL + "/api/v2/oauth2/token", data={})

    assert response.status_code == 404


def test_unknown_host_raises_connect_error(sim_client):
    with pytest.raises(httpx.ConnectError, match="does not serve"):
        sim_client.get("https://example.com/whoami/v1")


def test_transport_records_calls(fleet, sim_client, transport):
    fetch_token(sim_client, fleet)

    assert [(c.method, c.status) for c in transport.calls] == [("POST", 200)]
    assert transport.calls[0].url == TOKEN_URL


def test_tenant_credential_scoped_to_its_tenant(fleet, sim_client, first_tenant):
    other = SimTenant.objects.filter(partner_id=fleet.partner_id).exclude(
        id=first_tenant.id
    )[0]
    token = fetch_token(sim_client, tenant_credential(first_tenant.id))

    def endpoints(tenant):
        return sim_client.get(
            f"https://api-{tenant.data_region}.central.sophos.com/endpoint/v1/endpoints",
            headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": tenant.id},
        )

    assert endpoints(first_tenant).status_code == 200
    assert endpoints(other).status_code == 403
