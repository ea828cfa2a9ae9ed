"""Every catalog operation, called by name through the client, against the simulator.

Each operation gets its inputs from ``operation_inputs.INPUTS`` and must
return its documented success status. Every write has a check in
``CHECKS`` that reads the change back through another operation; many
reads have one too, comparing the answer with the seeded data.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from operation_inputs import (
    SHA256_ALLOWED,
    Fleet,
    OperationInput,
    build,
    missing_inputs,
    open_fleet,
    unknown_inputs,
)

from sophos import catalog, errors
from sophos.client import ApiResponse
from sophos.simulator.api.admins import PARTNER, TENANT
from sophos.simulator.api.directory import USER_GROUP_KIND, USER_KIND
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.exploit_mitigation import DETECTED_EXPLOIT_KIND
from sophos.simulator.api.firewalls import FIREWALL_GROUP_KIND, FIREWALL_KIND
from sophos.simulator.api.groups import GROUP_KIND
from sophos.simulator.api.policies import POLICY_TYPES
from sophos.simulator.api.reference import SPECIAL_PACKAGES, STATIC_PACKAGES
from sophos.simulator.models import SimTenant
from sophos.simulator.seed_configuration import PERIPHERAL_KIND

OPERATIONS = catalog.all_operations()
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

Check = Callable[[Fleet, OperationInput, ApiResponse], None]
CHECKS: dict[str, Check] = {}


def check(*names: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        for name in names:
            assert name not in CHECKS, f"{name} has two checks"
            CHECKS[name] = function
        return function

    return register


@pytest.fixture
def fleet(db) -> Iterator[Fleet]:
    with open_fleet() as opened:
        yield opened


def test_every_operation_has_inputs():
    assert missing_inputs() == []
    assert unknown_inputs() == []


def test_every_write_has_a_check():
    writes = [op.name for op in OPERATIONS if op.method in WRITE_METHODS]

    assert [name for name in writes if name not in CHECKS] == []
    assert sorted(set(CHECKS) - {op.name for op in OPERATIONS}) == []


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.name)
def test_operation_succeeds(fleet, operation):
    request = build(operation.name, fleet)

    response = fleet.send(operation.name, request)

    assert response.status == operation.success_status
    if operation.method in WRITE_METHODS:
        assert operation.name in CHECKS, f"{operation.name} needs a read-back check"
    if operation.name in CHECKS:
        CHECKS[operation.name](fleet, request, response)


# -- helpers ------------------------------------------------------------------


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [str(item["id"]) for item in items]


def stored_ids(fleet: Fleet, kind: str, **kwargs: Any) -> list[str]:
    return ids(fleet.stored(kind, **kwargs))


def absent(fleet: Fleet, name: str, **kwargs: Any) -> None:
    """Assert that reading the object raises NotFound (404)."""
    with pytest.raises(errors.NotFound):
        fleet.call(name, **kwargs)


def read(fleet: Fleet, name: str, **kwargs: Any) -> Any:
    return fleet.call(name, **kwargs).data


def created_id(response: ApiResponse) -> str:
    return str(response.data["id"])


def _created_and_listed(get: str, id_param: str, list_name: str) -> Check:
    def verify(fleet, request, response):
        object_id = created_id(response)

        detail = read(fleet, get, path_params={id_param: object_id})

        assert detail == response.data
        assert object_id in ids(fleet.items(list_name))

    return verify


def _updated(get: str) -> Check:
    def verify(fleet, request, response):
        detail = read(fleet, get, path_params=request.path_params)

        for field, value in request.json.items():
            assert detail[field] == value

    return verify


def _deleted(get: str, list_name: str) -> Check:
    def verify(fleet, request, response):
        assert response.data == {"deleted": True}
        absent(fleet, get, path_params=request.path_params)
        object_id = next(iter(request.path_params.values()))
        assert object_id not in ids(fleet.items(list_name))

    return verify


def _read_matches_store(kind: str, id_param: str) -> Check:
    def verify(fleet, request, response):
        stored = fleet.first(kind, id=request.path_params[id_param])

        assert response.data == stored

    return verify


def _list_matches_store(kind: str) -> Check:
    """Check that a list's first page is the stored collection, in order."""

    def verify(fleet, request, response):
        stored = stored_ids(fleet, kind)
        items = response.data["items"]

        assert items
        assert ids(items) == stored[: len(items)]
        if "pages" in response.data:
            assert response.data["pages"]["items"] == len(stored)

    return verify


# -- partner ------------------------------------------------------------------


@check("tenants_list")
def _tenants_list(fleet, request, response):
    tenants = SimTenant.objects.filter(partner_id=fleet.partner_id).order_by("seq")

    assert ids(response.data["items"]) == [tenant.id for tenant in tenants]
    assert response.data["pages"]["total"] == 1


@check("tenant_create")
def _tenant_create(fleet, request, response):
    tenant_id = created_id(response)

    detail = read(fleet, "tenant_get", path_params={"tenantId": tenant_id})
    listed = fleet.items("tenants_list")

    assert detail["name"] == request.json["name"]
    assert detail["dataRegion"] == "eu02"
    assert detail["apiHost"] == "https://api-eu02.central.sophos.com"
    assert detail["partner"] == {"id": fleet.partner_id}
    assert tenant_id in ids(listed)


