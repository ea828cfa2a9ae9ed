"""The simulator answers each operation with every key of Sophos's own example.

For each catalog operation, the keys of the official Postman collection's
example success response must all appear in the simulator's response to the
same operation (extra keys are fine). Key paths join keys with "." and mark
list items with "[]", as ``postman.key_paths`` builds them. The inputs come
from ``operation_inputs``, the same as for the coverage test.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import postman
import pytest
from operation_inputs import Fleet, OperationInput, build, open_fleet

from sophos import catalog

OPERATIONS = catalog.all_operations()


@dataclass(frozen=True)
class KnownGap:
    """Example keys the simulator leaves out on purpose, and why.

    A key path is excused when it contains one of ``fragments``.
    """

    operations: tuple[str, ...]
    fragments: tuple[str, ...]
    reason: str


_POLICY_OPERATIONS = (
    "policies_list",
    "policy_create",
    "policy_get",
    "policy_update",
    "policy_clone",
    "policy_settings_get",
    "policy_settings_update",
    "policy_settings_reset",
    "base_policy_get",
    "base_policy_update",
    "base_policy_clone",
    "base_policy_settings_get",
    "base_policy_settings_update",
    "base_policy_settings_reset",
)
KNOWN_GAPS = (
    KnownGap(
        ("tenant_create", "tenant_get"),
        ("organization",),
        "A partner's tenant names its partner; the example shows both owners.",
    ),
    KnownGap(
        (
            "allowed_item_create",
            "allowed_item_get",
            "allowed_item_update",
            "blocked_item_create",
            "blocked_item_get",
        ),
        ("properties.certificateSigner",),
        "The example merges the properties of every item type into one item.",
    ),
    KnownGap(
        ("blocked_item_create", "blocked_item_get"),
        ("originPerson", "originEndpoint"),
        "A blocked item create takes no origin; the example copies the allowed one.",
    ),
    KnownGap(
        _POLICY_OPERATIONS,
        ("endpoint.disk-encryption.",),
        "The example puts a device encryption setting in a threat protection policy.",
    ),
    KnownGap(
        ("base_policy_get", "base_policy_update", "base_policy_clone"),
        ("disableAt",),
        "A base policy is never disabled, so neither it nor its clone has disableAt.",
    ),
    KnownGap(
        ("policy_settings_metadata_get",),
        ("schemas.key",),
        "The example's schema map has one entry whose name is the placeholder 'key'.",
    ),
)


def excused(operation: str, path: str) -> bool:
    return any(
        operation in gap.operations and any(part in path for part in gap.fragments)
        for gap in KNOWN_GAPS
    )


@pytest.fixture
def fleet(db) -> Iterator[Fleet]:
    postman.require_collection()
    with open_fleet() as opened:
        yield opened


def response_paths(fleet: Fleet, name: str, request: OperationInput) -> set[str]:
    """Send the operation and return the key paths of its responses.

    A listing is read with ``pageTotal`` so that ``pages.total`` is there,
    and a key-paged one also from its second page of one item, which has
    ``pages.fromKey`` and ``pages.nextKey``.
    """
    operation = catalog.get(name)
    params = dict(request.params)
    if operation.paging != "none":
        params["pageTotal"] = True
    response = fleet.call(
        name,
        tenant=request.tenant,
        path_params=request.path_params,
        params=params,
        json=request.json,
    )
    assert response.status == operation.success_status
    paths = postman.key_paths(response.data)
    if operation.paging == "key":
        paths |= postman.key_paths(_second_page(fleet, name, request, params))
    return paths


def _second_page(
    fleet: Fleet, name: str, request: OperationInput, params: dict[str, Any]
) -> Any:
    first = fleet.call(
        name,
        tenant=request.tenant,
        path_params=request.path_params,
        params={**params, "pageSize": 1},
    ).data
    next_key = first["pages"].get("nextKey")
    assert next_key, f"{name} needs three items to show a middle page"
    return fleet.call(
        name,
        tenant=request.tenant,
        path_params=request.path_params,
        params={**params, "pageSize": 1, "pageFromKey": next_key},
    ).data


def test_every_operation_has_a_collection_request():
    postman.require_collection()

    assert [op.name for op in postman.unmatched_operations()] == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_response_has_example_keys(fleet, operation):
    expected = postman.example_key_paths(operation.name)
    request = build(operation.name, fleet)

    actual = response_paths(fleet, operation.name, request)

    if expected is None:
        # The collection has no JSON example for this operation's success.
        return
    missing = sorted(
        path for path in expected - actual if not excused(operation.name, path)
    )
    assert missing == []


@pytest.mark.parametrize(
    "operation",
    sorted({name for gap in KNOWN_GAPS for name in gap.operations}),
)
def test_known_gaps_are_still_gaps(fleet, operation):
    """Each excused key is in the example and missing from the simulator."""
    expected = postman.example_key_paths(operation) or set()
    request = build(operation, fleet)

    actual = response_paths(fleet, operation, request)

    fragments = [
        part
        for gap in KNOWN_GAPS
        if operation in gap.operations
        for part in gap.fragments
    ]
    for part in fragments:
        in_example = [path for path in expected if part in path]
        assert in_example, f"{part!r} is not in the example of {operation}"
        assert not [path for path in actual if part in path], (
            f"the simulator now sends {part!r} for {operation}: drop the gap"
        )
