"""The Sophos Central API client, the only code that speaks HTTP to Sophos.

It imports nothing from Django: the portal builds it from a connection with
``sophos.services.connections.client_for`` and passes in a transport (the
embedded simulator or the real network), a token store and a rate limiter.

A call waits as long as it takes for the rate limiter, for a 429's
``Retry-After`` (capped at a day) and for the backoff before it retries a 5xx
reply or a network error. Inside ``interactive_calls`` these waits share a cap. A
rate-limit wait past the cap raises ``RateLimitReached`` instead of sleeping,
and a backoff past it raises the error of the last attempt. The portal's
middleware wraps each web request in ``interactive_calls``.
"""

from __future__ import annotations

import email.utils
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from sophos import catalog
from sophos.errors import (
    ApiError,
    CredentialsRejected,
    InvalidResponse,
    RateLimited,
    RateLimitReached,
    SophosError,
    TransportError,
    error_for_status,
)

logger = logging.getLogger(__name__)

DEFAULT_TOKEN_URL = "https://id.sophos.com/api/v2/oauth2/token"  # noqa: S105
DEFAULT_GLOBAL_URL = "https://api.central.sophos.com"

# Renew the token this long before its stated expiry, so a request never
# leaves with a token that lapses on the way.
TOKEN_RENEW_MARGIN_SECONDS = 120

# A hard cap on pages per listing: a server that never stops sending
# nextKey must not keep a sync running for ever.
MAX_PAGES = 10_000

# NOTE/sophos-api: the maximum page sizes come from third-party clients and
# documentation captures; the partner tenant list's maximum is assumed.
MAX_PAGE_SIZE = {
    "/partner/v1/tenants": 100,
    "/organization/v1/tenants": 100,
    "/endpoint/v1/endpoints": 500,
    "/common/v1/alerts": 100,
    "/partner/v1/billing/usage": 100,
}

Scope = Literal["tenant", "partner", "organization"]
Clock = Callable[[], float]
Sleep = Callable[[float], None]


def pause(seconds: float) -> None:
    """Wait before a retry; the default ``sleep`` of clients and limiters."""
    time.sleep(seconds)


class WaitBudget:
    """The seconds that the calls of one context may still spend waiting for
    the rate limit or before a retry."""

    def __init__(self, seconds: float) -> None:
        self.seconds_left = max(0.0, seconds)

    def spend(self, seconds: float) -> None:
        self.seconds_left = max(0.0, self.seconds_left - seconds)


_wait_budget: ContextVar[WaitBudget | None] = ContextVar(
    "sophos_wait_budget", default=None
)


@contextmanager
def interactive_calls(max_wait: float) -> Iterator[WaitBudget]:
    """Cap the waits of the calls made inside at ``max_wait`` seconds in total.

    The cap is for calls a person waits for. It covers the rate limiter, the
    ``Retry-After`` of 429 replies and the backoff before retrying a 5xx reply
    or a network error, summed over every call of the context. A rate-limit
    wait that would pass it raises ``RateLimitReached``, and such a backoff
    raises the error of the last attempt.
    """
    budget = WaitBudget(max_wait)
    token = _wait_budget.set(budget)
    try:
        yield budget
    finally:
        _wait_budget.reset(token)


@contextmanager
def background_calls() -> Iterator[None]:
    """Let the calls made inside wait for the rate limit and retries as long as
    they take.

    Task entry points use it, so a task that django-q2 runs inline during a
    web request (its sync mode) is not held to the request's cap.
    """
    token = _wait_budget.set(None)
    try:
        yield
    finally:
        _wait_budget.reset(token)


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: float  # seconds since the epoch, by the client's clock


class TokenStore(Protocol):
    """Storage for tokens between requests; a shared store lets processes reuse one."""

    def get(self, key: str) -> Token | None: ...

    def set(self, key: str, token: Token) -> None: ...

    def delete(self, key: str) -> None: ...

    def renewal_lock(self, key: str) -> AbstractContextManager[object]: ...


class MemoryTokenStore:
    """A token store for one process."""

    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> Token | None:
        return self._tokens.get(key)

    def set(self, key: str, token: Token) -> None:
        self._tokens[key] = token

    def delete(self, key: str) -> None:
        self._tokens.pop(key, None)

    def renewal_lock(self, key: str) -> AbstractContextManager[object]:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class RateLimiter(Protocol):
    """Blocks until the credential named by ``key`` may make one more call.

    ``acquire`` counts the call and returns the seconds it slept. When the
    wait would pass ``max_wait`` seconds, it raises ``RateLimitReached``
    without sleeping or counting the call.
    """

    def acquire(self, key: str, *, max_wait: float | None = None) -> float: ...


