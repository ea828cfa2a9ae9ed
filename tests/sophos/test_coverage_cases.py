"""Documented behaviour of single operations, through the client and the simulator.

Policy clones and resets, membership changes with their per-id outcomes,
each documented 409, bulk isolation, deletes, unknown ids, migrations,
tamper protection passwords, firmware upgrades, billing rows, base policies
and ``appliesTo``, and the client's checks of bad input.
"""

from collections import Counter
from collections.abc import Iterator

import pytest
from operation_inputs import (
    MALWARE_SETTING,
    SCHEDULE_SETTING,
    THREAT_POLICY,
    Fleet,
    allowed_item_body,
    build,
    open_fleet,
)

from sophos import catalog, errors
from sophos.client import SophosClient
from sophos.simulator.api.exploit_mitigation import APPLICATION_KIND
from sophos.simulator.api.firewalls import FIREWALL_KIND, LATEST_FIRMWARE
from sophos.simulator.api.partner import BILLING_KIND
from sophos.simulator.api.policies import POLICY_TYPES, default_settings
from sophos.simulator.api.reference import SPECIAL_PACKAGES
from sophos.simulator.faults import set_faults
from sophos.simulator.models import SimObject, SimTenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.transport import SimulatorTransport

UNKNOWN_ID = "00000000-0000-4000-8000-00000000dead"


@pytest.fixture
def fleet(db) -> Iterator[Fleet]:
    with open_fleet() as opened:
        yield opened


def ids(items):
    return [item["id"] for item in items]


# -- policies -----------------------------------------------------------------


def test_policy_clone_copies_settings(fleet):
    source = fleet.new_policy(settings={MALWARE_SETTING: {"value": False}})

    clone = fleet.call(
        "policy_clone",
        path_params={"policyId": source["id"]},
        json={"name": "Strict for laptops"},
    ).data
    read = fleet.call("policy_get", path_params={"policyId": clone["id"]}).data
    original = fleet.call("policy_get", path_params={"policyId": source["id"]}).data

    assert clone["id"] != source["id"]
    assert read["name"] == "Strict for laptops"
    assert read["type"] == THREAT_POLICY
    assert read["settings"] == original["settings"]
    assert read["settings"][MALWARE_SETTING]["value"] is False
    assert original["name"] == source["name"]


def test_policy_clone_without_name(fleet):
    source = fleet.new_policy()

    clone = fleet.call("policy_clone", path_params={"policyId": source["id"]}).data

    assert clone["name"] == f"{source['name']} (clone)"


def test_policy_setting_reset_restores_default(fleet):
    policy = fleet.new_policy(
        settings={
            MALWARE_SETTING: {"value": False},
            SCHEDULE_SETTING: {"value": True},
        }
    )
    path = {"policyId": policy["id"], "settingKey": MALWARE_SETTING}

    reset = fleet.call("policy_setting_reset", path_params=path).data
    settings = fleet.call(
        "policy_settings_get", path_params={"policyId": policy["id"]}
    ).data

    assert reset["value"] is True
    assert settings[MALWARE_SETTING]["value"] is True
    assert settings[SCHEDULE_SETTING]["value"] is True


def test_policy_settings_reset_restores_all(fleet):
    policy = fleet.new_policy(
        settings={
            MALWARE_SETTING: {"value": False},
            SCHEDULE_SETTING: {"value": True},
        }
    )

    reset = fleet.call(
        "policy_settings_reset", path_params={"policyId": policy["id"]}
    ).data
    settings = fleet.call(
        "policy_settings_get", path_params={"policyId": policy["id"]}
    ).data

    assert reset == default_settings(THREAT_POLICY)
    assert settings == default_settings(THREAT_POLICY)


def test_base_policy_settings_reset_restores_all(fleet):
    base = {"policyType": THREAT_POLICY}
    fleet.call(
        "base_policy_settings_update",
        path_params=base,
        json={
            MALWARE_SETTING: {"value": False},
            SCHEDULE_SETTING: {"value": True},
        },
    )

    fleet.call("base_policy_settings_reset", path_params=base)
    settings = fleet.call("base_policy_settings_get", path_params=base).data

    assert settings == default_settings(THREAT_POLICY)