@check("tenant_get")
def _tenant_get(fleet, request, response):
    tenant = SimTenant.objects.get(id=fleet.tenant.id)

    assert response.data["name"] == tenant.data["name"]
    assert response.data["apiHost"] == fleet.tenant.api_host


CHECKS["partner_admins_list"] = _list_matches_store(PARTNER.admin_kind)


@check("partner_admin_create")
def _partner_admin_create(fleet, request, response):
    admin_id = created_id(response)

    detail = read(fleet, "partner_admin_get", path_params={"adminId": admin_id})

    assert detail["username"] == request.json["username"]
    assert detail["profile"]["name"] == "Sam Okafor"
    assert (
        detail["roleAssignments"][0]["roleId"]
        == (request.json["roleAssignments"][0]["roleId"])
    )
    assert admin_id in ids(fleet.items("partner_admins_list"))


@check("partner_admin_get")
def _partner_admin_get(fleet, request, response):
    stored = fleet.first(PARTNER.admin_kind, id=request.path_params["adminId"])

    assert response.data == stored


@check("partner_admin_role_assignments_list")
def _partner_assignments_list(fleet, request, response):
    assert response.data["items"] == request.context["admin"]["roleAssignments"]


@check("partner_admin_role_assignment_create")
def _partner_assignment_create(fleet, request, response):
    admin_id = request.path_params["adminId"]
    assignment_id = created_id(response)

    detail = read(
        fleet,
        "partner_admin_role_assignment_get",
        path_params={"adminId": admin_id, "assignmentId": assignment_id},
    )
    admin = read(fleet, "partner_admin_get", path_params={"adminId": admin_id})

    assert detail["scope"] == {"type": "tenant", "id": fleet.tenant.id}
    assert assignment_id in ids(admin["roleAssignments"])


@check("partner_admin_role_assignment_get", "tenant_admin_role_assignment_get")
def _assignment_get(fleet, request, response):
    assert response.data == request.context["assignment"]


@check("partner_admin_role_assignment_delete")
def _partner_assignment_delete(fleet, request, response):
    assert response.data == {"deleted": True}
    absent(fleet, "partner_admin_role_assignment_get", path_params=request.path_params)
    listed = read(
        fleet,
        "partner_admin_role_assignments_list",
        path_params={"adminId": request.path_params["adminId"]},
    )
    assert request.path_params["assignmentId"] not in ids(listed["items"])


@check("partner_roles_list", "tenant_roles_list")
def _roles_list(fleet, request, response):
    names = [item["name"] for item in response.data["items"]]

    assert {"Super Admin", "Admin", "Help Desk", "Read-only"} <= set(names)


def _role_created(get: str, list_name: str) -> Check:
    def verify(fleet, request, response):
        role_id = created_id(response)

        detail = read(fleet, get, path_params={"roleId": role_id})
        listed = read(fleet, list_name)

        assert detail["type"] == "custom"
        assert detail["permissionSets"] == request.json["permissionSets"]
        assert role_id in ids(listed["items"])

    return verify


CHECKS["partner_role_create"] = _role_created("partner_role_get", "partner_roles_list")
CHECKS["tenant_role_create"] = _role_created("tenant_role_get", "tenant_roles_list")


@check("partner_role_get", "tenant_role_get")
def _role_get(fleet, request, response):
    assert response.data["id"] == request.path_params["roleId"]
    assert response.data["type"] == "custom"
    assert response.data["permissionSets"] == ["central_helpdesk"]


def _role_deleted(get: str, list_name: str) -> Check:
    def verify(fleet, request, response):
        assert response.data == {"deleted": True}
        absent(fleet, get, path_params=request.path_params)
        listed = read(fleet, list_name)
        assert request.path_params["roleId"] not in ids(listed["items"])

    return verify


CHECKS["partner_role_delete"] = _role_deleted("partner_role_get", "partner_roles_list")
CHECKS["tenant_role_delete"] = _role_deleted("tenant_role_get", "tenant_roles_list")


def _role_updated(get: str) -> Check:
    def verify(fleet, request, response):
        detail = read(fleet, get, path_params=request.path_params)

        for field, value in request.json.items():
            assert detail[field] == value

    return verify


CHECKS["partner_role_update"] = _role_updated("partner_role_get")
CHECKS["tenant_role_update"] = _role_updated("tenant_role_get")


@check("partner_permission_sets_list", "tenant_permission_sets_list")
def _permission_sets(fleet, request, response):
    assert "central_admin" in ids(response.data["items"])


@check("partner_billing_usage_list")
def _billing(fleet, request, response):
    tenant_ids = set(
        SimTenant.objects.filter(partner_id=fleet.partner_id).values_list(
            "id", flat=True
        )
    )
    month = f"{request.path_params['year']}-{request.path_params['month']:02d}"

    for row in response.data["items"]:
        assert row["accountId"] in tenant_ids
        assert row["billingStartDate"].startswith(month)


# -- alerts -------------------------------------------------------------------


CHECKS["alerts_list"] = _list_matches_store("common/v1/alerts")


@check("alert_get")
def _alert_get(fleet, request, response):
    assert response.data == fleet.alert()