class NoRateLimit:
    def acquire(self, key: str, *, max_wait: float | None = None) -> float:
        return 0.0


class SlidingWindowLimiter:
    """Allow at most ``per_minute`` calls in any 60 s and ``per_day`` in 24 h.

    The state lives in this object, so it limits one process; the portal
    passes a limiter backed by Django's cache to share the budget.
    """

    def __init__(
        self,
        *,
        per_minute: int,
        per_day: int = 0,
        clock: Clock = time.time,
        sleep: Sleep | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.per_day = per_day
        self.clock = clock
        self.sleep = sleep or (lambda seconds: pause(seconds))
        self._calls: dict[str, list[float]] = {}
        self._day: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str, *, max_wait: float | None = None) -> float:
        waited = 0.0
        while True:
            with self._lock:
                wait = self._wait_needed(key)
                if wait <= 0:
                    now = self.clock()
                    self._calls.setdefault(key, []).append(now)
                    self._day.setdefault(key, []).append(now)
                    return waited
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimitReached(retry_after=wait)
            self.sleep(wait)
            waited += wait

    def _wait_needed(self, key: str) -> float:
        now = self.clock()
        minute = [t for t in self._calls.get(key, []) if t > now - 60]
        day = [t for t in self._day.get(key, []) if t > now - 86_400]
        self._calls[key] = minute
        self._day[key] = day
        waits = [0.0]
        if self.per_minute and len(minute) >= self.per_minute:
            waits.append(minute[-self.per_minute] + 60 - now)
        if self.per_day and len(day) >= self.per_day:
            waits.append(day[-self.per_day] + 86_400 - now)
        return max(waits)


@dataclass(frozen=True)
class WhoAmI:
    id: str
    id_type: Literal["partner", "organization", "tenant"]
    global_url: str
    data_region_url: str = ""


@dataclass(frozen=True)
class TenantTarget:
    """The target of a tenant's calls: its id for ``X-Tenant-ID`` and its API host."""

    id: str
    api_host: str


@dataclass(frozen=True)
class TenantInfo:
    id: str
    name: str
    show_as: str
    data_region: str
    data_geography: str
    billing_type: str
    status: str
    api_host: str
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def target(self) -> TenantTarget:
        return TenantTarget(id=self.id, api_host=self.api_host)


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    data: Any
    duration_ms: float

    @property
    def correlation_id(self) -> str:
        if isinstance(self.data, dict):
            return str(self.data.get("correlationId") or "")
        return ""


def _strip_origin(url: str) -> str:
    return url.rstrip("/")


# A Retry-After longer than a day is capped at a day, the longest window the
# portal's limiter counts, because time.sleep raises OverflowError for huge
# values.
MAX_RETRY_AFTER_SECONDS = 86_400.0


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """Return the seconds that a ``Retry-After`` header requests to wait, or None.

    An HTTP date in the past means no wait. Delay seconds that are negative,
    infinite or NaN are invalid and return None, so the backoff applies.
    """
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            return None
        return min(seconds, MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER_SECONDS)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return ",".join(_query_value(item) for item in value)
    return str(value)


