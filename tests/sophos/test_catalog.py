import dataclasses
import importlib.util
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from sophos import catalog
from sophos.catalog import InvalidPathParameter, MissingPathParameter, UnknownOperation
from tests.sophos import postman

REPO_DIR = Path(__file__).resolve().parents[2]
REFERENCE_ENV = "SOPHOS_API_REFERENCE_DIR"
GENERIC_REQUEST_CATEGORY = "Generic Request"
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _reference_rows() -> list[dict[str, Any]]:
    """Return the reference catalog's route rows, skipping when it is absent."""
    directory = Path(
        os.environ.get(REFERENCE_ENV, str(REPO_DIR.parent / "shared" / "sophos-api"))
    )
    source = directory / "catalog.json"
    if not source.is_file():
        message = f"Reference catalog not found at {source}; set {REFERENCE_ENV}."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    rows = json.loads(source.read_text(encoding="utf-8"))
    return [row for row in rows if row["category"] != GENERIC_REQUEST_CATEGORY]


def _build_catalog_module() -> Any:
    path = REPO_DIR / "scripts" / "build_catalog.py"
    spec = importlib.util.spec_from_file_location("build_catalog", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sample_params(operation: catalog.Operation) -> dict[str, str]:
    return {name: f"value-{name}" for name in operation.path_params}


def test_catalog_has_165_operations():
    operations = catalog.all_operations()

    assert len(operations) == 165


def test_operation_names_are_unique():
    names = [operation.name for operation in catalog.all_operations()]

    assert len(set(names)) == len(names)


def test_operation_names_are_snake_case():
    bad = [
        operation.name
        for operation in catalog.all_operations()
        if not SNAKE_CASE.match(operation.name)
    ]

    assert bad == []


def test_routes_are_unique():
    routes = [(op.method, op.path) for op in catalog.all_operations()]

    assert len(set(routes)) == len(routes)


def test_reference_rows_map_one_to_one():
    rows = _reference_rows()
    operations = catalog.all_operations()
    problems = []

    for row in rows:
        found = [
            op
            for op in operations
            if op.method == row["method"] and op.path == row["path"]
        ]
        route = f"{row['method']} {row['path']}"
        if len(found) != 1:
            problems.append(f"{route}: {len(found)} operations")
            continue
        operation = found[0]
        for field in ("scope", "paging", "success_status"):
            if getattr(operation, field) != row[field]:
                problems.append(
                    f"{route}: {field} is {getattr(operation, field)!r}, "
                    f"reference has {row[field]!r}"
                )
        reference_params = tuple(param["name"] for param in row["query_params"])
        if operation.query_params != reference_params:
            problems.append(f"{route}: query parameters differ")
        if not row["host"].startswith(operation.host):
            problems.append(f"{route}: host is {operation.host!r}")

    assert len(rows) == 165
    assert problems == []


def test_committed_catalog_matches_generator():
    rows = _reference_rows()
    generator = _build_catalog_module()
    committed = json.loads(
        (REPO_DIR / "sophos" / "catalog.json").read_text(encoding="utf-8")
    )

    generated = generator.build_catalog(rows)

    assert generated == committed


def test_categories_cover_every_operation():
    labels = catalog.categories()

    for operation in catalog.all_operations():
        assert operation.category in labels
        assert operation.category_label == labels[operation.category]


def test_categories_are_snake_case_with_labels():
    for name, label in catalog.categories().items():
        assert SNAKE_CASE.match(name), name
        assert label.strip(), name


def test_by_category_groups_every_operation_once():
    grouped = catalog.by_category()

    flattened = [op for operations in grouped.values() for op in operations]
    assert sorted(op.name for op in flattened) == sorted(
        op.name for op in catalog.all_operations()
    )
    assert all(grouped.values())
    assert list(grouped) == list(catalog.categories())


def test_by_category_returns_fresh_lists():
    catalog.by_category()["alerts"].clear()

    assert catalog.by_category()["alerts"]


def test_path_params_come_from_path():
    operation = catalog.get("base_policy_setting_reset")

    assert operation.path_params == ("policyType", "settingKey")


def test_path_params_empty_without_placeholders():
    assert catalog.get("alerts_list").path_params == ()


def test_operation_is_frozen():
    operation = catalog.get("alerts_list")

    with pytest.raises(dataclasses.FrozenInstanceError):
        operation.name = "other"  # type: ignore[misc]


def test_paging_matches_query_params():
    for operation in catalog.all_operations():
        params = set(operation.query_params)
        if operation.paging == "key":
            assert "pageFromKey" in params, operation.name
            assert "page" not in params, operation.name
        elif operation.paging == "page":
            assert "page" in params, operation.name
            assert "pageFromKey" not in params, operation.name
        else:
            assert not params & {"page", "pageFromKey", "pageSize"}, operation.name


def test_max_page_size_only_on_paged_operations():
    for operation in catalog.all_operations():
        if operation.paging == "none":
            assert operation.max_page_size is None, operation.name
        elif operation.max_page_size is not None:
            assert operation.max_page_size > 0, operation.name


def test_known_max_page_sizes():
    assert catalog.get("alerts_list").max_page_size == 100
    assert catalog.get("endpoints_list").max_page_size == 500
    assert catalog.get("firewalls_list").max_page_size == 1000


def test_bodiless_posts_are_posts_without_fields():
    bodiless = [op for op in catalog.all_operations() if op.bodiless_post]

    assert {op.name for op in bodiless} >= {
        "endpoint_scan_start",
        "endpoint_update_check_start",
        "policy_settings_reset",
    }
    for operation in bodiless:
        assert operation.method == "POST", operation.name
        assert operation.body_required == (), operation.name
        assert operation.body_optional == (), operation.name


def test_body_fields_of_alert_action():
    operation = catalog.get("alert_action_perform")

    assert operation.body_required == ("action",)
    assert operation.body_optional == ("message",)


def test_hosts_follow_scope():
    for operation in catalog.all_operations():
        expected = "regional" if operation.scope == "tenant" else "global"
        assert operation.host == expected, operation.name


def test_every_operation_has_title_and_description():
    for operation in catalog.all_operations():
        assert operation.title.strip(), operation.name
        assert operation.description.endswith("."), operation.name


def test_repeated_actions_have_distinct_names():
    bulk = catalog.get("endpoint_group_endpoints_remove")
    single = catalog.get("endpoint_group_endpoint_remove")
    users = catalog.get("user_group_users_remove")

    assert bulk.path == "/endpoint/v1/endpoint-groups/{groupId}/endpoints"
    assert single.path == (
        "/endpoint/v1/endpoint-groups/{groupId}/endpoints/{endpointId}"
    )
    assert users.path == "/common/v1/directory/user-groups/{groupId}/users"


def test_match_round_trips_every_operation():
    failures = []

    for operation in catalog.all_operations():
        params = _sample_params(operation)
        result = catalog.match(operation.method, operation.build_path(**params))
        if result is None or result != (operation, params):
            failures.append(operation.name)

    assert failures == []


def test_match_returns_path_params():
    result = catalog.match("GET", "/endpoint/v1/endpoints/abc/isolation")

    assert result is not None
    operation, params = result
    assert operation.name == "endpoint_isolation_get"
    assert params == {"endpointId": "abc"}


def test_match_prefers_literal_segments():
    permission_sets = catalog.match("GET", "/partner/v1/roles/permission-sets")
    role = catalog.match("GET", "/partner/v1/roles/r1")

    assert permission_sets is not None
    assert permission_sets[0].name == "partner_permission_sets_list"
    assert role is not None
    assert role[0].name == "partner_role_get"


def test_match_prefers_literal_over_policy_id():
    metadata = catalog.match("GET", "/endpoint/v1/policies/settings")
    isolation = catalog.match("POST", "/endpoint/v1/endpoints/isolation")

    assert metadata is not None
    assert metadata[0].name == "policy_settings_metadata_get"
    assert isolation is not None
    assert isolation[0].name == "endpoints_isolation_update"


def test_match_is_case_insensitive_for_method():
    result = catalog.match("get", "/common/v1/alerts")

    assert result is not None
    assert result[0].name == "alerts_list"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/common/v1/alerts"),
        ("GET", "/common/v1/unknown"),
        ("GET", "/endpoint/v1/endpoints//isolation"),
        ("GET", "common/v1/alerts"),
        ("GET", "/common/v1/alerts/"),
        ("GET", ""),
    ],
)
def test_match_returns_none(method, path):
    assert catalog.match(method, path) is None


