"""The client's token, retry, error and paging rules, against a scripted server."""

import json
import threading
from collections.abc import Callable

import httpx
import pytest

from sophos import errors
from sophos.client import (
    SlidingWindowLimiter,
    SophosClient,
    TenantTarget,
    background_calls,
    interactive_calls,
)

TOKEN_URL = "https://id.sophos.com/api/v2/oauth2/token"
REGION = "https://api-eu01.central.sophos.com"
TENANT = TenantTarget(id="11111111-1111-4111-8111-111111111111", api_host=REGION)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


Handler = Callable[[httpx.Request], httpx.Response]


def token_reply(n: int = 1, expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": f"token-{n}", "expires_in": expires_in}
    )


def make_client(handler: Handler, clock: FakeClock | None = None, **kwargs):
    clock = clock or FakeClock()
    return SophosClient(
        client_id="client",
        client_secret="secret-value",
        transport=httpx.MockTransport(handler),
        clock=clock,
        sleep=clock.sleep,
        backoff_seconds=0.5,
        **kwargs,
    )


def test_it_reuses_the_token_until_close_to_expiry():
    clock = FakeClock()
    tokens = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            tokens.append(request.content)
            return token_reply(len(tokens))
        return httpx.Response(200, json={"auth": request.headers["Authorization"]})

    client = make_client(handler, clock)

    first = client.request("GET", "/x", tenant=TENANT).data
    clock.now += 3000
    second = client.request("GET", "/x", tenant=TENANT).data
    clock.now += 500
    third = client.request("GET", "/x", tenant=TENANT).data

    assert first["auth"] == "Bearer token-1"
    assert second["auth"] == "Bearer token-1"
    assert third["auth"] == "Bearer token-2"
    assert len(tokens) == 2
    assert b"grant_type=client_credentials" in tokens[0]
    assert b"scope=token" in tokens[0]


def test_concurrent_callers_trigger_one_renewal():
    token_calls = []
    gate = threading.Event()

    def handler(request):
        if str(request.url) == TOKEN_URL:
            token_calls.append(1)
            gate.wait(1)
            return token_reply()
        return httpx.Response(200, json={})

    client = SophosClient(
        client_id="client",
        client_secret="secret-value",
        transport=httpx.MockTransport(handler),
    )
    threads = [
        threading.Thread(
            target=client.request, args=("GET", "/x"), kwargs={"tenant": TENANT}
        )
        for _ in range(8)
    ]

    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()

    assert len(token_calls) == 1


def test_it_fetches_a_new_token_once_after_a_401():
    replies = iter([401, 200])
    tokens = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            tokens.append(1)
            return token_reply(len(tokens))
        return httpx.Response(next(replies), json={"error": "Unauthorized"})

    client = make_client(handler)

    assert client.request("GET", "/x", tenant=TENANT).status == 200
    assert len(tokens) == 2


def test_it_waits_for_retry_after_on_429():
    clock = FakeClock()
    replies = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "Too"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return next(replies)

    client = make_client(handler, clock)

    assert client.request("GET", "/x", tenant=TENANT).data == {"ok": True}
    assert clock.slept == [7.0]
    assert client.rate_limited_responses == 1


def test_it_raises_a_typed_error_after_the_last_retry():
    calls = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        calls.append(1)
        return httpx.Response(
            503,
            json={
                "error": "ServiceUnavailable",
                "message": "Try later",
                "correlationId": "corr-1",
                "requestId": "req-1",
            },
        )

    client = make_client(handler, max_retries=2)

    with pytest.raises(errors.Unavailable) as caught:
        client.request("GET", "/x", tenant=TENANT)

    assert len(calls) == 3
    assert caught.value.status == 503
    assert caught.value.error == "ServiceUnavailable"
    assert caught.value.correlation_id == "corr-1"
    assert caught.value.request_id == "req-1"
    assert "Try later" in str(caught.value)


def test_it_does_not_repeat_a_post_after_a_500():
    calls = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        calls.append(1)
        return httpx.Response(500, json={"error": "Internal"})

    client = make_client(handler)

    with pytest.raises(errors.Unavailable):
        client.request("POST", "/x", tenant=TENANT, json={})
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, errors.BadRequest),
        (403, errors.Forbidden),
        (404, errors.NotFound),
        (409, errors.Conflict),
    ],
)
def test_error_statuses_map_to_types(status, error_class):
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return httpx.Response(status, json={"error": "E", "correlationId": "c"})

    client = make_client(handler)

    with pytest.raises(error_class) as caught:
        client.request("GET", "/x", tenant=TENANT)
    assert caught.value.correlation_id == "c"
    assert not caught.value.retryable


