"""Transport-independent requests and responses, and the Sophos error body."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from sophos.simulator import clock


@dataclass
class SimRequest:
    """One HTTP request as received by the simulator.

    ``origin`` is ``scheme://host[:port]``; ``headers`` keys are lower case;
    ``query`` keeps every pair in order, repeated names included.
    """

    method: str
    origin: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    query: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def __post_init__(self) -> None:
        self.method = self.method.upper()
        self.headers = {k.lower(): v for k, v in self.headers.items()}

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        if value is None:
            return None
        return value.strip()

    def query_values(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]

    def query_last(self, name: str) -> str | None:
        """Return the last value of a parameter, so a repeated one does not fail."""
        values = self.query_values(name)
        return values[-1] if values else None

    def query_list(self, name: str) -> list[str]:
        """Return an array parameter: comma-separated values, repeats merged."""
        items: list[str] = []
        for value in self.query_values(name):
            items.extend(part.strip() for part in value.split(",") if part.strip())
        return items

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class SimResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def json_response(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> SimResponse:
    all_headers = {"Content-Type": "application/json"}
    all_headers.update(headers or {})
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return SimResponse(status=status, headers=all_headers, body=body)


# The ``error`` value Sophos sends for each status. 401 and 403 use the words
# quoted in Sophos's troubleshooting notes. 409 is the value of the
# collection's conflict examples; the others follow the camelCase of its 500
# example.
ERROR_CODES = {
    400: "badRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "notFound",
    405: "methodNotAllowed",
    409: "resourceConflict",
    429: "tooManyRequests",
    500: "internalServerError",
    502: "badGateway",
    503: "serviceUnavailable",
}


class ApiError(Exception):
    """An error that a handler raises to respond with the Sophos error body."""

    def __init__(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    def response(self) -> SimResponse:
        return error_response(self.status, self.message, self.headers)


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> SimResponse:
    """Build ``{error, message, correlationId, requestId, createdAt}``.

    Every error carries fresh ids, as Sophos's do.
    """
    payload = {
        "error": ERROR_CODES.get(status, "error"),
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
        "createdAt": clock.now_iso(),
    }
    return json_response(status, payload, headers)