def test_base_policy_setting_reset_keeps_others(fleet):
    base = {"policyType": THREAT_POLICY}
    fleet.call(
        "base_policy_settings_update",
        path_params=base,
        json={
            MALWARE_SETTING: {"value": False},
            SCHEDULE_SETTING: {"value": True},
        },
    )

    fleet.call(
        "base_policy_setting_reset",
        path_params={**base, "settingKey": MALWARE_SETTING},
    )
    settings = fleet.call("base_policy_settings_get", path_params=base).data

    assert settings[MALWARE_SETTING]["value"] is True
    assert settings[SCHEDULE_SETTING]["value"] is True


def test_every_type_has_one_base_policy(fleet):
    policies = fleet.items("policies_list")

    bases = [item for item in policies if item["priority"] == 0]

    assert sorted(item["type"] for item in bases) == sorted(POLICY_TYPES)
    for base in bases:
        assert base["appliesTo"] == {}
        assert base["name"] == "Base Policy"


def test_base_policy_cannot_be_deleted(fleet):
    base = fleet.call("base_policy_get", path_params={"policyType": THREAT_POLICY})

    with pytest.raises(errors.Conflict):
        fleet.call("policy_delete", path_params={"policyId": base.data["id"]})
    again = fleet.call("policy_get", path_params={"policyId": base.data["id"]})

    assert again.data["priority"] == 0


@pytest.mark.parametrize("field", ["name", "priority", "enabled", "appliesTo"])
def test_base_policy_changes_settings_only(fleet, field):
    values = {
        "name": "My base",
        "priority": 3,
        "enabled": False,
        "appliesTo": {"users": []},
    }

    with pytest.raises(errors.BadRequest, match=field):
        fleet.call(
            "base_policy_update",
            path_params={"policyType": THREAT_POLICY},
            json={field: values[field]},
        )


def test_base_policy_accepts_its_own_values(fleet):
    base = fleet.call("base_policy_get", path_params={"policyType": THREAT_POLICY}).data

    response = fleet.call(
        "policy_update",
        path_params={"policyId": base["id"]},
        json={
            "name": base["name"],
            "settings": {SCHEDULE_SETTING: {"value": True}},
        },
    )

    assert response.data["name"] == "Base Policy"
    assert response.data["settings"][SCHEDULE_SETTING]["value"] is True


def test_policy_applies_to_users_and_groups(fleet):
    users = ids(fleet.items("users_list"))[:2]
    group = ids(fleet.items("user_groups_list"))[0]
    policy = fleet.new_policy()

    fleet.call(
        "policy_update",
        path_params={"policyId": policy["id"]},
        json={"appliesTo": {"users": users, "userGroups": [group]}},
    )
    read = fleet.call("policy_get", path_params={"policyId": policy["id"]}).data

    assert read["appliesTo"] == {"users": users, "userGroups": [group]}


def test_policy_applies_to_endpoints(fleet):
    endpoint = fleet.endpoint()
    group_id, _members = fleet.group_with_members()

    created = fleet.new_policy(
        appliesTo={"endpoints": [endpoint], "endpointGroups": [group_id]}
    )

    assert created["appliesTo"] == {
        "endpoints": [endpoint],
        "endpointGroups": [group_id],
    }


def test_policy_applies_to_unknown_user(fleet):
    policy = fleet.new_policy()

    with pytest.raises(errors.BadRequest, match="appliesTo.users") as raised:
        fleet.call(
            "policy_update",
            path_params={"policyId": policy["id"]},
            json={"appliesTo": {"users": [UNKNOWN_ID]}},
        )

    assert UNKNOWN_ID in str(raised.value)


def test_policy_applies_to_unknown_key(fleet):
    with pytest.raises(errors.BadRequest, match="appliesTo.printers"):
        fleet.new_policy(appliesTo={"printers": []})


# -- membership changes -------------------------------------------------------


def test_group_add_reports_each_endpoint(fleet):
    group_id, members = fleet.group_with_members()
    computer = next(
        item["id"] for item in fleet.endpoints() if item["id"] not in members
    )
    server = fleet.endpoints("server")[0]["id"]

    response = fleet.call(
        "endpoint_group_endpoints_add",
        path_params={"groupId": group_id},
        json={"ids": [computer, UNKNOWN_ID, server]},
    )
    listed = ids(
        fleet.items("endpoint_group_endpoints_list", path_params={"groupId": group_id})
    )

    assert response.status == 201
    assert response.data["addedEndpoints"] == [{"id": computer}]
    assert response.data["errors"]["endpointsNotFound"] == [UNKNOWN_ID]
    assert response.data["errors"]["endpointsOfWrongType"] == [server]
    assert computer in listed
    assert server not in listed