def test_timeouts_become_transport_errors():
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler, max_retries=1)

    with pytest.raises(errors.TransportError, match="timed out"):
        client.request("GET", "/x", tenant=TENANT)


def test_a_rejected_credential_raises_with_the_oauth_code():
    def handler(request):
        return httpx.Response(
            401,
            json={
                "errorCode": "oauth.invalid_client_secret",
                "message": "Unauthorized",
                "trackingId": "track-1",
            },
        )

    client = make_client(handler)

    with pytest.raises(errors.CredentialsRejected) as caught:
        client.access_token()
    assert caught.value.error == "oauth.invalid_client_secret"
    assert caught.value.request_id == "track-1"
    assert "secret-value" not in str(caught.value)


def test_key_paging_yields_every_item_once():
    pages = {
        None: ([1, 2], "k2"),
        "k2": ([3, 4], "k3"),
        "k3": ([5], None),
    }
    seen_queries = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        key = request.url.params.get("pageFromKey")
        seen_queries.append(dict(request.url.params))
        items, next_key = pages[key]
        body = {"items": [{"id": i} for i in items], "pages": {"size": 2}}
        if next_key:
            body["pages"]["nextKey"] = next_key
        return httpx.Response(200, json=body)

    client = make_client(handler)

    items = list(client.iter_keys("/endpoint/v1/endpoints", tenant=TENANT))

    assert [i["id"] for i in items] == [1, 2, 3, 4, 5]
    assert seen_queries[0]["pageSize"] == "500"
    assert "pageFromKey" not in seen_queries[0]


def test_key_paging_stops_on_a_repeated_key():
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return httpx.Response(200, json={"items": [{}], "pages": {"nextKey": "same"}})

    client = make_client(handler)

    with pytest.raises(errors.InvalidResponse, match="twice"):
        list(client.iter_keys("/endpoint/v1/endpoints", tenant=TENANT))


def test_page_number_paging_yields_every_item_once():
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        if request.url.path == "/whoami/v1":
            return httpx.Response(
                200,
                json={
                    "id": "partner-1",
                    "idType": "partner",
                    "apiHosts": {"global": "https://api.central.sophos.com/"},
                },
            )
        page = int(request.url.params["page"])
        assert request.headers["X-Partner-ID"] == "partner-1"
        items = [
            {"id": f"t{page}-{n}", "name": f"T{page}{n}", "apiHost": REGION + "/"}
            for n in range(2)
        ]
        return httpx.Response(
            200, json={"items": items, "pages": {"current": page, "total": 3}}
        )

    client = make_client(handler)

    tenants = list(client.tenants())

    assert len(tenants) == 6
    assert len({t.id for t in tenants}) == 6
    assert tenants[0].api_host == REGION


def test_tenant_credential_lists_only_itself():
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return httpx.Response(
            200,
            json={
                "id": "tenant-1",
                "idType": "tenant",
                "apiHosts": {
                    "global": "https://api.central.sophos.com",
                    "dataRegion": REGION,
                },
            },
        )

    client = make_client(handler)

    tenants = list(client.tenants())

    assert [(t.id, t.api_host) for t in tenants] == [("tenant-1", REGION)]


def test_secrets_never_reach_the_log(caplog):
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return httpx.Response(200, json={})

    client = make_client(handler)

    with caplog.at_level("DEBUG"):
        client.request("GET", "/x", tenant=TENANT)

    assert "secret-value" not in caplog.text
    assert "token-1" not in caplog.text
    assert "sophos GET /x tenant=" in caplog.text