@check("alert_action_perform")
def _alert_action(fleet, request, response):
    alert_id = request.path_params["alertId"]

    assert response.data["alertId"] == alert_id
    assert response.data["action"] == "acknowledge"
    assert response.data["status"] == "completed"
    absent(fleet, "alert_get", path_params={"alertId": alert_id})
    assert alert_id not in ids(fleet.items("alerts_list"))


# -- endpoints ----------------------------------------------------------------


CHECKS["endpoints_list"] = _list_matches_store(ENDPOINT_KIND)


@check("endpoint_get")
def _endpoint_get(fleet, request, response):
    stored = fleet.first(ENDPOINT_KIND, id=request.path_params["endpointId"])

    assert response.data["hostname"] == stored["hostname"]
    assert response.data["health"] == stored["health"]


@check("endpoint_delete")
def _endpoint_delete(fleet, request, response):
    endpoint_id = request.path_params["endpointId"]

    assert response.data == {"deleted": True}
    absent(fleet, "endpoint_get", path_params={"endpointId": endpoint_id})
    assert endpoint_id not in ids(fleet.items("endpoints_list"))


def _assert_isolated(fleet: Fleet, endpoint_id: str, comment: str) -> None:
    isolation = read(
        fleet, "endpoint_isolation_get", path_params={"endpointId": endpoint_id}
    )
    endpoint = read(fleet, "endpoint_get", path_params={"endpointId": endpoint_id})

    assert isolation["enabled"] is True
    assert isolation["comment"] == comment
    assert isolation["lastEnabledBy"]["id"] == fleet.client.client_id
    assert endpoint["isolation"]["status"] == "isolated"


@check("endpoints_isolation_update")
def _isolate_many(fleet, request, response):
    isolated = fleet.items("endpoints_list", params={"isolationStatus": "isolated"})

    for endpoint_id in request.context["ids"]:
        _assert_isolated(fleet, endpoint_id, request.json["comment"])
        assert endpoint_id in ids(isolated)


@check("endpoint_isolation_update")
def _isolate_one(fleet, request, response):
    _assert_isolated(fleet, request.path_params["endpointId"], request.json["comment"])


@check("endpoint_isolation_get")
def _isolation_get(fleet, request, response):
    stored = fleet.first(ENDPOINT_KIND, id=request.path_params["endpointId"])

    assert response.data["enabled"] is (stored["isolation"]["status"] == "isolated")


def _action_requested(fleet, request, response):
    # NOTE: Sophos Central has no read of scans or update checks, so only
    # the recorded request can be checked.
    assert response.data["status"] == "requested"
    assert response.data["id"]
    assert response.data["requestedAt"]


CHECKS["endpoint_scan_start"] = _action_requested
CHECKS["endpoint_update_check_start"] = _action_requested


@check("endpoint_tamper_protection_get")
def _tamper_get(fleet, request, response):
    stored = fleet.first(ENDPOINT_KIND, id=request.path_params["endpointId"])

    assert response.data["enabled"] is stored["tamperProtectionEnabled"]
    assert response.data["password"]


@check("endpoint_tamper_protection_update")
def _tamper_update(fleet, request, response):
    endpoint_id = request.path_params["endpointId"]

    settings = read(
        fleet, "endpoint_tamper_protection_get", path_params={"endpointId": endpoint_id}
    )
    unprotected = fleet.items(
        "endpoints_list", params={"tamperProtectionEnabled": False}
    )

    assert settings["enabled"] is False
    assert settings["password"] == response.data["password"]
    assert len(settings["previousPasswords"]) == 1
    assert settings["previousPasswords"][0]["invalidatedAt"]
    assert endpoint_id in ids(unprotected)


@check("global_tamper_protection_get")
def _global_tamper(fleet, request, response):
    assert response.data == {"enabled": True}


# -- endpoint groups ----------------------------------------------------------


CHECKS["endpoint_groups_list"] = _list_matches_store(GROUP_KIND)


@check("endpoint_groups_by_type_list")
def _groups_by_type(fleet, request, response):
    assert response.data["items"]
    assert {item["type"] for item in response.data["items"]} == {"server"}


@check("endpoint_group_create")
def _group_create(fleet, request, response):
    group_id = created_id(response)
    endpoint_id = request.context["endpointId"]

    detail = read(fleet, "endpoint_group_get", path_params={"groupId": group_id})
    endpoint = read(fleet, "endpoint_get", path_params={"endpointId": endpoint_id})

    assert detail["name"] == "Front desk"
    assert ids(detail["endpoints"]["items"]) == [endpoint_id]
    assert endpoint["group"] == {"id": group_id, "name": "Front desk"}
    assert group_id in ids(fleet.items("endpoint_groups_list"))


@check("endpoint_group_get")
def _group_get(fleet, request, response):
    assert ids(response.data["endpoints"]["items"]) == request.context["members"]


@check("endpoint_group_endpoints_list")
def _group_members(fleet, request, response):
    assert ids(response.data["items"]) == request.context["members"]


@check("endpoint_group_delete")
def _group_delete(fleet, request, response):
    member = request.context["members"][0]

    assert response.data == {"deleted": True}
    absent(fleet, "endpoint_group_get", path_params=request.path_params)
    endpoint = read(fleet, "endpoint_get", path_params={"endpointId": member})
    assert "group" not in endpoint