def test_group_remove_reports_each_endpoint(fleet):
    group_id, members = fleet.group_with_members()

    response = fleet.call(
        "endpoint_group_endpoints_remove",
        path_params={"groupId": group_id},
        params={"ids": [members[0], UNKNOWN_ID]},
    )

    assert response.data["removedEndpoints"] == [{"id": members[0]}]
    assert response.data["errors"]["endpointsNotFound"] == [UNKNOWN_ID]


def test_user_group_add_and_remove_users(fleet):
    group_id, members = fleet.user_group_with_members()
    outsider = fleet.user_outside(group_id)

    added = fleet.call(
        "user_group_users_add",
        path_params={"groupId": group_id},
        json={"ids": [outsider, UNKNOWN_ID]},
    ).data
    removed = fleet.call(
        "user_group_users_remove",
        path_params={"groupId": group_id},
        params={"ids": [members[0], UNKNOWN_ID]},
    ).data
    listed = ids(
        fleet.items("user_group_users_list", path_params={"groupId": group_id})
    )

    assert added["addedUsers"] == [{"id": outsider}]
    assert added["errors"]["usersNotFound"] == [UNKNOWN_ID]
    assert removed["removedUsers"] == [{"id": members[0]}]
    assert removed["errors"]["usersNotFound"] == [UNKNOWN_ID]
    assert outsider in listed
    assert members[0] not in listed


def test_user_joins_and_leaves_groups(fleet):
    user_id, groups = fleet.user_with_groups()
    other = fleet.new_user_group()["id"]

    added = fleet.call(
        "user_memberships_add",
        path_params={"userId": user_id},
        json={"ids": [other, UNKNOWN_ID]},
    ).data
    removed = fleet.call(
        "user_memberships_remove",
        path_params={"userId": user_id},
        params={"ids": [groups[0], UNKNOWN_ID]},
    ).data
    listed = ids(fleet.items("user_memberships_list", path_params={"userId": user_id}))

    assert added["addedToGroups"] == [{"id": other}]
    assert added["errors"]["groupsNotFound"] == [UNKNOWN_ID]
    assert removed["removedFromGroups"] == [{"id": groups[0]}]
    assert removed["errors"]["groupsNotFound"] == [UNKNOWN_ID]
    assert other in listed
    assert groups[0] not in listed


# -- 409 conflicts ------------------------------------------------------------


def test_duplicate_allowed_item_conflicts(fleet):
    fleet.call("allowed_item_create", json=allowed_item_body())

    with pytest.raises(errors.Conflict, match="properties.sha256"):
        fleet.call("allowed_item_create", json=allowed_item_body())
    listed = fleet.items("allowed_items_list")

    digests = [item["properties"].get("sha256") for item in listed]
    assert digests.count(allowed_item_body()["properties"]["sha256"]) == 1


def test_allowed_item_comment_may_be_blank(fleet):
    body = {**allowed_item_body(), "comment": ""}

    created = fleet.call("allowed_item_create", json=body).data

    assert created["comment"] == ""


def test_nonempty_user_group_delete_conflicts(fleet):
    group_id, members = fleet.user_group_with_members()

    with pytest.raises(errors.Conflict):
        fleet.call("user_group_delete", path_params={"groupId": group_id})
    group = fleet.call("user_group_get", path_params={"groupId": group_id}).data

    assert ids(group["users"]["items"]) == members


def test_emptied_user_group_can_be_deleted(fleet):
    group_id, members = fleet.user_group_with_members()
    fleet.call(
        "user_group_users_remove",
        path_params={"groupId": group_id},
        params={"ids": members},
    )

    response = fleet.call("user_group_delete", path_params={"groupId": group_id})

    assert response.data == {"deleted": True}


def test_detected_application_delete_conflicts(fleet):
    detected = fleet.first(APPLICATION_KIND, type="detected")
    path = {"exploitMitigationApplicationId": detected["id"]}

    with pytest.raises(errors.Conflict):
        fleet.call("exploit_mitigation_application_delete", path_params=path)
    still = fleet.call("exploit_mitigation_application_get", path_params=path)

    assert still.data["type"] == "detected"


