import json
from datetime import UTC, datetime

import pytest
from sim_helpers import GLOBAL, TOKEN_URL, fetch_token

from sophos.simulator import clock
from sophos.simulator.faults import get_settings, reset_faults, set_faults
from sophos.simulator.seed import other_partner_credential


def _whoami(api):
    return api.client.get(
        GLOBAL + "/whoami/v1", headers={"Authorization": f"Bearer {api.token}"}
    )


def test_rate_429_sends_retry_after(api):
    set_faults(rate_429=1.0, retry_after_seconds=7)

    response = _whoami(api)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json()["error"] == "tooManyRequests"


def test_rate_5xx(api, first_tenant):
    set_faults(rate_5xx=1.0)

    response = api.tenant(first_tenant, "/endpoint/v1/endpoints")

    assert response.status_code in {500, 502, 503}
    assert {"correlationId", "requestId"} <= set(response.json())


def test_malformed_body(api):
    set_faults(malformed_rate=1.0)

    response = _whoami(api)

    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_malformed_body_leaves_errors_intact(api):
    set_faults(malformed_rate=1.0)

    response = api.client.get(GLOBAL + "/whoami/v1")

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_token_lifetime_knob(fleet, sim_client):
    set_faults(token_lifetime_seconds=120)

    response = sim_client.post(
        TOKEN_URL,
        data={
            "grant_type": "client_credentials",
            "client_id": fleet.client_id,
            "client_secret": fleet.client_secret,
        },
    )

    assert response.json()["expires_in"] == 120


def test_per_credential_minute_limit(api):
    frozen = clock.FrozenClock(datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC))
    clock.set_clock(frozen)
    set_faults(calls_per_minute=2)

    statuses = [_whoami(api).status_code for _ in range(3)]
    limited = _whoami(api)
    frozen.advance(60)
    next_minute = _whoami(api)

    assert statuses == [200, 200, 429]
    assert limited.headers["Retry-After"] == "50"
    assert next_minute.status_code == 200


def test_per_credential_limit_is_per_credential(api, sim_client):
    set_faults(calls_per_minute=1)
    other_token = fetch_token(sim_client, other_partner_credential())

    first = _whoami(api)
    other = sim_client.get(
        GLOBAL + "/whoami/v1", headers={"Authorization": f"Bearer {other_token}"}
    )

    assert first.status_code == 200
    assert other.status_code == 200


def test_per_credential_day_limit(api):
    set_faults(calls_per_day=1)

    statuses = [_whoami(api).status_code for _ in range(2)]

    assert statuses == [200, 429]


def test_latency_uses_clock(api):
    frozen = clock.FrozenClock(datetime(2026, 3, 1, tzinfo=UTC))
    clock.set_clock(frozen)
    set_faults(latency_ms=1500)

    _whoami(api)

    assert frozen.now() == datetime(2026, 3, 1, 0, 0, 1, 500000, tzinfo=UTC)


def test_set_faults_rejects_unknown_knob(db):
    with pytest.raises(TypeError, match="unknown simulator settings"):
        set_faults(rate_404=1.0)


def test_reset_faults_restores_defaults(db):
    set_faults(rate_429=0.5, forbidden_tenant_ids=["a"])

    reset_faults()

    current = get_settings()
    assert current.rate_429 == 0
    assert current.forbidden_tenant_ids == []