@check("endpoint_group_update")
def _group_update(fleet, request, response):
    member = request.context["members"][0]

    detail = read(fleet, "endpoint_group_get", path_params=request.path_params)
    endpoint = read(fleet, "endpoint_get", path_params={"endpointId": member})

    assert detail["name"] == "Head office PCs"
    assert detail["description"] == "Renamed"
    assert endpoint["group"]["name"] == "Head office PCs"


def _members_of(fleet: Fleet, group_id: str) -> list[str]:
    return ids(
        fleet.items("endpoint_group_endpoints_list", path_params={"groupId": group_id})
    )


@check("endpoint_group_endpoints_add")
def _group_add(fleet, request, response):
    added = request.json["ids"]

    assert ids(response.data["addedEndpoints"]) == added
    assert set(added) <= set(_members_of(fleet, request.path_params["groupId"]))


@check("endpoint_group_endpoints_remove")
def _group_remove(fleet, request, response):
    removed = request.params["ids"]

    assert ids(response.data["removedEndpoints"]) == removed
    assert not set(removed) & set(_members_of(fleet, request.path_params["groupId"]))


@check("endpoint_group_endpoint_remove")
def _group_remove_one(fleet, request, response):
    members = _members_of(fleet, request.path_params["groupId"])

    assert response.data == {"removed": True}
    assert request.path_params["endpointId"] not in members


# -- policies -----------------------------------------------------------------


def _setting(fleet: Fleet, policy_id: str, key: str) -> Any:
    return read(
        fleet,
        "policy_setting_get",
        path_params={"policyId": policy_id, "settingKey": key},
    )["value"]


def _base_setting(fleet: Fleet, key: str) -> Any:
    return read(
        fleet,
        "base_policy_setting_get",
        path_params={"policyType": "threat-protection", "settingKey": key},
    )["value"]


MALWARE = "endpoint.malware.enabled"
SCHEDULE = "endpoint.scans.scheduled.enabled"


@check("policies_list")
def _policies_list(fleet, request, response):
    base_types = {
        item["type"] for item in response.data["items"] if item["priority"] == 0
    }

    assert base_types == set(POLICY_TYPES)


@check("policy_settings_metadata_get")
def _settings_metadata(fleet, request, response):
    types = {item["policyType"] for item in response.data["items"]}

    assert types == set(POLICY_TYPES)


@check("policy_create")
def _policy_create(fleet, request, response):
    policy_id = created_id(response)

    detail = read(fleet, "policy_get", path_params={"policyId": policy_id})

    assert detail["name"] == "Finance lockdown"
    assert detail["appliesTo"] == request.json["appliesTo"]
    assert detail["disableAt"] == request.json["disableAt"]
    assert _setting(fleet, policy_id, SCHEDULE) is True
    assert _setting(fleet, policy_id, MALWARE) is True
    assert policy_id in ids(fleet.items("policies_list"))


@check("policy_get")
def _policy_get(fleet, request, response):
    assert response.data == request.context["policy"]


@check("policy_update")
def _policy_update(fleet, request, response):
    detail = read(fleet, "policy_get", path_params=request.path_params)

    assert detail["name"] == "Strict (finance)"
    assert detail["enabled"] is False
    assert detail["appliesTo"] == request.json["appliesTo"]


@check("policy_delete")
def _policy_delete(fleet, request, response):
    assert response.data == {"deleted": True}
    absent(fleet, "policy_get", path_params=request.path_params)


@check("policy_settings_get")
def _policy_settings_get(fleet, request, response):
    assert response.data[MALWARE]["value"] is False


@check("policy_settings_update")
def _policy_settings_update(fleet, request, response):
    assert _setting(fleet, request.path_params["policyId"], SCHEDULE) is True


@check("policy_settings_reset")
def _policy_settings_reset(fleet, request, response):
    assert _setting(fleet, request.path_params["policyId"], MALWARE) is True


@check("policy_setting_get")
def _policy_setting_get(fleet, request, response):
    assert response.data == {"value": False, "recommendedValue": True}


@check("policy_setting_reset")
def _policy_setting_reset(fleet, request, response):
    assert _setting(fleet, request.path_params["policyId"], MALWARE) is True


@check("policy_clone")
def _policy_clone(fleet, request, response):
    source = request.context["policy"]
    clone_id = created_id(response)

    clone = read(fleet, "policy_get", path_params={"policyId": clone_id})

    assert clone_id != source["id"]
    assert clone["name"] == "Strict (copy)"
    assert clone["settings"] == source["settings"]
    assert clone["type"] == source["type"]
    assert {clone_id, source["id"]} <= set(ids(fleet.items("policies_list")))


@check("base_policy_get")
def _base_get(fleet, request, response):
    assert response.data["priority"] == 0
    assert response.data["settings"][MALWARE]["value"] is False


@check("base_policy_settings_get")
def _base_settings_get(fleet, request, response):
    assert response.data[MALWARE]["value"] is False


@check("base_policy_setting_get")
def _base_setting_get(fleet, request, response):
    assert response.data["value"] is False


@check("base_policy_update", "base_policy_settings_update")
def _base_update(fleet, request, response):
    assert _base_setting(fleet, SCHEDULE) is True


