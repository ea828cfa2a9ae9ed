"""Helpers shared by the simulator's tests: URLs, a token fetch, a session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from sophos.simulator.models import SimTenant
from sophos.simulator.seed import DemoCredential

TOKEN_URL = "https://id.sophos.com/api/v2/oauth2/token"
GLOBAL = "https://api.central.sophos.com"

FLEET_SEED = 3
FLEET_TENANTS = 4
FLEET_ENDPOINTS = 7


def fetch_token(
    client: httpx.Client, credential: DemoCredential, token_url: str = TOKEN_URL
) -> str:
    response = client.post(
        token_url,
        data={
            "grant_type": "client_credentials",
            "client_id": credential.client_id,
            "client_secret": credential.client_secret,
            "scope": "token",
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass
class Api:
    """A signed-in partner session over the simulator transport."""

    client: httpx.Client
    token: str
    partner_id: str

    def partner(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(
            GLOBAL + path,
            params=params,
            headers={
                "Authorization": f"Bearer {self.token}",
                "X-Partner-ID": self.partner_id,
            },
        )

    def tenant(
        self, tenant: SimTenant | dict[str, Any], path: str, **params: Any
    ) -> httpx.Response:
        return self.client.get(
            api_host(tenant) + path, params=params, headers=self.tenant_headers(tenant)
        )

    def tenant_post(
        self, tenant: SimTenant | dict[str, Any], path: str, body: Any
    ) -> httpx.Response:
        return self.client.post(
            api_host(tenant) + path, json=body, headers=self.tenant_headers(tenant)
        )

    def tenant_headers(self, tenant: SimTenant | dict[str, Any]) -> dict[str, str]:
        tenant_id = tenant.id if isinstance(tenant, SimTenant) else tenant["id"]
        return {"Authorization": f"Bearer {self.token}", "X-Tenant-ID": tenant_id}


def api_host(tenant: SimTenant | dict[str, Any]) -> str:
    if isinstance(tenant, SimTenant):
        return f"https://api-{tenant.data_region}.central.sophos.com"
    host: str = tenant["apiHost"]
    return host


def tenant_request(api, tenant, method, path, body=None, **params):
    """Send a tenant API request to the tenant's regional simulator host."""
    return api.client.request(
        method,
        api_host(tenant) + path,
        headers=api.tenant_headers(tenant),
        json=body,
        params=params,
    )