def test_sliding_window_limiter_waits_for_the_window():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(per_minute=2, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        limiter.acquire("client")

    assert clock.slept == [60.0]


def ok_handler(request: httpx.Request) -> httpx.Response:
    if str(request.url) == TOKEN_URL:
        return token_reply()
    return httpx.Response(200, json={"ok": True})


def limited_client(clock: FakeClock, per_minute: int = 1) -> SophosClient:
    limiter = SlidingWindowLimiter(
        per_minute=per_minute, clock=clock, sleep=clock.sleep
    )
    return make_client(ok_handler, clock, rate_limiter=limiter)


def test_interactive_call_raises_instead_of_waiting_for_limiter():
    clock = FakeClock()
    client = limited_client(clock)
    client.request("GET", "/x", tenant=TENANT)

    with interactive_calls(5), pytest.raises(errors.RateLimitReached) as caught:
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == []
    assert caught.value.retry_after == pytest.approx(60)
    assert caught.value.status is None
    assert client.calls_made == 1
    assert str(caught.value) == (
        "The Sophos Central call limit of this credential is used up for now "
        "by syncs and jobs. Retry in 60 seconds."
    )


def test_interactive_call_waits_within_cap():
    clock = FakeClock()
    client = limited_client(clock)
    client.request("GET", "/x", tenant=TENANT)
    clock.now += 57

    with interactive_calls(5) as budget:
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [pytest.approx(3)]
    assert budget.seconds_left == pytest.approx(2)


def test_interactive_waits_share_one_cap():
    clock = FakeClock()
    client = limited_client(clock)
    client.request("GET", "/x", tenant=TENANT)
    clock.now += 57

    with interactive_calls(5), pytest.raises(errors.RateLimitReached) as caught:
        client.request("GET", "/x", tenant=TENANT)
        clock.now += 57
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [pytest.approx(3)]
    assert caught.value.retry_after == pytest.approx(3)
    assert client.calls_made == 2


def test_background_calls_wait_inside_interactive_context():
    clock = FakeClock()
    client = limited_client(clock)
    client.request("GET", "/x", tenant=TENANT)

    with interactive_calls(5), background_calls():
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [pytest.approx(60)]


def test_interactive_cap_ends_with_its_context():
    clock = FakeClock()
    client = limited_client(clock)
    client.request("GET", "/x", tenant=TENANT)
    with interactive_calls(5):
        pass

    client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [pytest.approx(60)]


def test_interactive_429_with_long_retry_after_raises():
    clock = FakeClock()
    calls = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        calls.append(1)
        return httpx.Response(
            429,
            headers={"Retry-After": "30"},
            json={"error": "TooManyRequests", "correlationId": "corr-429"},
        )

    client = make_client(handler, clock)

    with interactive_calls(5), pytest.raises(errors.RateLimitReached) as caught:
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == []
    assert len(calls) == 1
    assert caught.value.retry_after == 30
    assert caught.value.status == 429
    assert caught.value.correlation_id == "corr-429"
    assert isinstance(caught.value.__cause__, errors.RateLimited)
    assert "Retry in 30 seconds." in str(caught.value)


def _retry_after_client(value: str, clock: FakeClock):
    """A client whose server replies 429 with ``Retry-After: value``, then 200."""
    replies = iter(
        [
            httpx.Response(429, headers={"Retry-After": value}, json={}),
            httpx.Response(200, json={"ok": True}),
        ]
    )

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return next(replies)

    return make_client(handler, clock)


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-5"])
def test_invalid_retry_after_uses_backoff(value):
    clock = FakeClock()
    client = _retry_after_client(value, clock)

    with interactive_calls(5):
        response = client.request("GET", "/x", tenant=TENANT)

    assert response.data == {"ok": True}
    assert len(clock.slept) == 1
    assert 0.5 <= clock.slept[0] <= 1.0


def test_huge_retry_after_is_capped_at_a_day():
    clock = FakeClock()
    client = _retry_after_client("1e20", clock)

    with background_calls():
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [86_400.0]


def test_interactive_huge_retry_after_says_a_day():
    clock = FakeClock()
    client = _retry_after_client("99999999999", clock)

    with interactive_calls(5), pytest.raises(errors.RateLimitReached) as caught:
        client.request("GET", "/x", tenant=TENANT)

    assert caught.value.retry_after == 86_400
    assert "Retry in 86400 seconds." in str(caught.value)


def test_http_date_retry_after_waits_until_then():
    clock = FakeClock()
    clock.now = 1_445_412_480.0  # 2015-10-21 07:28:00 UTC
    client = _retry_after_client("Wed, 21 Oct 2015 07:28:03 GMT", clock)

    with background_calls():
        client.request("GET", "/x", tenant=TENANT)

    assert clock.slept == [pytest.approx(3)]


def test_interactive_429_with_short_retry_after_retries():
    clock = FakeClock()
    replies = iter(
        [
            httpx.Response(429, headers={"Retry-After": "2"}, json={}),
            httpx.Response(200, json={"ok": True}),
        ]
    )

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return next(replies)

    client = make_client(handler, clock)

    with interactive_calls(5):
        response = client.request("GET", "/x", tenant=TENANT)

    assert response.data == {"ok": True}
    assert clock.slept == [2.0]


def failing_handler(replies: list[httpx.Response], calls: list[int]) -> Handler:
    """Return ``replies`` to the API calls in turn, then the last one for good."""

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            return token_reply()
        calls.append(1)
        return replies[min(len(calls), len(replies)) - 1]

    return handler


def unavailable(correlation_id: str) -> httpx.Response:
    return httpx.Response(
        503, json={"error": "ServiceUnavailable", "correlationId": correlation_id}
    )


def test_interactive_backoff_past_cap_raises_last_error():
    # Backoffs of 0.5 s doubling, plus up to 0.5 s of jitter: the first two
    # take 1.5 to 2.5 s, and the third would pass a cap of 3 s.
    clock = FakeClock()
    calls: list[int] = []
    replies = [unavailable("corr-1"), unavailable("corr-2"), unavailable("corr-3")]
    client = make_client(failing_handler(replies, calls), clock)

    with interactive_calls(3) as budget, pytest.raises(errors.Unavailable) as caught:
        client.request("GET", "/x", tenant=TENANT)

    assert len(calls) == 3
    assert len(clock.slept) == 2
    assert caught.value.correlation_id == "corr-3"
    assert budget.seconds_left == pytest.approx(3 - sum(clock.slept))


def test_interactive_backoff_within_cap_retries():
    clock = FakeClock()
    calls: list[int] = []
    replies = [unavailable("corr-1"), httpx.Response(200, json={"ok": True})]
    client = make_client(failing_handler(replies, calls), clock)

    with interactive_calls(5) as budget:
        response = client.request("GET", "/x", tenant=TENANT)

    assert response.data == {"ok": True}
    assert len(clock.slept) == 1
    assert budget.seconds_left == pytest.approx(5 - clock.slept[0])


def test_interactive_network_error_is_not_retried_without_budget():
    clock = FakeClock()
    calls = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        calls.append(1)
        raise httpx.ConnectError("refused", request=request)

    client = make_client(handler, clock)

    with interactive_calls(0), pytest.raises(errors.TransportError):
        client.request("GET", "/x", tenant=TENANT)

    assert len(calls) == 1
    assert clock.slept == []


def test_interactive_backoff_logs_why_it_stops(caplog):
    calls: list[int] = []
    client = make_client(failing_handler([unavailable("corr-1")], calls))

    with interactive_calls(0), pytest.raises(errors.Unavailable):
        client.request("GET", "/x", tenant=TENANT)

    assert "not retrying, because the" in caplog.text
    assert "an interactive call may still wait" in caplog.text


def test_background_calls_keep_every_backoff():
    clock = FakeClock()
    calls: list[int] = []
    client = make_client(failing_handler([unavailable("corr-1")], calls), clock)

    with (
        interactive_calls(3),
        background_calls(),
        pytest.raises(errors.Unavailable),
    ):
        client.request("GET", "/x", tenant=TENANT)

    assert len(calls) == 5
    assert len(clock.slept) == 4


def test_rate_limit_reached_rounds_the_wait_up():
    error = errors.RateLimitReached(retry_after=0.4)

    assert str(error).endswith("Retry in 1 second.")


def test_body_that_is_not_json_raises_invalid_response():
    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        return httpx.Response(200, content=b"<html>")

    client = make_client(handler)

    with pytest.raises(errors.InvalidResponse, match="not JSON"):
        client.request("GET", "/x", tenant=TENANT)


def test_query_lists_are_comma_separated():
    seen = {}

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        seen.update(request.url.params)
        return httpx.Response(200, json=json.loads("{}"))

    client = make_client(handler)

    client.request(
        "GET", "/x", tenant=TENANT, params={"severity": ["high", "low"], "b": True}
    )

    assert seen == {"severity": "high,low", "b": "true"}


def test_call_rejects_an_unknown_operation_before_sending():
    client = make_client(lambda request: pytest.fail("nothing should be sent"))

    with pytest.raises(KeyError, match="alerts_list"):
        client.call("alert_lst", tenant=TENANT)


def test_call_names_a_missing_path_parameter():
    client = make_client(lambda request: pytest.fail("nothing should be sent"))

    with pytest.raises(ValueError, match="alertId"):
        client.call("alert_get", tenant=TENANT)


def test_call_names_a_missing_body_field():
    client = make_client(lambda request: pytest.fail("nothing should be sent"))

    with pytest.raises(ValueError, match="action"):
        client.call(
            "alert_action_perform",
            tenant=TENANT,
            path_params={"alertId": "a1"},
            json={"message": "hi"},
        )


def test_call_rejects_an_unknown_query_parameter():
    client = make_client(lambda request: pytest.fail("nothing should be sent"))

    with pytest.raises(ValueError, match="colour"):
        client.call("alerts_list", tenant=TENANT, params={"colour": "red"})


def test_call_sends_an_empty_object_to_a_bodiless_post():
    bodies = []

    def handler(request):
        if str(request.url) == TOKEN_URL:
            return token_reply()
        bodies.append(request.content)
        return httpx.Response(202, json={})

    client = make_client(handler)

    client.call("endpoint_scan_start", tenant=TENANT, path_params={"endpointId": "e1"})

    assert bodies == [b"{}"]


def test_call_rejects_a_dot_path_parameter():
    client = make_client(lambda request: pytest.fail("nothing should be sent"))

    with pytest.raises(ValueError, match="single id"):
        client.call("endpoint_get", tenant=TENANT, path_params={"endpointId": "."})