def test_isolation_change_in_progress_conflicts(fleet):
    set_faults(isolation_delay_seconds=60)
    endpoint = {"endpointId": fleet.endpoint()}
    fleet.call(
        "endpoint_isolation_update", path_params=endpoint, json={"enabled": True}
    )

    with pytest.raises(errors.Conflict):
        fleet.call(
            "endpoint_isolation_update", path_params=endpoint, json={"enabled": False}
        )
    isolation = fleet.call("endpoint_isolation_get", path_params=endpoint).data

    assert isolation["enabled"] is True


def test_special_package_twice_conflicts(fleet):
    package = {"staticPackageId": SPECIAL_PACKAGES[0]["id"]}
    fleet.call("special_package_add", path_params=package)

    with pytest.raises(errors.Conflict):
        fleet.call("special_package_add", path_params=package)
    listed = ids(fleet.items("static_packages_list"))

    assert listed.count(package["staticPackageId"]) == 1


def test_admin_user_delete_conflicts(fleet):
    admin = fleet.new_tenant_admin()
    user_id = admin["users"][0]["id"]

    with pytest.raises(errors.Conflict):
        fleet.call("user_delete", path_params={"userId": user_id})
    fleet.call("tenant_admin_delete", path_params={"adminId": admin["id"]})
    response = fleet.call("user_delete", path_params={"userId": user_id})

    assert response.data == {"deleted": True}


def test_last_super_admin_delete_conflicts(fleet):
    seeded = fleet.items("tenant_admins_list")

    with pytest.raises(errors.Conflict):
        fleet.call("tenant_admin_delete", path_params={"adminId": seeded[0]["id"]})

    assert ids(fleet.items("tenant_admins_list")) == ids(seeded)


@pytest.mark.parametrize("realm", ["partner", "tenant"])
def test_assigned_role_delete_conflicts(fleet, realm):
    role = fleet.new_role(realm)
    admins = fleet.items(f"{realm}_admins_list")
    assignment = {"roleId": role["id"]}
    if realm == "partner":
        assignment["scope"] = {"type": "partner"}
    fleet.call(
        f"{realm}_admin_role_assignment_create",
        path_params={"adminId": admins[0]["id"]},
        json=assignment,
    )

    with pytest.raises(errors.Conflict):
        fleet.call(f"{realm}_role_delete", path_params={"roleId": role["id"]})

    assert fleet.call(f"{realm}_role_get", path_params={"roleId": role["id"]}).data


@pytest.mark.parametrize("realm", ["partner", "tenant"])
def test_predefined_role_cannot_change(fleet, realm):
    predefined = read_roles(fleet, realm)["Admin"]
    path = {"roleId": predefined["id"]}

    with pytest.raises(errors.Conflict):
        fleet.call(f"{realm}_role_update", path_params=path, json={"name": "Boss"})
    with pytest.raises(errors.Conflict):
        fleet.call(f"{realm}_role_delete", path_params=path)

    assert read_roles(fleet, realm)["Admin"] == predefined


def read_roles(fleet, realm):
    items = fleet.call(f"{realm}_roles_list").data["items"]
    return {item["name"]: item for item in items}


# -- isolation, deletes, unknown ids ------------------------------------------


def test_bulk_isolation_is_accepted(fleet):
    targets = [
        item["id"]
        for item in fleet.endpoints()
        if item["isolation"]["status"] == "notIsolated"
    ][:3]

    response = fleet.call(
        "endpoints_isolation_update", json={"enabled": True, "ids": targets}
    )
    isolated = ids(
        fleet.items("endpoints_list", params={"isolationStatus": "isolated"})
    )

    assert response.status == 202
    assert ids(response.data["items"]) == targets
    assert set(targets) <= set(isolated)


def test_already_isolated_endpoint_is_rejected(fleet):
    isolated = fleet.items("endpoints_list", params={"isolationStatus": "isolated"})
    endpoint = {"endpointId": isolated[0]["id"]}

    with pytest.raises(errors.BadRequest, match="already isolated"):
        fleet.call(
            "endpoint_isolation_update", path_params=endpoint, json={"enabled": True}
        )