def test_get_returns_operation():
    operation = catalog.get("alerts_list")

    assert operation.method == "GET"
    assert operation.path == "/common/v1/alerts"
    assert operation.paging == "key"


def test_get_unknown_raises_with_suggestion():
    with pytest.raises(UnknownOperation) as raised:
        catalog.get("alert_lst")

    assert "alert_lst" in str(raised.value)
    assert "alerts_list" in str(raised.value)
    assert "alerts_list" in raised.value.suggestions


def test_get_unknown_is_key_error():
    with pytest.raises(KeyError):
        catalog.get("no_such_operation_at_all")


def test_build_path_fills_placeholders():
    operation = catalog.get("policy_setting_get")

    path = operation.build_path(policyId="p-1", settingKey="endpoint.malware.enabled")

    assert path == "/endpoint/v1/policies/p-1/settings/endpoint.malware.enabled"


def test_build_path_accepts_integers():
    operation = catalog.get("partner_billing_usage_list")

    assert operation.build_path(year=2024, month=5) == (
        "/partner/v1/billing/usage/2024/5"
    )


def test_build_path_percent_encodes_spaces():
    operation = catalog.get("alert_get")

    assert operation.build_path(alertId="a b") == "/common/v1/alerts/a%20b"


def test_build_path_missing_parameter():
    operation = catalog.get("partner_admin_role_assignment_get")

    with pytest.raises(MissingPathParameter) as raised:
        operation.build_path(adminId="a1")

    assert raised.value.parameter == "assignmentId"
    assert "assignmentId" in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    "value",
    ["..", "../tenants", "a/b", "a?b=1", "a#b", "a\\b", "%2e%2e", "", " "],
)
def test_build_path_rejects_unsafe_values(value):
    operation = catalog.get("endpoint_get")

    with pytest.raises(InvalidPathParameter):
        operation.build_path(endpointId=value)