class SophosClient:
    """One Sophos Central credential and the calls made with it.

    ``transport`` is handed to httpx; the embedded mode passes the simulator
    transport, tests can pass ``httpx.MockTransport``. ``sleep`` and
    ``clock`` are injectable so tests and benchmarks need not wait.
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        token_url: str = DEFAULT_TOKEN_URL,
        global_url: str = DEFAULT_GLOBAL_URL,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff_seconds: float = 1.0,
        token_store: TokenStore | None = None,
        rate_limiter: RateLimiter | None = None,
        clock: Clock = time.time,
        sleep: Sleep | None = None,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.global_url = _strip_origin(global_url)
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.token_store = token_store or MemoryTokenStore()
        self.rate_limiter = rate_limiter or NoRateLimit()
        self.clock = clock
        # Looked up at each call, so tests can replace ``pause`` module-wide.
        self.sleep = sleep or (lambda seconds: pause(seconds))
        self._whoami: WhoAmI | None = None
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )
        # Counters a benchmark or a job summary can read.
        self.calls_made = 0
        self.rate_limited_responses = 0

    def __repr__(self) -> str:
        return f"SophosClient(client_id={self.client_id!r})"

    def __enter__(self) -> SophosClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # Token

    @property
    def _token_key(self) -> str:
        return f"{self.token_url}|{self.client_id}"

    def access_token(self) -> str:
        """Return a valid bearer token, renewing it once for all callers."""
        token = self.token_store.get(self._token_key)
        if token and token.expires_at - TOKEN_RENEW_MARGIN_SECONDS > self.clock():
            return token.access_token

        with self.token_store.renewal_lock(self._token_key):
            token = self.token_store.get(self._token_key)
            if token and token.expires_at - TOKEN_RENEW_MARGIN_SECONDS > self.clock():
                return token.access_token
            token = self._fetch_token()
            self.token_store.set(self._token_key, token)
            return token.access_token

    def _fetch_token(self) -> Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "scope": "token",
        }
        started = self.clock()
        try:
            response = self._http.post(self.token_url, data=form)
        except httpx.TimeoutException as exc:
            raise TransportError(
                f"Token request to {self.token_url} timed out."
            ) from exc
        except httpx.TransportError as exc:
            raise TransportError(
                f"Token request to {self.token_url} failed: {exc}."
            ) from exc

        body = self._json(response, "POST", self.token_url)
        logger.info(
            "sophos token client=%s status=%s", self.client_id, response.status_code
        )
        if response.status_code == 429:
            self.rate_limited_responses += 1
        if response.status_code != 200:
            raise error_for_status(
                response.status_code,
                body,
                method="POST",
                path=self.token_url,
                retry_after=_parse_retry_after(
                    response.headers.get("Retry-After"), self.clock()
                ),
            )
        try:
            access_token = str(body["access_token"])
            expires_in = float(body.get("expires_in", 3600))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidResponse(
                "The token reply from Sophos Central has no access_token."
            ) from exc
        return Token(access_token=access_token, expires_at=started + expires_in)

    # Discovery

    def whoami(self) -> WhoAmI:
        """Return who this credential is: partner, organization or tenant."""
        if self._whoami is None:
            data = self.request("GET", "/whoami/v1", scope=None).data
            try:
                hosts = data.get("apiHosts") or {}
                self._whoami = WhoAmI(
                    id=str(data["id"]),
                    id_type=data["idType"],
                    global_url=_strip_origin(hosts.get("global") or self.global_url),
                    data_region_url=_strip_origin(hosts.get("dataRegion") or ""),
                )
            except (AttributeError, KeyError, TypeError) as exc:
                raise InvalidResponse(
                    "The whoami reply from Sophos Central lacks id or idType."
                ) from exc
            if self._whoami.id_type not in {"partner", "organization", "tenant"}:
                raise InvalidResponse(
                    f"whoami returned an unknown idType {self._whoami.id_type!r}."
                )
        return self._whoami

    def tenants(self) -> Iterator[TenantInfo]:
        """Yield every tenant this credential manages, once each.

        A tenant credential manages only itself; its API host comes from
        whoami.
        """
        me = self.whoami()
        if me.id_type == "tenant":
            yield TenantInfo(
                id=me.id,
                name="",
                show_as="",
                data_region="",
                data_geography="",
                billing_type="",
                status="active",
                api_host=me.data_region_url,
            )
            return

        path = f"/{me.id_type}/v1/tenants"
        for item in self.iter_page_numbers(path, scope=me.id_type):
            yield _tenant_from(item)

    def tenant_target(self, tenant_id: str, api_host: str) -> TenantTarget:
        return TenantTarget(id=tenant_id, api_host=_strip_origin(api_host))

    # Requests

    def request(
        self,
        method: str,
        path: str,
        *,
        tenant: TenantTarget | None = None,
        scope: Scope | None = "tenant",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> ApiResponse:
        """Send one API call, retrying 429, 5xx and network failures.

        ``tenant`` routes the call to the tenant's API host with
        ``X-Tenant-ID``; without it, a partner or organization scope sends
        ``X-Partner-ID`` or ``X-Organization-ID`` to the global host, and a
        tenant credential uses its own id and region.
        """
        url, headers = self._route(path, tenant=tenant, scope=scope)
        query = {
            key: _query_value(value)
            for key, value in (params or {}).items()
            if value is not None
        }
        attempt = 0
        renewed_token = False
        while True:
            attempt += 1
            try:
                return self._send_once(method, url, path, headers, query, json, tenant)
            except CredentialsRejected:
                # A token revoked or expired early gets one fresh token.
                if renewed_token:
                    raise
                renewed_token = True
                logger.warning("sophos token rejected, fetching a new one")
                self.token_store.delete(self._token_key)
            except SophosError as exc:
                if not self._should_retry(exc, method, attempt):
                    raise
                wait = self._retry_wait(exc, attempt)
                _spend_interactive_wait(wait, exc, method, path)
                logger.warning(
                    "sophos %s %s tenant=%s retry %s/%s in %.1fs: %s",
                    method,
                    path,
                    tenant.id if tenant else "-",
                    attempt,
                    self.max_retries,
                    wait,
                    exc,
                )
                self.sleep(wait)

    def _route(
        self, path: str, *, tenant: TenantTarget | None, scope: Scope | None
    ) -> tuple[str, dict[str, str]]:
        if tenant is not None:
            return tenant.api_host + path, {"X-Tenant-ID": tenant.id}
        if scope is None:
            return self.global_url + path, {}

        me = self.whoami()
        if scope == "tenant":
            if me.id_type != "tenant":
                raise ValueError(
                    f"{path} is a tenant API: pass the tenant to call it with a "
                    f"{me.id_type} credential."
                )
            return me.data_region_url + path, {"X-Tenant-ID": me.id}
        if me.id_type != scope:
            raise ValueError(
                f"{path} needs a {scope} credential, but this one is a {me.id_type}."
            )
        header = "X-Partner-ID" if scope == "partner" else "X-Organization-ID"
        return me.global_url + path, {header: me.id}

    def _send_once(
        self,
        method: str,
        url: str,
        path: str,
        headers: dict[str, str],
        query: dict[str, str],
        json: Any,
        tenant: TenantTarget | None,
    ) -> ApiResponse:
        budget = _wait_budget.get()
        max_wait = budget.seconds_left if budget is not None else None
        waited = self.rate_limiter.acquire(self.client_id, max_wait=max_wait)
        if budget is not None:
            budget.spend(waited)
        request_headers = {**headers, "Authorization": f"Bearer {self.access_token()}"}
        started = time.perf_counter()
        try:
            response = self._http.request(
                method, url, params=query, json=json, headers=request_headers
            )
        except httpx.TimeoutException as exc:
            raise TransportError(f"{method} {path} timed out.") from exc
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {path} failed: {exc}.") from exc
        finally:
            self.calls_made += 1
        duration_ms = (time.perf_counter() - started) * 1000

        logger.info(
            "sophos %s %s tenant=%s status=%s %.0fms",
            method,
            path,
            tenant.id if tenant else "-",
            response.status_code,
            duration_ms,
        )
        body = self._json(response, method, path)
        if response.status_code >= 400:
            if response.status_code == 429:
                self.rate_limited_responses += 1
            retry_after = _parse_retry_after(
                response.headers.get("Retry-After"), self.clock()
            )
            raise error_for_status(
                response.status_code,
                body,
                method=method,
                path=path,
                retry_after=retry_after,
            )
        return ApiResponse(
            status=response.status_code,
            headers=dict(response.headers),
            data=body,
            duration_ms=duration_ms,
        )

    def _json(self, response: httpx.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            # The body may hold a token or a password, so only its size is
            # logged.
            logger.debug(
                "sophos unreadable body of %s bytes for %s %s",
                len(response.content),
                method,
                path,
            )
            if response.status_code >= 500:
                return None
            raise InvalidResponse(
                f"Sophos Central sent a body that is not JSON for {method} {path} "
                f"(status {response.status_code})."
            ) from exc

    def _should_retry(self, exc: SophosError, method: str, attempt: int) -> bool:
        if attempt > self.max_retries or not exc.retryable:
            return False
        if isinstance(exc, RateLimitReached):
            # Raised so that a person is not kept waiting; a retry would wait.
            return False
        if isinstance(exc, RateLimited):
            return True
        # A POST or PATCH that failed on the way may have been applied, so
        # only a 503 (not processed) is repeated for those methods.
        if method in {"POST", "PATCH"}:
            return isinstance(exc, ApiError) and exc.status == 503
        return True

    def _retry_wait(self, exc: SophosError, attempt: int) -> float:
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return exc.retry_after
        backoff: float = self.backoff_seconds * 2 ** (attempt - 1)
        return backoff + random.uniform(0, self.backoff_seconds)  # noqa: S311

    # Paging

    def iter_page_numbers(
        self,
        path: str,
        *,
        tenant: TenantTarget | None = None,
        scope: Scope | None = "tenant",
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing paged by ``page`` and ``pages.total``."""
        size = page_size or MAX_PAGE_SIZE.get(path, 50)
        page = 1
        total: int | None = None
        while page <= MAX_PAGES:
            query = {**(params or {}), "page": page, "pageSize": size}
            if total is None:
                query["pageTotal"] = True
            data = self.request(
                "GET", path, tenant=tenant, scope=scope, params=query
            ).data
            items, pages = _envelope(data, path)
            yield from items
            if total is None:
                total = int(pages.get("total") or 1)
            if page >= total or not items:
                return
            page += 1
        raise InvalidResponse(f"{path} kept paging past {MAX_PAGES} pages.")

    def iter_keys(
        self,
        path: str,
        *,
        tenant: TenantTarget | None = None,
        scope: Scope | None = "tenant",
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing paged by ``pageFromKey``/``nextKey``."""
        size = page_size or _max_page_size(path)
        key: str | None = None
        seen_keys: set[str] = set()
        for _ in range(MAX_PAGES):
            query = {**(params or {}), "pageSize": size}
            if key:
                query["pageFromKey"] = key
            data = self.request(
                "GET", path, tenant=tenant, scope=scope, params=query
            ).data
            items, pages = _envelope(data, path)
            yield from items
            key = pages.get("nextKey")
            if not key:
                return
            if key in seen_keys:
                raise InvalidResponse(f"{path} returned the page key {key!r} twice.")
            seen_keys.add(key)
        raise InvalidResponse(f"{path} kept paging past {MAX_PAGES} pages.")

    # Catalog operations by name

    def call(
        self,
        operation_name: str,
        *,
        tenant: TenantTarget | None = None,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> ApiResponse:
        """Send one catalog operation, checking its inputs before sending.

        Raises ``UnknownOperation`` for a name not in the catalog, and
        ``MissingPathParameter`` or ``InvalidPathParameter`` for a bad path
        parameter. Raises ``ValueError`` for a missing required body field,
        a query parameter the operation does not take, or a body sent to a
        GET operation, and names the field or parameter.
        """
        operation = catalog.get(operation_name)
        path = operation.build_path(**(path_params or {}))
        _check_query(operation, params)
        body = _check_body(operation, json)
        return self.request(
            operation.method,
            path,
            tenant=tenant if operation.scope == "tenant" else None,
            scope=operation.scope,
            params=params,
            json=body,
        )

    def paginate(
        self,
        operation_name: str,
        *,
        tenant: TenantTarget | None = None,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every item of a listing operation, whichever paging it uses."""
        operation = catalog.get(operation_name)
        path = operation.build_path(**(path_params or {}))
        _check_query(operation, params)
        scope_tenant = tenant if operation.scope == "tenant" else None
        size = page_size or operation.max_page_size
        if operation.paging == "key":
            return self.iter_keys(
                path,
                tenant=scope_tenant,
                scope=operation.scope,
                params=params,
                page_size=size or 50,
            )
        if operation.paging == "page":
            return self.iter_page_numbers(
                path,
                tenant=scope_tenant,
                scope=operation.scope,
                params=params,
                page_size=size or 50,
            )
        return self._unpaged_items(operation, path, scope_tenant, params)

    def _unpaged_items(
        self,
        operation: catalog.Operation,
        path: str,
        tenant: TenantTarget | None,
        params: Mapping[str, Any] | None,
    ) -> Iterator[dict[str, Any]]:
        data = self.request(
            operation.method, path, tenant=tenant, scope=operation.scope, params=params
        ).data
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            yield from data["items"]
        elif isinstance(data, list):
            yield from data
        else:
            raise InvalidResponse(f"{path} did not return a list of items.")

    # Typed helpers the services use

    def endpoints(
        self, tenant: TenantTarget, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        params = {"view": "full", **filters}
        return self.iter_keys("/endpoint/v1/endpoints", tenant=tenant, params=params)

    def alerts(self, tenant: TenantTarget, **filters: Any) -> Iterator[dict[str, Any]]:
        return self.iter_keys("/common/v1/alerts", tenant=tenant, params=filters)

    def alert(self, tenant: TenantTarget, alert_id: str) -> dict[str, Any]:
        data: dict[str, Any] = self.request(
            "GET", f"/common/v1/alerts/{alert_id}", tenant=tenant
        ).data
        return data

    def alert_action(
        self,
        tenant: TenantTarget,
        alert_id: str,
        action: str,
        message: str | None = None,
    ) -> ApiResponse:
        body: dict[str, Any] = {"action": action}
        if message:
            body["message"] = message
        return self.request(
            "POST", f"/common/v1/alerts/{alert_id}/actions", tenant=tenant, json=body
        )

    def billing_usage(self, year: int, month: int) -> Iterator[dict[str, Any]]:
        if not 1 <= month <= 12:
            raise ValueError(f"Month {month} is invalid: use 1 to 12.")
        return self.iter_keys(
            f"/partner/v1/billing/usage/{year}/{month}",
            scope="partner",
            page_size=MAX_PAGE_SIZE["/partner/v1/billing/usage"],
        )


def _spend_interactive_wait(
    wait: float, exc: SophosError, method: str, path: str
) -> None:
    """Take a retry's wait from the context's budget, or raise when it is too long.

    A 429 whose ``Retry-After`` is too long raises ``RateLimitReached``. A
    backoff after a 5xx reply or a network error that is too long raises
    ``exc``, the error of the last attempt.
    """
    budget = _wait_budget.get()
    if budget is None:
        return
    if wait <= budget.seconds_left:
        budget.spend(wait)
        return
    if isinstance(exc, RateLimited):
        logger.warning(
            "sophos %s %s: 429 asks for %.1fs, more than the %.1fs an "
            "interactive call may still wait",
            method,
            path,
            wait,
            budget.seconds_left,
        )
        raise RateLimitReached(
            retry_after=wait,
            status=429,
            correlation_id=exc.correlation_id,
            request_id=exc.request_id,
        ) from exc
    logger.warning(
        "sophos %s %s: not retrying, because the %.1fs backoff is more than the "
        "%.1fs an interactive call may still wait: %s",
        method,
        path,
        wait,
        budget.seconds_left,
        exc,
    )
    raise exc


PAGING_PARAMS = {"page", "pageSize", "pageTotal", "pageFromKey"}


def _check_query(
    operation: catalog.Operation, params: Mapping[str, Any] | None
) -> None:
    unknown = set(params or {}) - set(operation.query_params) - PAGING_PARAMS
    if unknown:
        names = ", ".join(sorted(unknown))
        accepted = ", ".join(operation.query_params) or "none"
        raise ValueError(
            f"{operation.name} does not take the query parameter(s) {names}; "
            f"it accepts: {accepted}."
        )


def _check_body(operation: catalog.Operation, body: Any) -> Any:
    if operation.method == "GET" and body is not None:
        raise ValueError(
            f"{operation.name} is a GET and takes no body; send its inputs in "
            "params or path_params."
        )
    if operation.method in {"GET", "DELETE"}:
        # Some DELETE routes take their ids in a JSON body as well as the query.
        return body
    if body is None and (operation.bodiless_post or not operation.body_required):
        # Sophos rejects an empty body on bodiless POST and PUT routes.
        return {} if operation.method in {"POST", "PUT"} else None
    if operation.body_required and not isinstance(body, dict):
        fields = ", ".join(operation.body_required)
        raise ValueError(f"{operation.name} needs a JSON object body with: {fields}.")
    if isinstance(body, dict):
        missing = [name for name in operation.body_required if name not in body]
        if missing:
            raise ValueError(
                f"{operation.name} body is missing the required field(s): "
                f"{', '.join(missing)}."
            )
    return body


def _max_page_size(path: str) -> int:
    for prefix, size in MAX_PAGE_SIZE.items():
        if path.startswith(prefix):
            return size
    return 50


def _envelope(data: Any, path: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise InvalidResponse(f"{path} did not return an items list.")
    pages = data.get("pages")
    return data["items"], pages if isinstance(pages, dict) else {}


def _tenant_from(item: Mapping[str, Any]) -> TenantInfo:
    try:
        return TenantInfo(
            id=str(item["id"]),
            name=str(item.get("name") or ""),
            show_as=str(item.get("showAs") or ""),
            data_region=str(item.get("dataRegion") or ""),
            data_geography=str(item.get("dataGeography") or ""),
            billing_type=str(item.get("billingType") or ""),
            status=str(item.get("status") or ""),
            # A tenant still being provisioned may lack an API host; the sync
            # reports it instead of failing the whole listing.
            api_host=_strip_origin(str(item.get("apiHost") or "")),
            raw=item,
        )
    except KeyError as exc:
        raise InvalidResponse(
            f"A tenant in the tenant list lacks {exc.args[0]}."
        ) from exc