DELETES = [
    "endpoint_delete",
    "endpoint_group_delete",
    "policy_delete",
    "allowed_item_delete",
    "blocked_item_delete",
    "scanning_exclusion_delete",
    "isolation_exclusion_delete",
    "intrusion_prevention_exclusion_delete",
    "exploit_mitigation_application_delete",
    "local_site_delete",
    "user_delete",
    "user_group_delete",
    "tenant_admin_delete",
    "tenant_role_delete",
    "partner_role_delete",
    "package_comment_delete",
    "firewall_delete",
    "firewall_group_delete",
    "tls_excluded_websites_clear",
    "firewalls_firmware_upgrade_cancel",
    "partner_admin_role_assignment_delete",
    "tenant_admin_role_assignment_delete",
]


@pytest.mark.parametrize("name", DELETES)
def test_delete_returns_deleted_true(fleet, name):
    request = build(name, fleet)

    response = fleet.send(name, request)

    assert response.status == 200
    assert response.data == {"deleted": True}


def test_every_delete_is_listed():
    deletes = {
        op.name
        for op in catalog.all_operations()
        if op.method == "DELETE"
        and not op.path.endswith("/endpoints")
        and not op.path.endswith("/users")
        and not op.path.endswith("/groups")
        and not op.name.endswith("_endpoint_remove")
    }

    assert deletes == set(DELETES)


@pytest.mark.parametrize("name", ["allowed_item_delete", "blocked_item_delete"])
def test_item_delete_of_unknown_id(fleet, name):
    param = catalog.get(name).path_params[0]

    response = fleet.call(name, path_params={param: UNKNOWN_ID})

    assert response.status == 200
    assert response.data == {"deleted": True}


# Deleting an unknown allowed or blocked item succeeds, as Sophos documents.
UNKNOWN_ID_OPERATIONS = [
    op.name
    for op in catalog.all_operations()
    if op.path_params
    and op.path_params[-1].endswith("Id")
    and op.name not in {"allowed_item_delete", "blocked_item_delete"}
]


@pytest.mark.parametrize("name", UNKNOWN_ID_OPERATIONS)
def test_unknown_id_is_not_found(fleet, name):
    request = build(name, fleet)
    last = catalog.get(name).path_params[-1]
    path_params = {**request.path_params, last: UNKNOWN_ID}

    with pytest.raises(errors.NotFound):
        fleet.call(
            name,
            tenant=request.tenant,
            path_params=path_params,
            params=request.params,
            json=request.json,
        )


@pytest.mark.parametrize(
    ("name", "path_params"),
    [
        ("base_policy_get", {"policyType": "toaster-control"}),
        (
            "policy_setting_get",
            {"policyId": "BASE", "settingKey": "endpoint.toaster.enabled"},
        ),
        ("partner_billing_usage_list", {"year": 2001, "month": 1}),
    ],
)
def test_unknown_key_is_not_found(fleet, name, path_params):
    if path_params.get("policyId") == "BASE":
        base = fleet.call("base_policy_get", path_params={"policyType": THREAT_POLICY})
        path_params = {**path_params, "policyId": base.data["id"]}

    with pytest.raises(errors.NotFound):
        fleet.call(name, path_params=path_params)


# -- migrations ---------------------------------------------------------------


def test_migration_moves_endpoints(fleet):
    job = fleet.new_migration()
    moving = job["endpointIds"]
    before = ids(fleet.items("endpoints_list", tenant=fleet.other))

    fleet.call(
        "migration_start",
        tenant=fleet.other,
        path_params={"migrationJobId": job["id"]},
        json={"token": job["token"], "endpoints": moving},
    )
    sending = ids(fleet.items("endpoints_list", tenant=fleet.other))
    receiving = ids(fleet.items("endpoints_list", tenant=fleet.tenant))
    moved = fleet.call(
        "endpoint_get", path_params={"endpointId": moving[0]}, params={"view": "full"}
    ).data

    assert set(moving) <= set(before)
    assert sending == [item for item in before if item not in moving]
    assert receiving[-len(moving) :] == moving
    assert moved["tenant"] == {"id": fleet.tenant.id}
    with pytest.raises(errors.NotFound):
        fleet.call(
            "endpoint_get", tenant=fleet.other, path_params={"endpointId": moving[0]}
        )


def test_migration_start_needs_its_token(fleet):
    job = fleet.new_migration()

    with pytest.raises(errors.BadRequest, match="token"):
        fleet.call(
            "migration_start",
            tenant=fleet.other,
            path_params={"migrationJobId": job["id"]},
            json={"token": "not-the-token", "endpoints": job["endpointIds"]},
        )
    sending = ids(fleet.items("endpoints_list", tenant=fleet.other))

    assert set(job["endpointIds"]) <= set(sending)