def test_build_path_rejects_unknown_parameter():
    operation = catalog.get("endpoint_get")

    with pytest.raises(TypeError, match="endpointid"):
        operation.build_path(endpointid="abc")


def test_build_path_rejects_booleans():
    operation = catalog.get("endpoint_get")

    with pytest.raises(InvalidPathParameter):
        operation.build_path(endpointId=True)


def test_every_operation_has_postman_request():
    postman.require_collection()

    unmatched = [op.name for op in postman.unmatched_operations()]

    assert unmatched == []


def test_postman_success_example_for_every_operation():
    postman.require_collection()

    missing = [
        op.name
        for op in catalog.all_operations()
        if postman.example_key_paths(op.name) is None
    ]

    assert missing == []


def test_postman_query_params_match_catalog():
    postman.require_collection()
    differences = []

    for operation in catalog.all_operations():
        request = postman.find_request(operation)
        assert request is not None, operation.name
        if request.query_params != operation.query_params:
            differences.append(operation.name)

    assert differences == []


def test_postman_example_key_paths_of_alerts():
    postman.require_collection()

    paths = postman.example_key_paths("alerts_list")

    assert paths is not None
    assert "items[].managedAgent.type" in paths
    assert "pages.nextKey" in paths


def test_postman_example_key_paths_of_endpoint():
    postman.require_collection()

    paths = postman.example_key_paths("endpoint_get")

    assert paths is not None
    assert "health.overall" in paths
    assert "health.services.serviceDetails[].name" in paths


def test_postman_example_key_paths_of_bare_array():
    postman.require_collection()

    paths = postman.example_key_paths("web_categories_list")

    assert paths is not None
    assert "[].id" in paths


def test_key_paths_walks_objects_and_lists():
    document = {"items": [{"id": 1, "health": {"overall": "good"}}], "pages": {}}

    paths = postman.key_paths(document)

    assert paths == {
        "items",
        "items[].id",
        "items[].health",
        "items[].health.overall",
        "pages",
    }


def test_key_paths_of_top_level_list():
    assert postman.key_paths([{"id": 1}]) == {"[].id"}


def test_request_path_from_base_url_variable():
    url = "{{baseUrl}}/endpoint/v1/endpoints/:endpointId/isolation?x=1"

    assert postman.request_path(url) == "/endpoint/v1/endpoints/{endpointId}/isolation"


def test_request_path_from_regional_host():
    url = {
        "raw": "https://api-{{dataRegion}}.central.sophos.com/common/v1/alerts/:alertId"
    }

    assert postman.request_path(url) == "/common/v1/alerts/{alertId}"


def test_require_collection_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv(postman.COLLECTION_ENV, str(tmp_path / "missing.json"))
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception):
        postman.require_collection()


def test_require_collection_skips_outside_ci(monkeypatch, tmp_path):
    monkeypatch.setenv(postman.COLLECTION_ENV, str(tmp_path / "missing.json"))
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception):
        postman.require_collection()