@check("base_policy_settings_reset", "base_policy_setting_reset")
def _base_reset(fleet, request, response):
    assert _base_setting(fleet, MALWARE) is True


@check("base_policy_setting_update")
def _base_setting_update(fleet, request, response):
    base = read(
        fleet, "base_policy_get", path_params={"policyType": "threat-protection"}
    )

    assert base["settings"][MALWARE]["value"] is False


@check("base_policy_clone")
def _base_clone(fleet, request, response):
    base = read(fleet, "base_policy_get", path_params=request.path_params)

    clone = read(fleet, "policy_get", path_params={"policyId": created_id(response)})

    assert clone["name"] == "Base copy"
    assert clone["priority"] > 0
    assert clone["settings"] == base["settings"]


# -- allowed and blocked items, exclusions, local sites -----------------------


COLLECTIONS = (
    ("allowed_item", "allowedItemId", "endpoint/v1/settings/allowed-items"),
    ("blocked_item", "blockedItemId", "endpoint/v1/settings/blocked-items"),
    (
        "scanning_exclusion",
        "exclusionId",
        "endpoint/v1/settings/exclusions/scanning",
    ),
    (
        "isolation_exclusion",
        "exclusionId",
        "endpoint/v1/settings/exclusions/isolation",
    ),
    (
        "intrusion_prevention_exclusion",
        "exclusionId",
        "endpoint/v1/settings/exclusions/intrusion-prevention",
    ),
    (
        "exploit_mitigation_application",
        "exploitMitigationApplicationId",
        "endpoint/v1/settings/exploit-mitigation/applications",
    ),
    ("local_site", "localSiteId", "endpoint/v1/settings/web-control/local-sites"),
)
_NAMES = {op.name for op in OPERATIONS}
for _noun, _param, _kind in COLLECTIONS:
    _list = f"{_noun}s_list"
    CHECKS[f"{_noun}_create"] = _created_and_listed(f"{_noun}_get", _param, _list)
    CHECKS[f"{_noun}_get"] = _read_matches_store(_kind, _param)
    CHECKS[f"{_noun}_delete"] = _deleted(f"{_noun}_get", _list)
    CHECKS[_list] = _list_matches_store(_kind)
    if f"{_noun}_update" in _NAMES:
        CHECKS[f"{_noun}_update"] = _updated(f"{_noun}_get")

_allowed_listed = CHECKS["allowed_item_create"]


def _allowed_create(fleet, request, response):
    _allowed_listed(fleet, request, response)
    person = request.context["person"]

    assert response.data["properties"]["sha256"] == SHA256_ALLOWED
    assert response.data["originPerson"] == {"id": person["id"], "name": person["name"]}
    assert response.data["originEndpoint"]["id"] == request.json["originEndpointId"]
    assert response.data["createdBy"]["id"] == fleet.client.client_id


CHECKS["allowed_item_create"] = _allowed_create


def _application_update(fleet, request, response):
    detail = read(
        fleet, "exploit_mitigation_application_get", path_params=request.path_params
    )
    settings = detail["modifications"]["settings"]

    assert settings["HeapSpray"] is False
    assert settings["StackPivot"] is True
    assert detail["modifications"]["protected"] is True


CHECKS["exploit_mitigation_application_update"] = _application_update


@check("detected_exploits_list")
def _exploits_list(fleet, request, response):
    assert response.data["items"]
    assert ids(response.data["items"]) == stored_ids(fleet, DETECTED_EXPLOIT_KIND)


CHECKS["detected_exploit_get"] = _read_matches_store(
    DETECTED_EXPLOIT_KIND, "detectedExploitId"
)


@check("exploit_mitigation_categories_list")
def _exploit_categories(fleet, request, response):
    assert "browsers" in ids(response.data["items"])


@check("web_categories_list")
def _web_categories(fleet, request, response):
    assert isinstance(response.data, list)
    assert response.data[0]["id"] == 1


# -- web control, peripherals, event journal ----------------------------------


@check("tls_decryption_settings_get")
def _tls_get(fleet, request, response):
    assert response.data["excludedWebsites"]["total"] == 0
    assert response.data["categories"]


@check("tls_decryption_settings_update")
def _tls_update(fleet, request, response):
    settings = read(fleet, "tls_decryption_settings_get")

    by_id = {item["id"]: item for item in settings["categories"]}
    assert by_id[5]["decryptionEnabled"] is False
    assert by_id[6]["decryptionEnabled"] is True


def _excluded_values(fleet: Fleet) -> list[str]:
    items = fleet.items("tls_excluded_websites_list")
    return [item["value"] for item in items]


@check("tls_excluded_websites_list")
def _excluded_list(fleet, request, response):
    assert [item["value"] for item in response.data["items"]] == ["bank.example"]


@check("tls_excluded_websites_update")
def _excluded_update(fleet, request, response):
    settings = read(fleet, "tls_decryption_settings_get")

    assert [item["value"] for item in response.data["added"]] == ["health.example"]
    assert [item["value"] for item in response.data["removed"]] == ["old.example"]
    assert _excluded_values(fleet) == ["health.example"]
    assert settings["excludedWebsites"]["total"] == 1