def test_migration_start_from_other_tenant(fleet):
    job = fleet.new_migration()
    third = fleet.tenants[2]

    with pytest.raises(errors.BadRequest, match="token"):
        fleet.call(
            "migration_start",
            tenant=third,
            path_params={"migrationJobId": job["id"]},
            json={"token": job["token"], "endpoints": job["endpointIds"]},
        )


# -- tamper protection --------------------------------------------------------


def test_tamper_password_regeneration(fleet):
    endpoint = {"endpointId": fleet.endpoint()}
    before = fleet.call("endpoint_tamper_protection_get", path_params=endpoint).data

    regenerated = fleet.call(
        "endpoint_tamper_protection_update",
        path_params=endpoint,
        json={"regeneratePassword": True},
    ).data
    after = fleet.call("endpoint_tamper_protection_get", path_params=endpoint).data

    assert regenerated["password"] != before["password"]
    assert after["password"] == regenerated["password"]
    assert [item["password"] for item in after["previousPasswords"]] == [
        before["password"]
    ]
    assert after["previousPasswords"][0]["invalidatedAt"]
    assert after["enabled"] is before["enabled"]


def test_tamper_password_history_grows(fleet):
    endpoint = {"endpointId": fleet.endpoint()}
    passwords = [
        fleet.call("endpoint_tamper_protection_get", path_params=endpoint).data[
            "password"
        ]
    ]

    for _ in range(2):
        passwords.append(
            fleet.call(
                "endpoint_tamper_protection_update",
                path_params=endpoint,
                json={"regeneratePassword": True},
            ).data["password"]
        )
    after = fleet.call("endpoint_tamper_protection_get", path_params=endpoint).data

    assert len(set(passwords)) == 3
    assert [item["password"] for item in after["previousPasswords"]] == passwords[:2]


# -- firewall firmware --------------------------------------------------------


def _listed_firewall(fleet: Fleet, firewall_id: str) -> dict:
    return next(
        item for item in fleet.items("firewalls_list") if item["id"] == firewall_id
    )


def test_firmware_check_upgrade_and_cancel(fleet):
    firewall = fleet.first(FIREWALL_KIND)["id"]

    check = fleet.call("firewalls_firmware_check", json={"firewalls": [firewall]}).data
    offered = check["firewalls"][0]["upgradeToVersion"]
    upgrade = fleet.call(
        "firewalls_firmware_upgrade",
        json={"firewalls": [{"id": firewall, "upgradeToVersion": offered[0]}]},
    ).data
    scheduled = _listed_firewall(fleet, firewall)
    fleet.call("firewalls_firmware_upgrade_cancel", params={"ids": [firewall]})
    cancelled = _listed_firewall(fleet, firewall)

    assert offered == [LATEST_FIRMWARE]
    assert check["firmwareVersions"][0]["version"] == LATEST_FIRMWARE
    assert upgrade == {"firewalls": [{"id": firewall, "status": "scheduled"}]}
    assert scheduled["firmwareUpgrade"]["upgradeToVersion"] == LATEST_FIRMWARE
    assert "firmwareUpgrade" not in cancelled


def test_firmware_cancel_without_upgrade(fleet):
    firewall = fleet.first(FIREWALL_KIND)["id"]

    with pytest.raises(errors.BadRequest, match="ids"):
        fleet.call("firewalls_firmware_upgrade_cancel", params={"ids": [firewall]})


def test_firmware_upgrade_to_unoffered_version(fleet):
    firewall = fleet.first(FIREWALL_KIND)["id"]
    body = {"firewalls": [{"id": firewall, "upgradeToVersion": "SFOS 17.0"}]}

    with pytest.raises(errors.BadRequest, match=r"firewalls\[0\].upgradeToVersion"):
        fleet.call("firewalls_firmware_upgrade", json=body)

    assert "firmwareUpgrade" not in _listed_firewall(fleet, firewall)


def test_firmware_cancel_takes_a_json_list(fleet):
    firewall = fleet.first(FIREWALL_KIND)["id"]
    fleet.call("firewalls_firmware_upgrade", json={"firewalls": [firewall]})

    response = fleet.client.request(
        "DELETE",
        "/firewall/v1/firewalls/actions/firmware-upgrade",
        tenant=fleet.tenant,
        json=[firewall],
    )

    assert response.data == {"deleted": True}
    assert "firmwareUpgrade" not in _listed_firewall(fleet, firewall)


