"""The API console: one Sophos Central request written by a portal user.

``console_prepare`` checks the input and resolves the catalog operation
without sending anything. ``console_request`` sends the checked request
through the connection's ``SophosClient``, so the rate limiter and the
retries apply as to any other call, and records every write in the audit
log. Requests only ever go to the tenant's API host or the connection's
global host: the user supplies a path, never a URL.

Callers check access first: ``console_prepare`` returns the method and the
scope (tenant, partner or organization) that decide who may send it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from sophos import catalog
from sophos.client import PAGING_PARAMS, ApiResponse, Scope, SophosClient
from sophos.errors import ApiError, RateLimited, RateLimitReached, SophosError
from sophos.models import Connection, Tenant
from sophos.services.audit import audited, scrub
from sophos.services.connections import client_for

logger = logging.getLogger(__name__)

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
AUDIT_OPERATION = "console_request"
MAX_PATH_LENGTH = 2048
MAX_QUERY_FIELDS = 100
# A full endpoint listing can run to megabytes; the page shows at most this
# many characters of the pretty-printed body.
MAX_SHOWN_BODY_CHARS = 500_000

# RFC 3986 path characters: unreserved, sub-delims, ":", "@" and "%XX".
_PATH_PATTERN = re.compile(r"^(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%]*)+$")
_PERCENT_PATTERN = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Percent-encoded ".", "/" and "\", which a server may decode into a dot
# segment or a separator.
_ENCODED_SEPARATOR = re.compile(r"%(?:2e|2f|5c)", re.IGNORECASE)

# Response headers worth showing; all others stay hidden, and any name that
# mentions authorization, a cookie or a token is dropped even if listed.
SHOWN_RESPONSE_HEADERS = (
    "content-type",
    "retry-after",
    "location",
    "x-correlation-id",
    "x-request-id",
    "x-amzn-requestid",
    "x-amzn-trace-id",
)
_HIDDEN_HEADER = re.compile(r"auth|cookie|token", re.IGNORECASE)


class ConsoleInputError(ValueError):
    """The console input is invalid, so nothing was sent.

    ``field`` names the input at fault: tenant, connection, operation,
    method, path, path_params, query or body. ``parameter`` names the path
    parameter when ``field`` is path_params.
    """

    def __init__(self, message: str, *, field: str, parameter: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.parameter = parameter

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ConsoleRequest:
    """A checked request, ready to send."""

    method: str
    path: str
    scope: Scope
    params: dict[str, str | list[str]]
    body: Any
    # The operation picked from the catalog, or the one the path matched.
    operation: catalog.Operation | None
    operation_chosen: bool

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    @property
    def query_string(self) -> str:
        return urlencode(self.params, doseq=True)

    @property
    def body_text(self) -> str:
        if self.body is None:
            return ""
        return json.dumps(self.body, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class ConsoleTarget:
    """Destination of a request: the host and the ID header that names the scope."""

    host: str
    id_header: str
    # Empty for a connection that has not been identified with whoami yet;
    # the client then asks whoami before sending.
    id_value: str


@dataclass(frozen=True)
class ConsoleResult:
    """The reply of Sophos Central, or the failure that stopped the request."""

    request: ConsoleRequest
    target: ConsoleTarget
    # None when no response arrived (timeout, connection failure, unreadable
    # reply).
    status: int | None
    headers: tuple[tuple[str, str], ...]
    body_text: str
    body_truncated: bool
    duration_ms: float | None
    error: str
    message: str
    correlation_id: str
    request_id: str
    # 429 responses received, the retries after them included.
    rate_limited_responses: int
    audited: bool

    @property
    def url(self) -> str:
        query = self.request.query_string
        return self.target.host + self.request.path + (f"?{query}" if query else "")

    @property
    def succeeded(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def rate_limit_retries(self) -> int:
        """Retries the client made after a 429 response."""
        if self.status == 429:
            return max(0, self.rate_limited_responses - 1)
        return self.rate_limited_responses


def console_scope(*, method: str, path: str) -> tuple[Scope, catalog.Operation | None]:
    """Return the scope of a free-form request and the operation it matches.

    A path outside the catalog takes its scope from its first segment:
    ``/partner/...`` and ``/organization/...`` are global APIs, and every
    other path is a tenant API.
    """
    found = catalog.match(method.upper(), path.split("?", 1)[0])
    if found is not None:
        return found[0].scope, found[0]
    if path.startswith("/partner/"):
        return "partner", None
    if path.startswith("/organization/"):
        return "organization", None
    return "tenant", None


def console_prepare(
    *,
    method: str,
    path: str,
    query: str,
    body: str,
    operation: str = "",
    path_params: Mapping[str, str] | None = None,
) -> ConsoleRequest:
    """Check a console request and resolve its operation, sending nothing.

    With ``operation`` the method and path come from the catalog, with
    ``path_params`` filling the path placeholders, and ``method`` and
    ``path`` are ignored. Without it, ``method`` and ``path`` are used as
    given and the catalog operation that serves them, if any, is looked up.
    Raises ConsoleInputError naming the invalid input.
    """
    if operation:
        chosen = _operation_get(operation)
        method = chosen.method
        path = _operation_path(chosen, path_params or {})
        scope: Scope = chosen.scope
        matched: catalog.Operation | None = chosen
    else:
        method = _checked_method(method)
        path = _checked_path(path)
        scope, matched = console_scope(method=method, path=path)

    params = _parsed_query(query)
    if operation and matched is not None:
        _check_query_names(matched, params)
    parsed_body = _body_for(method, matched, _parsed_body(body))

    return ConsoleRequest(
        method=method,
        path=path,
        scope=scope,
        params=params,
        body=parsed_body,
        operation=matched,
        operation_chosen=bool(operation),
    )


def console_target(
    *, scope: Scope, tenant: Tenant | None, connection: Connection | None
) -> ConsoleTarget:
    """Return the host and ID header of a request in ``scope``.

    A tenant request goes to the tenant's API host with ``X-Tenant-ID``. A
    partner or organization request goes to the connection's global host
    with ``X-Partner-ID`` or ``X-Organization-ID``.
    """
    if scope == "tenant":
        if tenant is None:
            raise ConsoleInputError(
                "Choose a tenant: this is a tenant API, sent with X-Tenant-ID.",
                field="tenant",
            )
        if not tenant.api_host:
            raise ConsoleInputError(
                f"Tenant {tenant.display_name} has no API host yet: "
                "sync the fleet and try again.",
                field="tenant",
            )
        return ConsoleTarget(
            host=tenant.api_host.rstrip("/"),
            id_header="X-Tenant-ID",
            id_value=str(tenant.pk),
        )

    if connection is None:
        raise ConsoleInputError(
            f"Choose {_article(scope)} {scope} connection: this is "
            f"{_article(scope)} {scope} API.",
            field="connection",
        )
    if connection.kind and connection.kind != scope:
        raise ConsoleInputError(
            f"This is {_article(scope)} {scope} API, but the connection "
            f"{connection.name} is {_article(connection.kind)} {connection.kind} "
            f"credential: choose {_article(scope)} {scope} connection.",
            field="connection",
        )
    header = "X-Partner-ID" if scope == "partner" else "X-Organization-ID"
    host = connection.global_url or settings.SOPHOS_GLOBAL_URL
    return ConsoleTarget(
        host=host.rstrip("/"), id_header=header, id_value=connection.principal_id
    )


def console_request(
    *,
    user: AbstractBaseUser | AnonymousUser,
    tenant: Tenant | None,
    connection: Connection | None,
    method: str,
    path: str,
    query: str,
    body: str,
    operation: str = "",
    path_params: Mapping[str, str] | None = None,
) -> ConsoleResult:
    """Check and send one console request, and audit it unless it is a GET.

    A tenant API needs ``tenant`` and is sent with the tenant's connection.
    A partner or organization API is sent with ``connection``, or with the
    tenant's connection when ``connection`` is None. The arguments after
    ``connection`` are those of ``console_prepare``. Raises
    ConsoleInputError, before sending anything, for invalid input. A Sophos
    error reply, a timeout and an unreadable reply come back as the result.
    """
    prepared = console_prepare(
        method=method,
        path=path,
        query=query,
        body=body,
        operation=operation,
        path_params=path_params,
    )
    if prepared.scope == "tenant":
        connection = tenant.connection if tenant is not None else None
    elif connection is None and tenant is not None:
        connection = tenant.connection
    target = console_target(
        scope=prepared.scope,
        tenant=tenant if prepared.scope == "tenant" else None,
        connection=connection,
    )
    _check_stays_on_host(target.host, prepared.path)
    assert connection is not None  # console_target raised otherwise

    with client_for(connection) as client:
        result = _send(client, user, tenant, connection, prepared, target)
    logger.info(
        "console %s %s tenant=%s user=%s status=%s",
        prepared.method,
        prepared.path,
        target.id_value if prepared.scope == "tenant" else "-",
        user.get_username() if user.is_authenticated else "-",
        result.status if result.status is not None else "none",
    )
    return result


def body_skeleton(operation: catalog.Operation) -> str:
    """Return a JSON body with the operation's fields, for the user to fill in.

    Required fields get an empty string and optional fields null.
    """
    if operation.method == "GET":
        return ""
    fields: dict[str, Any] = {name: "" for name in operation.body_required}
    fields.update({name: None for name in operation.body_optional})
    if not fields:
        # Sophos Central rejects an empty body on POST and PUT routes.
        return "{}" if operation.method in {"POST", "PUT"} else ""
    return json.dumps(fields, indent=2)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


# Input checks


def _operation_get(name: str) -> catalog.Operation:
    try:
        return catalog.get(name)
    except catalog.UnknownOperation as exc:
        raise ConsoleInputError(str(exc), field="operation") from None


def _operation_path(operation: catalog.Operation, values: Mapping[str, str]) -> str:
    # An empty field counts as missing, so the message names the parameter.
    filled = {
        name: values[name].strip()
        for name in operation.path_params
        if values.get(name, "").strip()
    }
    try:
        return operation.build_path(**filled)
    except catalog.MissingPathParameter as exc:
        raise ConsoleInputError(
            f"Enter a value for the path parameter {exc.parameter}.",
            field="path_params",
            parameter=exc.parameter,
        ) from None
    except catalog.InvalidPathParameter as exc:
        raise ConsoleInputError(str(exc), field="path_params") from None


def _checked_method(method: str) -> str:
    upper = method.strip().upper()
    if upper not in ALLOWED_METHODS:
        raise ConsoleInputError(
            f"The method {method!r} is not supported: use one of "
            f"{', '.join(ALLOWED_METHODS)}.",
            field="method",
        )
    return upper


def _checked_path(path: str) -> str:
    """Return ``path`` if it is a plain absolute path on the API host."""
    path = path.strip()

    if not path:
        raise ConsoleInputError(
            "Enter a path such as /endpoint/v1/endpoints.", field="path"
        )

    if "://" in path or path.startswith("//"):
        raise ConsoleInputError(
            "Enter a path such as /endpoint/v1/endpoints, not a URL: the console "
            "sends only to the tenant's API host or the global API host.",
            field="path",
        )

    if not path.startswith("/"):
        raise ConsoleInputError(f"The path {path!r} must start with /.", field="path")
    if len(path) > MAX_PATH_LENGTH:
        raise ConsoleInputError(
            f"The path is longer than {MAX_PATH_LENGTH} characters.", field="path"
        )

    if "?" in path or "#" in path:
        raise ConsoleInputError(
            "Put the query parameters in the query string field, not in the path.",
            field="path",
        )

    if "{" in path or "}" in path:
        raise ConsoleInputError(
            "Replace each {placeholder} in the path with a value.", field="path"
        )

    if not _PATH_PATTERN.match(path):
        raise ConsoleInputError(
            "The path contains characters that are not allowed in a URL path "
            "(such as spaces or backslashes): percent-encode them.",
            field="path",
        )

    if "//" in path:
        raise ConsoleInputError(
            "The path contains an empty segment (//).", field="path"
        )

    segments = path.split("/")
    if "." in segments or ".." in segments or _ENCODED_SEPARATOR.search(path):
        raise ConsoleInputError(
            "The path must not contain . or .. segments or encoded dots and slashes.",
            field="path",
        )

    if _PERCENT_PATTERN.search(path):
        raise ConsoleInputError(
            "The path contains a % that is not followed by two hex digits.",
            field="path",
        )

    return path


def _check_stays_on_host(host: str, path: str) -> None:
    # The path checks already rule this out; this check guards them.
    sent = httpx.URL(host + path)
    expected = httpx.URL(host)
    if (sent.scheme, sent.host, sent.port) != (
        expected.scheme,
        expected.host,
        expected.port,
    ):
        raise ConsoleInputError(
            f"The path {path!r} would leave the API host {host}.", field="path"
        )


def _parsed_query(query: str) -> dict[str, str | list[str]]:
    text = query.strip().removeprefix("?")
    if not text:
        return {}
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=True,
            max_num_fields=MAX_QUERY_FIELDS,
        )
    except ValueError as exc:
        raise ConsoleInputError(
            f"The query string is invalid ({exc}): write name=value pairs "
            "joined by &, such as pageSize=10&view=full.",
            field="query",
        ) from None

    params: dict[str, str | list[str]] = {}
    for name, value in pairs:
        present = params.get(name)
        if present is None:
            params[name] = value
        elif isinstance(present, list):
            present.append(value)
        else:
            params[name] = [present, value]
    return params


def _check_query_names(
    operation: catalog.Operation, params: Mapping[str, object]
) -> None:
    unknown = sorted(set(params) - set(operation.query_params) - PAGING_PARAMS)
    if unknown:
        accepted = ", ".join(operation.query_params) or "none"
        raise ConsoleInputError(
            f"{operation.name} does not take the query parameter(s) "
            f"{', '.join(unknown)}; it accepts: {accepted}.",
            field="query",
        )


_NO_BODY = object()


def _parsed_body(body: str) -> Any:
    if not body.strip():
        return _NO_BODY
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ConsoleInputError(
            f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}.",
            field="body",
        ) from None
    except RecursionError:
        raise ConsoleInputError(
            "The body nests too deeply to read: flatten it.", field="body"
        ) from None


def _body_for(method: str, operation: catalog.Operation | None, parsed: Any) -> Any:
    if method == "GET":
        if parsed is not _NO_BODY:
            raise ConsoleInputError(
                "A GET request has no body: clear the body field.", field="body"
            )
        return None

    required = operation.body_required if operation else ()
    if required and not isinstance(parsed, dict):
        raise ConsoleInputError(
            f"{operation.name if operation else 'This request'} needs a JSON "
            f"object body with the field(s): {', '.join(required)}.",
            field="body",
        )
    if required:
        missing = [name for name in required if name not in parsed]
        if missing:
            raise ConsoleInputError(
                f"The body is missing the required field(s) {', '.join(missing)}.",
                field="body",
            )
    if parsed is _NO_BODY:
        # Sophos Central rejects an empty body on POST and PUT routes.
        return {} if method in {"POST", "PUT"} else None
    return parsed


# Sending


def _send(
    client: SophosClient,
    user: AbstractBaseUser | AnonymousUser,
    tenant: Tenant | None,
    connection: Connection,
    prepared: ConsoleRequest,
    target: ConsoleTarget,
) -> ConsoleResult:
    tenant_target = None
    if prepared.scope == "tenant" and tenant is not None:
        tenant_target = client.tenant_target(str(tenant.pk), target.host)

    def send() -> ApiResponse:
        return client.request(
            prepared.method,
            prepared.path,
            tenant=tenant_target,
            scope=prepared.scope,
            params=prepared.params,
            json=prepared.body,
        )

    try:
        if not prepared.writes:
            response = send()
        else:
            with audited(
                user=user,
                operation=AUDIT_OPERATION,
                tenant_id=tenant.pk if tenant_target and tenant else None,
                tenant_name=tenant.display_name if tenant_target and tenant else "",
                parameters=_audit_parameters(prepared, connection),
            ) as audit:
                response = send()
                audit.status_code = response.status
                audit.correlation_id = _correlation_id(response)
                audit.message = (
                    f"{prepared.method} {prepared.path} returned {response.status}."
                )
    except SophosError as exc:
        return _result_from_error(exc, client, prepared, target)
    except ValueError as exc:
        # The client raises ValueError when the credential cannot reach the
        # scope, for example a partner API with a tenant credential.
        return _result_from_error(SophosError(str(exc)), client, prepared, target)
    if tenant is not None and not _may_act(user, tenant):
        # A reader must not learn what lets someone change the tenant:
        # tamper protection passwords, migration tokens and the like.
        response = dataclasses.replace(response, data=scrub(response.data))
    return _result_from_response(response, client, prepared, target)


def _may_act(user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> bool:
    from portal.access import can_act_on

    return can_act_on(user, tenant)


def _audit_parameters(
    prepared: ConsoleRequest, connection: Connection
) -> dict[str, Any]:
    return {
        "method": prepared.method,
        "path": prepared.path,
        "operation": prepared.operation.name if prepared.operation else "",
        "query": prepared.params,
        "body": scrub(prepared.body),
        "scope": prepared.scope,
        "connection": connection.name,
    }


def _correlation_id(response: ApiResponse) -> str:
    # NOTE/sophos-api: Sophos puts correlationId in error bodies; a
    # successful reply may carry it in a header instead, if at all.
    lowered = {name.lower(): value for name, value in response.headers.items()}
    return (
        response.correlation_id
        or lowered.get("x-correlation-id", "")
        or lowered.get("x-request-id", "")
    )


def _shown_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    lowered = {name.lower(): value for name, value in headers.items()}
    return tuple(
        (_header_label(name), lowered[name])
        for name in SHOWN_RESPONSE_HEADERS
        if name in lowered and not _HIDDEN_HEADER.search(name)
    )


def _header_label(name: str) -> str:
    if name == "x-correlation-id":
        return "X-Correlation-ID"
    if name == "x-request-id":
        return "X-Request-ID"
    return "-".join(part.capitalize() for part in name.split("-"))


def _pretty(data: Any) -> tuple[str, bool]:
    if data is None:
        return "", False
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if len(text) > MAX_SHOWN_BODY_CHARS:
        return text[:MAX_SHOWN_BODY_CHARS], True
    return text, False


def _result_from_response(
    response: ApiResponse,
    client: SophosClient,
    prepared: ConsoleRequest,
    target: ConsoleTarget,
) -> ConsoleResult:
    body_text, truncated = _pretty(response.data)
    return ConsoleResult(
        request=prepared,
        target=target,
        status=response.status,
        headers=_shown_headers(response.headers),
        body_text=body_text,
        body_truncated=truncated,
        duration_ms=response.duration_ms,
        error="",
        message="",
        correlation_id=_correlation_id(response),
        request_id="",
        rate_limited_responses=client.rate_limited_responses,
        audited=prepared.writes,
    )


def _result_from_error(
    exc: SophosError,
    client: SophosClient,
    prepared: ConsoleRequest,
    target: ConsoleTarget,
) -> ConsoleResult:
    # A RateLimitReached raised after a 429 chains that reply as its cause.
    reply = exc if isinstance(exc, ApiError) else exc.__cause__
    body = reply.body if isinstance(reply, ApiError) else None
    body_text, truncated = _pretty(body)
    # NOTE: the client keeps no headers of an error reply, so Retry-After is
    # rebuilt from the wait it parsed, in seconds.
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(exc, RateLimited | RateLimitReached) and exc.retry_after is not None:
        headers = (("Retry-After", f"{exc.retry_after:g}"),)
    return ConsoleResult(
        request=prepared,
        target=target,
        status=exc.status,
        headers=headers,
        body_text=body_text,
        body_truncated=truncated,
        duration_ms=None,
        error=exc.error,
        message=exc.message,
        correlation_id=exc.correlation_id,
        request_id=exc.request_id,
        rate_limited_responses=client.rate_limited_responses,
        audited=prepared.writes,
    )