@check("tls_excluded_websites_clear")
def _excluded_clear(fleet, request, response):
    settings = read(fleet, "tls_decryption_settings_get")

    assert response.data == {"deleted": True}
    assert _excluded_values(fleet) == []
    assert settings["excludedWebsites"]["total"] == 0


CHECKS["peripherals_list"] = _list_matches_store(PERIPHERAL_KIND)
CHECKS["peripheral_get"] = _read_matches_store(PERIPHERAL_KIND, "peripheralId")


@check("event_journal_settings_get")
def _event_journal_get(fleet, request, response):
    limit = response.data["diskSpaceLimitInMB"]

    assert response.data["useRecommended"] is True
    assert limit["value"] == limit["recommendedValue"]


@check("event_journal_settings_update")
def _event_journal_update(fleet, request, response):
    settings = read(
        fleet, "event_journal_settings_get", path_params=request.path_params
    )
    other = read(
        fleet, "event_journal_settings_get", path_params={"endpointType": "server"}
    )

    assert settings["useRecommended"] is False
    assert settings["diskSpaceLimitInMB"]["value"] == 15000
    assert settings["diskSpaceLimitAsPercentage"]["value"] == 20
    assert other["useRecommended"] is True


# -- directory ----------------------------------------------------------------


def _group_users(fleet: Fleet, group_id: str) -> list[str]:
    return ids(fleet.items("user_group_users_list", path_params={"groupId": group_id}))


def _user_groups(fleet: Fleet, user_id: str) -> list[str]:
    return ids(fleet.items("user_memberships_list", path_params={"userId": user_id}))


CHECKS["users_list"] = _list_matches_store(USER_KIND)
CHECKS["user_groups_list"] = _list_matches_store(USER_GROUP_KIND)


@check("user_create")
def _user_create(fleet, request, response):
    user_id = created_id(response)
    group_id = request.context["groupId"]

    detail = read(fleet, "user_get", path_params={"userId": user_id})

    assert detail["email"] == "jordan.blake@example.com"
    assert detail["domain"] == "example.com"
    assert detail["source"] == {"type": "custom"}
    assert ids(detail["groups"]["items"]) == [group_id]
    assert user_id in _group_users(fleet, group_id)


@check("user_get")
def _user_get(fleet, request, response):
    stored = fleet.first(USER_KIND, id=request.path_params["userId"])

    assert response.data["name"] == stored["name"]
    assert ids(response.data["groups"]["items"]) == request.context["groups"]


@check("user_update")
def _user_update(fleet, request, response):
    detail = read(fleet, "user_get", path_params=request.path_params)

    assert detail["email"] == "robin.vale@harbor.example"
    assert detail["domain"] == "harbor.example"
    assert detail["lastName"] == "Vale-Ortiz"


@check("user_delete")
def _user_delete(fleet, request, response):
    user_id = request.path_params["userId"]

    assert response.data == {"deleted": True}
    absent(fleet, "user_get", path_params=request.path_params)
    assert user_id not in _group_users(fleet, request.context["groupId"])


@check("user_group_create")
def _user_group_create(fleet, request, response):
    group_id = created_id(response)

    detail = read(fleet, "user_group_get", path_params={"groupId": group_id})

    assert detail["name"] == "Sophos admins"
    assert ids(detail["users"]["items"]) == request.context["users"]
    for user_id in request.context["users"]:
        assert group_id in _user_groups(fleet, user_id)


@check("user_group_get")
def _user_group_get(fleet, request, response):
    assert ids(response.data["users"]["items"]) == request.context["members"]


@check("user_group_users_list")
def _user_group_users(fleet, request, response):
    assert set(ids(response.data["items"])) == set(request.context["members"])


@check("user_memberships_list")
def _user_memberships(fleet, request, response):
    assert set(ids(response.data["items"])) == set(request.context["groups"])


@check("user_group_update")
def _user_group_update(fleet, request, response):
    detail = read(fleet, "user_group_get", path_params=request.path_params)

    assert detail["name"] == request.json["name"]
    assert detail["description"] == "Renamed"


@check("user_group_delete")
def _user_group_delete(fleet, request, response):
    assert response.data == {"deleted": True}
    absent(fleet, "user_group_get", path_params=request.path_params)


@check("user_memberships_add")
def _memberships_add(fleet, request, response):
    user_id = request.path_params["userId"]

    assert ids(response.data["addedToGroups"]) == request.json["ids"]
    assert set(request.json["ids"]) <= set(_user_groups(fleet, user_id))
    assert user_id in _group_users(fleet, request.json["ids"][0])


@check("user_memberships_remove")
def _memberships_remove(fleet, request, response):
    user_id = request.path_params["userId"]
    group_id = request.params["ids"][0]

    assert ids(response.data["removedFromGroups"]) == [group_id]
    assert group_id not in _user_groups(fleet, user_id)
    assert user_id not in _group_users(fleet, group_id)


@check("user_group_users_add")
def _group_users_add(fleet, request, response):
    group_id = request.path_params["groupId"]

    assert ids(response.data["addedUsers"]) == request.json["ids"]
    assert set(request.json["ids"]) <= set(_group_users(fleet, group_id))


@check("user_group_users_remove")
def _group_users_remove(fleet, request, response):
    group_id = request.path_params["groupId"]
    user_id = request.params["ids"][0]

    assert ids(response.data["removedUsers"]) == [user_id]
    assert user_id not in _group_users(fleet, group_id)
    assert group_id not in _user_groups(fleet, user_id)