# -- billing ------------------------------------------------------------------


def test_billing_has_one_row_per_tenant_and_product(fleet):
    months = sorted(
        set(
            SimObject.objects.filter(
                kind=BILLING_KIND, scope_id=fleet.partner_id
            ).values_list("parent_id", flat=True)
        )
    )
    tenant_ids = set(
        SimTenant.objects.filter(partner_id=fleet.partner_id).values_list(
            "id", flat=True
        )
    )

    assert len(months) == 13
    for month_key in months:
        year, month = (int(part) for part in month_key.split("-"))
        rows = list(
            fleet.client.paginate(
                "partner_billing_usage_list",
                path_params={"year": year, "month": month},
            )
        )
        pairs = Counter((row["accountId"], row["productCode"]) for row in rows)

        assert rows, month_key
        assert max(pairs.values()) == 1, month_key
        assert {account for account, _code in pairs} == tenant_ids, month_key
        assert {row["billingStartDate"][:7] for row in rows} == {month_key}


# -- bad input ----------------------------------------------------------------


@pytest.fixture
def recording(db):
    """A client over a simulator transport that records every request."""
    credential = demo_credential()
    transport = SimulatorTransport(record=True)
    client = SophosClient(
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        transport=transport,
        max_retries=0,
    )
    with client:
        yield client, transport


def test_unknown_operation_sends_nothing(recording):
    client, transport = recording

    with pytest.raises(catalog.UnknownOperation, match="alerts_list"):
        client.call("alert_lists")

    assert transport.calls == []


def test_missing_path_parameter_sends_nothing(recording):
    client, transport = recording

    with pytest.raises(catalog.MissingPathParameter, match="policyId"):
        client.call("policy_setting_get", path_params={"settingKey": "x"})

    assert transport.calls == []


def test_missing_body_field_sends_nothing(recording):
    client, transport = recording

    with pytest.raises(ValueError, match="properties"):
        client.call("allowed_item_create", json={"type": "sha256", "comment": "Needed"})

    assert transport.calls == []


def test_body_that_is_not_an_object_sends_nothing(recording):
    client, transport = recording

    with pytest.raises(ValueError, match="action"):
        client.call(
            "alert_action_perform", path_params={"alertId": "a"}, json=["acknowledge"]
        )

    assert transport.calls == []


def test_body_on_a_get_sends_nothing(recording):
    client, transport = recording

    with pytest.raises(ValueError, match="alerts_list"):
        client.call("alerts_list", json={"severity": "high"})

    assert transport.calls == []


def _firewall_id(fleet: Fleet) -> str:
    return str(fleet.first(FIREWALL_KIND)["id"])


