import httpx
import pytest
from django.core.management import call_command
from django.db import connections

from sophos.management.commands.sophos_simulator import describe
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.server import SimulatorServer


@pytest.fixture
def server(fleet):
    # The server's threads share the test's connection, so they read the
    # fleet that the test's transaction wrote.
    shared = connections["default"]
    shared.inc_thread_sharing()
    running = SimulatorServer(0, connections_override={"default": shared})
    running.start()
    yield running
    running.stop()
    shared.dec_thread_sharing()


def test_server_answers_on_loopback(fleet, server):
    with httpx.Client(timeout=10) as http:
        token = http.post(
            server.hosts.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": fleet.client_id,
                "client_secret": fleet.client_secret,
            },
        ).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        me = http.get(server.hosts.global_origin + "/whoami/v1", headers=bearer)
        tenants = http.get(
            server.hosts.global_origin + "/partner/v1/tenants",
            headers={**bearer, "X-Partner-ID": fleet.partner_id},
        ).json()["items"]
        tenant = tenants[0]
        endpoints = http.get(
            tenant["apiHost"] + "/endpoint/v1/endpoints",
            headers={**bearer, "X-Tenant-ID": tenant["id"]},
        )

    assert me.json()["apiHosts"]["global"] == server.hosts.global_origin
    assert tenant["apiHost"] == server.hosts.regions[tenant["dataRegion"]]
    assert tenant["apiHost"].startswith("http://127.0.0.1:")
    assert endpoints.status_code == 200
    stored = SimObject.objects.filter(kind=ENDPOINT_KIND, scope_id=tenant["id"]).count()
    assert len(endpoints.json()["items"]) == stored


def test_server_rejects_wrong_region_port(fleet, server):
    tenant = SimTenant.objects.filter(partner_id=fleet.partner_id).first()
    wrong = next(r for r in server.hosts.regions if r != tenant.data_region)
    with httpx.Client(timeout=10) as http:
        token = http.post(
            server.hosts.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": fleet.client_id,
                "client_secret": fleet.client_secret,
            },
        ).json()["access_token"]

        response = http.get(
            server.hosts.regions[wrong] + "/endpoint/v1/endpoints",
            headers={"Authorization": f"Bearer {token}", "X-Tenant-ID": tenant.id},
        )

    assert response.status_code == 403


def test_server_fixed_port_layout(fleet):
    running = SimulatorServer(0)
    try:
        lines = describe(running, demo_credential())
    finally:
        running.stop()

    assert (
        lines[0]
        == f"SOPHOS_TOKEN_URL={running.hosts.global_origin}/api/v2/oauth2/token"
    )
    assert f"SOPHOS_CLIENT_ID={fleet.client_id}" in lines
    assert f"SOPHOS_CLIENT_SECRET={fleet.client_secret}" in lines
    assert any(line.startswith("region eu01: http://127.0.0.1:") for line in lines)


def test_simulator_seed_command(db, capsys):
    call_command(
        "simulator_seed", "--tenants", "2", "--seed", "4", "--endpoints-per-tenant", "3"
    )

    output = capsys.readouterr().out
    credential = demo_credential()
    assert f"SOPHOS_CLIENT_ID={credential.client_id}" in output
    assert SimTenant.objects.filter(partner_id=credential.partner_id).count() == 2
    assert SimObject.objects.filter(kind=ENDPOINT_KIND).count() == 2 * 3 + 3