# -- tenant admins ------------------------------------------------------------


CHECKS["tenant_admins_list"] = _list_matches_store(TENANT.admin_kind)


@check("tenant_admin_create")
def _tenant_admin_create(fleet, request, response):
    user = request.context["user"]
    admin_id = created_id(response)

    detail = read(fleet, "tenant_admin_get", path_params={"adminId": admin_id})

    assert detail["users"] == [{"id": user["id"], "name": user["name"]}]
    assert detail["profile"]["email"] == user["email"]
    assert admin_id in ids(fleet.items("tenant_admins_list"))


@check("tenant_admin_get")
def _tenant_admin_get(fleet, request, response):
    assert response.data == request.context["admin"]


@check("tenant_admin_delete")
def _tenant_admin_delete(fleet, request, response):
    assert response.data == {"deleted": True}
    absent(fleet, "tenant_admin_get", path_params=request.path_params)


@check("tenant_admin_role_assignments_list")
def _tenant_assignments(fleet, request, response):
    assert response.data["items"] == request.context["admin"]["roleAssignments"]


@check("tenant_admin_role_assignment_create")
def _tenant_assignment_create(fleet, request, response):
    listed = read(
        fleet, "tenant_admin_role_assignments_list", path_params=request.path_params
    )
    admin = read(fleet, "tenant_admin_get", path_params=request.path_params)

    assert created_id(response) in ids(listed["items"])
    assert created_id(response) in ids(admin["roleAssignments"])


@check("tenant_admin_role_assignment_delete")
def _tenant_assignment_delete(fleet, request, response):
    admin_id = request.path_params["adminId"]

    listed = read(
        fleet, "tenant_admin_role_assignments_list", path_params={"adminId": admin_id}
    )

    assert response.data == {"deleted": True}
    absent(fleet, "tenant_admin_role_assignment_get", path_params=request.path_params)
    assert listed["items"] == []


# -- migrations ---------------------------------------------------------------


def _migration_endpoints(fleet: Fleet, job_id: str, tenant=None) -> dict[str, str]:
    items = fleet.items(
        "migration_endpoints_list",
        path_params={"migrationJobId": job_id},
        tenant=tenant,
    )
    return {item["id"]: item["status"] for item in items}


@check("migration_create")
def _migration_create(fleet, request, response):
    job_id = created_id(response)

    job = read(fleet, "migration_get", path_params={"migrationJobId": job_id})

    assert job["mode"] == "receiving"
    assert job["token"] == response.data["token"]
    assert _migration_endpoints(fleet, job_id) == dict.fromkeys(
        request.context["endpointIds"], "pending"
    )


@check("migrations_list")
def _migrations_list(fleet, request, response):
    assert request.context["job"]["id"] in ids(response.data["items"])


@check("migration_get")
def _migration_get(fleet, request, response):
    job = request.context["job"]

    assert response.data["token"] == job["token"]
    assert response.data["mode"] == "receiving"


@check("migration_endpoints_list")
def _migration_endpoints_list(fleet, request, response):
    moving = request.context["job"]["endpointIds"]

    assert {item["id"] for item in response.data["items"]} == set(moving)


@check("migration_start")
def _migration_start(fleet, request, response):
    job = request.context["job"]
    moved = job["endpointIds"]

    sending = ids(fleet.items("endpoints_list", tenant=fleet.other))
    receiving = fleet.items("endpoints_list", tenant=fleet.tenant)
    sent_job = read(
        fleet, "migration_get", path_params=request.path_params, tenant=fleet.other
    )

    assert response.data["mode"] == "sending"
    assert sent_job["mode"] == "sending"
    assert not set(moved) & set(sending)
    assert set(moved) <= set(ids(receiving))
    for endpoint in receiving:
        if endpoint["id"] in moved:
            assert endpoint["tenant"] == {"id": fleet.tenant.id}
    assert _migration_endpoints(fleet, job["id"]) == dict.fromkeys(moved, "succeeded")


# -- packages -----------------------------------------------------------------


@check("recommended_packages_list")
def _recommended(fleet, request, response):
    assert {item["platform"] for item in response.data["items"]} >= {"windows", "linux"}


@check("static_packages_list")
def _static_list(fleet, request, response):
    assert ids(response.data["items"]) == ids(STATIC_PACKAGES)


@check("static_package_get")
def _static_get(fleet, request, response):
    assert response.data == STATIC_PACKAGES[0]


@check("special_package_add")
def _special_add(fleet, request, response):
    package_id = SPECIAL_PACKAGES[0]["id"]

    listed = read(fleet, "static_packages_list")
    detail = read(
        fleet, "static_package_get", path_params={"staticPackageId": package_id}
    )

    assert package_id in ids(listed["items"])
    assert detail == SPECIAL_PACKAGES[0]


@check("package_comments_list")
def _comments_list(fleet, request, response):
    assert ids(response.data["items"]) == [STATIC_PACKAGES[0]["id"]]
    assert response.data["items"][0]["package"] == STATIC_PACKAGES[0]


@check("package_comment_get")
def _comment_get(fleet, request, response):
    assert response.data["comment"] == "Pinned for the CAD workstations"
    assert response.data["package"] == STATIC_PACKAGES[1]