# (operation, path parameters, body, the field the 400 must name)
REJECTED_BODIES = [
    (
        "allowed_item_create",
        {},
        {"type": "md5", "properties": {"md5": "x"}, "comment": "c"},
        "type",
    ),
    (
        "allowed_item_create",
        {},
        {"type": "sha256", "properties": {"sha256": "xyz"}, "comment": "c"},
        "properties.sha256",
    ),
    (
        "allowed_item_create",
        {},
        {"type": "path", "properties": {"fileName": "a.exe"}, "comment": "c"},
        "properties.path",
    ),
    (
        "blocked_item_create",
        {},
        {"type": "path", "properties": {"path": "C:\\a.exe"}, "comment": "c"},
        "type",
    ),
    (
        "scanning_exclusion_create",
        {},
        {"type": "path", "value": "C:\\x", "scanMode": "sometimes"},
        "scanMode",
    ),
    (
        "scanning_exclusion_create",
        {},
        {"type": "path", "value": "  "},
        "value",
    ),
    (
        "isolation_exclusion_create",
        {},
        {"localPorts": [70000]},
        "localPorts",
    ),
    (
        "intrusion_prevention_exclusion_create",
        {},
        {"remoteAddresses": ["10.0.0.1"], "direction": "sideways"},
        "direction",
    ),
    (
        "local_site_create",
        {},
        {"url": "https://a.example", "categoryId": 999},
        "categoryId",
    ),
    (
        "tenant_create",
        {},
        {"name": "A", "contact": {}, "billingType": "free"},
        "billingType",
    ),
    (
        "tenant_create",
        {},
        {"name": "A", "contact": {}, "billingType": "trial", "dataGeography": "XX"},
        "dataGeography",
    ),
    (
        "partner_role_create",
        {},
        {"name": "R", "principalType": "user", "permissionSets": ["nope"]},
        "permissionSets",
    ),
    (
        "tenant_role_create",
        {},
        {"name": "R", "principalType": "robot", "permissionSets": ["central_admin"]},
        "principalType",
    ),
    ("user_create", {}, {"name": "A", "email": "not-an-email"}, "email"),
    ("user_group_create", {}, {"name": ""}, "name"),
    ("policy_create", {}, {"name": "P", "type": "toaster-control"}, "type"),
    (
        "policy_create",
        {},
        {"name": "P", "type": THREAT_POLICY, "priority": 0},
        "priority",
    ),
    (
        "base_policy_settings_update",
        {"policyType": THREAT_POLICY},
        {MALWARE_SETTING: True},
        MALWARE_SETTING,
    ),
    ("endpoint_group_create", {}, {"name": "G", "type": "tablet"}, "type"),
    ("endpoints_isolation_update", {}, {"enabled": True, "ids": "abc"}, "ids"),
    (
        "event_journal_settings_update",
        {"endpointType": "computer"},
        {"diskSpaceLimitAsPercentage": 150},
        "diskSpaceLimitAsPercentage",
    ),
    (
        "tls_decryption_settings_update",
        {},
        {"categories": [{"id": 999, "decryptionEnabled": True}]},
        "categories[0].id",
    ),
    (
        "tls_excluded_websites_update",
        {},
        {"add": [{"comment": "no value"}]},
        "add[0].value",
    ),
    (
        "migration_create",
        {},
        {"fromTenant": UNKNOWN_ID, "endpoints": ["e"]},
        "fromTenant",
    ),
    (
        "firewalls_firmware_check",
        {},
        {"firewalls": [UNKNOWN_ID]},
        "firewalls[0]",
    ),
    (
        "firewall_group_create",
        {},
        {"name": "G", "assignFirewalls": [UNKNOWN_ID]},
        "assignFirewalls",
    ),
    ("partner_admin_create", {}, {"username": "no-at-sign"}, "username"),
]


@pytest.mark.parametrize(
    ("name", "path_params", "body", "field"),
    REJECTED_BODIES,
    ids=[f"{row[0]}-{row[3]}" for row in REJECTED_BODIES],
)
def test_rejected_body_names_field(fleet, name, path_params, body, field):
    with pytest.raises(errors.BadRequest) as raised:
        fleet.call(name, path_params=path_params, json=body)

    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("endpoint_isolation_update", {"enabled": "yes"}, "enabled"),
        ("endpoint_tamper_protection_update", {"enabled": "no"}, "enabled"),
    ],
)
def test_rejected_endpoint_body_names_field(fleet, name, body, field):
    with pytest.raises(errors.BadRequest, match=field):
        fleet.call(name, path_params={"endpointId": fleet.endpoint()}, json=body)


def test_rejected_alert_action_names_field(fleet):
    alert = fleet.alert("acknowledge")
    disallowed = "cleanVirus" if "cleanVirus" not in alert["allowedActions"] else "x"

    with pytest.raises(errors.BadRequest, match="action"):
        fleet.call(
            "alert_action_perform",
            path_params={"alertId": alert["id"]},
            json={"action": disallowed},
        )


def test_rejected_firewall_update_names_field(fleet):
    firewall = {"firewallId": _firewall_id(fleet)}
    body = {"geoLocation": {"latitude": "200", "longitude": "0"}}

    with pytest.raises(errors.BadRequest, match="geoLocation.latitude"):
        fleet.call("firewall_update", path_params=firewall, json=body)


def test_rejected_application_update_names_field(fleet):
    application = fleet.new_application()
    body = {"modifications": {"settings": {"ASLR": "on"}}}

    with pytest.raises(errors.BadRequest, match="modifications.settings.ASLR"):
        fleet.call(
            "exploit_mitigation_application_update",
            path_params={"exploitMitigationApplicationId": application["id"]},
            json=body,
        )


def test_update_rejects_unknown_field(fleet):
    item = fleet.new_scanning_exclusion()

    with pytest.raises(errors.BadRequest, match="type"):
        fleet.call(
            "scanning_exclusion_update",
            path_params={"exclusionId": item["id"]},
            json={"type": "process"},
        )