@check("package_comment_update")
def _comment_update(fleet, request, response):
    detail = read(fleet, "package_comment_get", path_params=request.path_params)

    assert detail["comment"] == "Only for the lab servers"
    assert detail["id"] in ids(read(fleet, "package_comments_list")["items"])


@check("package_comment_delete")
def _comment_delete(fleet, request, response):
    assert response.data == {"deleted": True}
    absent(fleet, "package_comment_get", path_params=request.path_params)


@check("installers_list")
def _installers(fleet, request, response):
    assert response.data["tenant"] == {"id": fleet.tenant.id}
    assert response.data["installers"]


# -- firewalls ----------------------------------------------------------------


def _firewall(fleet: Fleet, firewall_id: str) -> dict[str, Any]:
    for item in fleet.items("firewalls_list"):
        if item["id"] == firewall_id:
            return item
    raise AssertionError(f"firewall {firewall_id} is not listed")


CHECKS["firewalls_list"] = _list_matches_store(FIREWALL_KIND)


@check("firewall_update")
def _firewall_update(fleet, request, response):
    firewall = _firewall(fleet, request.path_params["firewallId"])

    assert firewall["name"] == "Head office primary"
    assert firewall["geoLocation"] == request.json["geoLocation"]


@check("firewall_delete")
def _firewall_delete(fleet, request, response):
    listed = ids(fleet.items("firewalls_list"))

    assert response.data == {"deleted": True}
    assert request.path_params["firewallId"] not in listed


@check("firewall_action_run")
def _firewall_action(fleet, request, response):
    firewall = _firewall(fleet, request.path_params["firewallId"])

    assert response.data == {"status": "succeeded", "action": "approveManagement"}
    assert firewall["status"]["managing"] == "approved"


@check("firewalls_firmware_check")
def _firmware_check(fleet, request, response):
    stored = {item["id"]: item for item in fleet.stored(FIREWALL_KIND)}

    assert ids(response.data["firewalls"]) == request.json["firewalls"]
    for item in response.data["firewalls"]:
        assert item["firmwareVersion"] == stored[item["id"]]["firmwareVersion"]
        assert item["upgradeToVersion"]


@check("firewalls_firmware_upgrade")
def _firmware_upgrade(fleet, request, response):
    requested = request.json["firewalls"][0]

    firewall = _firewall(fleet, requested["id"])

    assert response.data["firewalls"] == [
        {"id": requested["id"], "status": "scheduled"}
    ]
    assert firewall["firmwareUpgrade"]["status"] == "scheduled"
    assert firewall["firmwareUpgrade"]["upgradeToVersion"] == request.context["version"]
    assert firewall["firmwareUpgrade"]["upgradeAt"] == requested["upgradeAt"]


@check("firewalls_firmware_upgrade_cancel")
def _firmware_cancel(fleet, request, response):
    firewall = _firewall(fleet, request.params["ids"][0])

    assert response.data == {"deleted": True}
    assert "firmwareUpgrade" not in firewall


def _firewall_group(fleet: Fleet, group_id: str) -> dict[str, Any] | None:
    for item in fleet.items("firewall_groups_list"):
        if item["id"] == group_id:
            return item
    return None


@check("firewall_groups_list")
def _firewall_groups(fleet, request, response):
    assert ids(response.data["items"]) == stored_ids(fleet, FIREWALL_GROUP_KIND)
    assert response.data["items"][0]["firewalls"]["total"] == 2


@check("firewall_group_create")
def _firewall_group_create(fleet, request, response):
    group_id = created_id(response)
    firewall_id = request.context["firewallId"]

    group = _firewall_group(fleet, group_id)
    firewall = _firewall(fleet, firewall_id)

    assert group is not None
    assert ids(group["firewalls"]["items"]) == [firewall_id]
    assert group["parentGroup"] == {"id": request.json["parentGroupId"]}
    assert (
        group["configImport"]["sourceFirewall"]["id"]
        == (request.json["configImportSourceFirewallId"])
    )
    assert firewall["group"]["id"] == group_id


@check("firewall_group_update")
def _firewall_group_update(fleet, request, response):
    group = _firewall_group(fleet, request.path_params["groupId"])
    members = ids(group["firewalls"]["items"]) if group else []

    assert group is not None
    assert group["name"] == "Head office (HA)"
    assert request.context["added"] in members
    assert not set(request.context["removed"]) & set(members)
    for removed in request.context["removed"]:
        assert "group" not in _firewall(fleet, removed)


@check("firewall_group_delete")
def _firewall_group_delete(fleet, request, response):
    group = request.context["group"]
    members = [
        item
        for item in fleet.items("firewalls_list")
        if item.get("group", {}).get("id") == group["id"]
    ]

    assert response.data == {"deleted": True}
    assert _firewall_group(fleet, group["id"]) is None
    assert members == []


@check("firewall_group_sync_status_list")
def _sync_status(fleet, request, response):
    group_id = request.path_params["groupId"]
    members = [
        item["id"]
        for item in fleet.stored(FIREWALL_KIND)
        if item.get("group", {}).get("id") == group_id
    ]

    assert [item["firewall"]["id"] for item in response.data["items"]] == members
