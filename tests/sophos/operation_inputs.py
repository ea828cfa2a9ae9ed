"""Inputs for every catalog operation, against the seeded simulator fleet.

``INPUTS`` maps each operation name to a builder that returns the path
parameters, query parameters and body for one call. A builder resolves ids
from the seeded fleet, or creates the objects it needs through the client
first, so the call it describes succeeds. An operation without a builder
has no entry here, and the coverage and shape tests fail for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sophos import catalog
from sophos.client import ApiResponse, SophosClient, TenantTarget
from sophos.simulator import store
from sophos.simulator.api.admins import PARTNER, TENANT
from sophos.simulator.api.directory import (
    GROUP_USERS_KIND,
    USER_GROUP_KIND,
    USER_GROUPS_KIND,
    USER_KIND,
)
from sophos.simulator.api.endpoints import ENDPOINT_KIND
from sophos.simulator.api.exploit_mitigation import (
    DETECTED_EXPLOIT_KIND,
)
from sophos.simulator.api.firewalls import FIREWALL_GROUP_KIND, FIREWALL_KIND
from sophos.simulator.api.groups import GROUP_KIND
from sophos.simulator.api.reference import SPECIAL_PACKAGES, STATIC_PACKAGES
from sophos.simulator.models import SimTenant
from sophos.simulator.seed import demo_credential
from sophos.simulator.seed_configuration import PERIPHERAL_KIND
from sophos.simulator.transport import SimulatorTransport

ALERT_KIND = "common/v1/alerts"
THREAT_POLICY = "threat-protection"
MALWARE_SETTING = "endpoint.malware.enabled"
SCHEDULE_SETTING = "endpoint.scans.scheduled.enabled"
SHA256_ALLOWED = "a1" * 32
SHA256_BLOCKED = "b2" * 32


@dataclass(frozen=True)
class OperationInput:
    """One call of an operation: where it goes and what it sends.

    ``tenant`` is None for partner operations. ``context`` carries ids the
    builder created or chose, for the checks that read the change back.
    """

    tenant: TenantTarget | None = None
    path_params: dict[str, str | int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    context: dict[str, Any] = field(default_factory=dict)


class Fleet:
    """The seeded partner fleet, reached through the real client.

    ``tenant`` is the partner's first tenant, which the seed gives every
    kind of object; ``other`` is its second tenant.
    """

    def __init__(self, client: SophosClient, partner_id: str) -> None:
        self.client = client
        self.partner_id = partner_id
        rows = list(SimTenant.objects.filter(partner_id=partner_id).order_by("seq"))
        self.tenants = [_target(row) for row in rows]
        self.tenant = self.tenants[0]
        self.other = self.tenants[1]

    # Calls through the client

    def call(
        self,
        name: str,
        *,
        tenant: TenantTarget | None = None,
        path_params: dict[str, str | int] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> ApiResponse:
        """Send one operation; tenant operations go to ``tenant`` by default."""
        target = None
        if catalog.get(name).scope == "tenant":
            target = tenant or self.tenant
        return self.client.call(
            name, tenant=target, path_params=path_params, params=params, json=json
        )

    def send(self, name: str, request: OperationInput) -> ApiResponse:
        return self.call(
            name,
            tenant=request.tenant,
            path_params=request.path_params,
            params=request.params,
            json=request.json,
        )

    def items(
        self, name: str, *, tenant: TenantTarget | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Return every item of a listing operation, all pages read."""
        target = None
        if catalog.get(name).scope == "tenant":
            target = tenant or self.tenant
        return list(self.client.paginate(name, tenant=target, **kwargs))

    # Seeded data, read from the simulator's store

    def stored(
        self, kind: str, tenant: TenantTarget | None = None, parent_id: str = ""
    ) -> list[dict[str, Any]]:
        """Return the stored objects of a collection, in list order."""
        if kind.startswith("partner/"):
            scope = self.partner_id
        else:
            scope = (tenant or self.tenant).id
        rows = store.listed(kind, scope, parent_id).order_by("seq")
        return [dict(row.data) for row in rows]

    def endpoints(
        self, kind: str = "computer", tenant: TenantTarget | None = None
    ) -> list[dict[str, Any]]:
        return [
            item for item in self.stored(ENDPOINT_KIND, tenant) if item["type"] == kind
        ]

    def endpoint(self, kind: str = "computer", *, isolated: bool = False) -> str:
        """Return an endpoint of the type in the requested isolation state."""
        for item in self.endpoints(kind):
            if (item["isolation"]["status"] == "isolated") == isolated:
                return str(item["id"])
        raise LookupError(f"no {kind} endpoint with isolated={isolated}")

    def group_with_members(self) -> tuple[str, list[str]]:
        """Return a computer group and the ids of its member endpoints."""
        for group in self.stored(GROUP_KIND):
            members = [
                item["id"]
                for item in self.stored(ENDPOINT_KIND)
                if item.get("group", {}).get("id") == group["id"]
            ]
            if group["type"] == "computer" and members:
                return group["id"], members
        raise LookupError("no computer group with members")

    def alert(self, action: str = "acknowledge") -> dict[str, Any]:
        for item in self.stored(ALERT_KIND):
            if action in item["allowedActions"]:
                return item
        raise LookupError(f"no alert allows {action}")

    def user_group_with_members(self) -> tuple[str, list[str]]:
        for group in self.stored(USER_GROUP_KIND):
            members = [
                row["id"]
                for row in self.stored(GROUP_USERS_KIND, parent_id=group["id"])
            ]
            if members:
                return group["id"], members
        raise LookupError("no user group with members")

    def user_with_groups(self) -> tuple[str, list[str]]:
        for user in self.stored(USER_KIND):
            groups = [
                row["id"] for row in self.stored(USER_GROUPS_KIND, parent_id=user["id"])
            ]
            if groups:
                return user["id"], groups
        raise LookupError("no user in a group")

    def user_outside(self, group_id: str) -> str:
        members = {
            row["id"] for row in self.stored(GROUP_USERS_KIND, parent_id=group_id)
        }
        admins = {
            user["id"]
            for admin in self.stored(TENANT.admin_kind)
            for user in admin.get("users", [])
        }
        for user in self.stored(USER_KIND):
            if user["id"] not in members | admins:
                return str(user["id"])
        raise LookupError(f"every user is in group {group_id} or an admin")

    def first(self, kind: str, **where: Any) -> dict[str, Any]:
        """Return the first stored object whose top-level fields match."""
        for item in self.stored(kind):
            if all(item.get(key) == value for key, value in where.items()):
                return item
        raise LookupError(f"no {kind} object with {where}")

    def firewall(self, **status: Any) -> dict[str, Any]:
        for item in self.stored(FIREWALL_KIND):
            if all(item["status"].get(key) == value for key, value in status.items()):
                return item
        raise LookupError(f"no firewall with status {status}")

    # Objects created for a test

    def create(self, name: str, body: Any, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = self.call(name, json=body, **kwargs).data
        return data

    def new_user(self, **extra: Any) -> dict[str, Any]:
        stamp = _unique()
        body = {
            "name": f"Robin Vale {stamp}",
            "firstName": "Robin",
            "lastName": f"Vale {stamp}",
            "email": f"robin.vale.{stamp}@example.com",
            "exchangeLogin": f"rvale{stamp}",
            **extra,
        }
        return self.create("user_create", body)

    def new_user_group(self, **extra: Any) -> dict[str, Any]:
        body = {"name": f"Auditors {_unique()}", "description": "Yearly audit", **extra}
        return self.create("user_group_create", body)

    def new_policy(self, **extra: Any) -> dict[str, Any]:
        body = {"name": f"Strict {_unique()}", "type": THREAT_POLICY, **extra}
        return self.create("policy_create", body)

    def new_role(self, realm: str = "tenant") -> dict[str, Any]:
        name = "tenant_role_create" if realm == "tenant" else "partner_role_create"
        body = {
            "name": f"Desk {_unique()}",
            "description": "First-line support",
            "principalType": "user",
            "permissionSets": ["central_helpdesk"],
        }
        return self.create(name, body)

    def new_tenant_admin(self) -> dict[str, Any]:
        user = self.new_user()
        role = self.first(TENANT.role_kind, name="Help Desk")
        body = {"userId": user["id"], "roleAssignments": [{"roleId": role["id"]}]}
        return self.create("tenant_admin_create", body)

    def new_partner_admin(self) -> dict[str, Any]:
        role = self.first(PARTNER.role_kind, name="Admin")
        stamp = _unique()
        body = {
            "username": f"kim.lee.{stamp}@brightline.example",
            "profile": {
                "name": "Kim Lee",
                "firstName": "Kim",
                "lastName": "Lee",
                "phone": "+1-555-123-4567",
                "mobile": "+1-555-765-4321",
                "fax": "+1-555-123-0000",
            },
            "roleAssignments": [{"roleId": role["id"], "scope": {"type": "partner"}}],
        }
        return self.create("partner_admin_create", body)

    def new_network_exclusion(self, name: str) -> dict[str, Any]:
        body = {
            "localPorts": [3389],
            "remotePorts": [443],
            "direction": "inbound",
            "remoteAddresses": ["10.50.100.100"],
            "comment": "Remote support",
        }
        return self.create(name, body)

    def new_allowed_item(self) -> dict[str, Any]:
        body = {
            **allowed_item_body(),
            "originPersonId": self.stored(USER_KIND)[0]["id"],
            "originEndpointId": self.endpoint(),
        }
        return self.create("allowed_item_create", body)

    def new_blocked_item(self) -> dict[str, Any]:
        body = {
            "type": "sha256",
            "properties": {
                "sha256": SHA256_BLOCKED,
                "fileName": "invoice.exe",
                "path": "C:\\Users\\Public\\Downloads\\invoice.exe",
            },
            "comment": "Phishing payload",
        }
        return self.create("blocked_item_create", body)

    def new_scanning_exclusion(self) -> dict[str, Any]:
        body = {
            "value": "D:\\Backups\\",
            "type": "path",
            "scanMode": "onDemand",
            "comment": "Nightly backups",
        }
        return self.create("scanning_exclusion_create", body)

    def new_local_site(self) -> dict[str, Any]:
        body = {
            "url": "https://wiki.local",
            "categoryId": 8,
            "tags": ["internal"],
            "comment": "Team wiki",
        }
        return self.create("local_site_create", body)

    def new_application(self) -> dict[str, Any]:
        body = {"paths": [f"$programfiles\\FooApp {_unique()}\\foo.exe"]}
        return self.create("exploit_mitigation_application_create", body)

    def new_migration(self) -> dict[str, Any]:
        """Create a receiving job in ``tenant`` for two of ``other``'s endpoints."""
        endpoint_ids = [item["id"] for item in self.endpoints(tenant=self.other)[:2]]
        body = {"fromTenant": self.other.id, "endpoints": endpoint_ids}
        job = self.create("migration_create", body)
        return {**job, "endpointIds": endpoint_ids}

    def new_firewall_group(self, firewall_ids: list[str]) -> dict[str, Any]:
        """Create a subgroup of the seeded group that imports its configuration."""
        parent = self.stored(FIREWALL_GROUP_KIND)[0]
        body = {
            "name": f"Branch {_unique()}",
            "assignFirewalls": firewall_ids,
            "configImportSourceFirewallId": self.first(FIREWALL_KIND)["id"],
            "parentGroupId": parent["id"],
        }
        return self.create("firewall_group_create", body)

    def comment_package(self, package_id: str) -> dict[str, Any]:
        return self.create(
            "package_comment_update",
            {"comment": "Pinned for the CAD workstations"},
            path_params={"staticPackageId": package_id},
        )


def allowed_item_body() -> dict[str, Any]:
    return {
        "type": "sha256",
        "properties": {
            "sha256": SHA256_ALLOWED,
            "fileName": "ledger.exe",
            "path": "C:\\Program Files\\Ledger\\ledger.exe",
        },
        "comment": "Line-of-business tool",
    }


_counter = iter(range(1, 1_000_000))


def _unique() -> int:
    return next(_counter)


def _target(row: SimTenant) -> TenantTarget:
    return TenantTarget(
        id=row.id, api_host=f"https://api-{row.data_region}.central.sophos.com"
    )


@contextmanager
def open_fleet() -> Iterator[Fleet]:
    """Open a client with the demo credential over the in-process simulator."""
    credential = demo_credential()
    client = SophosClient(
        client_id=credential.client_id,
        client_secret=credential.client_secret,
        transport=SimulatorTransport(),
        max_retries=0,
    )
    with client:
        yield Fleet(client, credential.partner_id)


def last_month() -> tuple[int, int]:
    today = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    return today.year, today.month


# -- builders ---------------------------------------------------------------------

Builder = Callable[[Fleet], OperationInput]
INPUTS: dict[str, Builder] = {}


def inputs(*names: str) -> Callable[[Builder], Builder]:
    """Register the decorated builder for the named operations."""

    def register(builder: Builder) -> Builder:
        for name in names:
            if name in INPUTS:
                raise ValueError(f"{name} has two input builders")
            INPUTS[name] = builder
        return builder

    return register


def build(name: str, fleet: Fleet) -> OperationInput:
    """Return the input of an operation, or fail when it has no builder."""
    try:
        builder = INPUTS[name]
    except KeyError:
        raise LookupError(
            f"Operation {name} has no input builder: add one to "
            "tests/sophos/operation_inputs.py."
        ) from None
    request = builder(fleet)
    operation = catalog.get(name)
    tenant = request.tenant
    if operation.scope == "tenant" and tenant is None:
        tenant = fleet.tenant
    # Builders shared by a read and a write give a body; reads send none.
    body = None if operation.method in {"GET", "DELETE"} else request.json
    return OperationInput(
        tenant, request.path_params, request.params, body, request.context
    )


def _plain(fleet: Fleet) -> OperationInput:
    return OperationInput()


def _paged(fleet: Fleet) -> OperationInput:
    return OperationInput(params={"pageTotal": True})


for _name in (
    "partner_admins_list",
    "partner_roles_list",
    "partner_permission_sets_list",
    "alerts_list",
    "endpoints_list",
    "global_tamper_protection_get",
    "endpoint_groups_list",
    "policies_list",
    "policy_settings_metadata_get",
    "allowed_items_list",
    "blocked_items_list",
    "scanning_exclusions_list",
    "detected_exploits_list",
    "exploit_mitigation_categories_list",
    "exploit_mitigation_applications_list",
    "local_sites_list",
    "web_categories_list",
    "tls_decryption_settings_get",
    "peripherals_list",
    "users_list",
    "user_groups_list",
    "tenant_admins_list",
    "tenant_roles_list",
    "tenant_permission_sets_list",
    "recommended_packages_list",
    "static_packages_list",
    "installers_list",
    "firewalls_list",
):
    paged = catalog.get(_name).paging != "none"
    INPUTS[_name] = _paged if paged else _plain


# Partner: tenants, admins, roles, billing


@inputs("tenants_list")
def _tenants_list(fleet: Fleet) -> OperationInput:
    return OperationInput(params={"pageTotal": True})


@inputs("tenant_create")
def _tenant_create(fleet: Fleet) -> OperationInput:
    body = {
        "name": "Harbor Dental GmbH",
        "showAs": "Harbor Dental",
        "dataGeography": "DE",
        "billingType": "trial",
        "contact": {
            "firstName": "Lena",
            "lastName": "Weber",
            "email": "lena.weber@harbordental.example",
            "phone": "+49-30-555-0100",
        },
    }
    return OperationInput(json=body)


@inputs("tenant_get")
def _tenant_get(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"tenantId": fleet.tenant.id})


@inputs("partner_admin_create")
def _partner_admin_create(fleet: Fleet) -> OperationInput:
    role = fleet.first(PARTNER.role_kind, name="Admin")
    body = {
        "username": "sam.okafor@brightline.example",
        "profile": {
            "firstName": "Sam",
            "lastName": "Okafor",
            "phone": "+1-555-0101",
            "mobile": "+1-555-0102",
            "fax": "+1-555-0103",
        },
        "roleAssignments": [{"roleId": role["id"], "scope": {"type": "partner"}}],
    }
    return OperationInput(json=body)


@inputs("partner_admin_get")
def _partner_admin_get(fleet: Fleet) -> OperationInput:
    admin = fleet.new_partner_admin()
    return OperationInput(path_params={"adminId": admin["id"]})


@inputs("partner_admin_role_assignments_list")
def _partner_assignments_list(fleet: Fleet) -> OperationInput:
    admin = fleet.stored(PARTNER.admin_kind)[0]
    return OperationInput(
        path_params={"adminId": admin["id"]}, context={"admin": admin}
    )


@inputs("partner_admin_role_assignment_create")
def _partner_assignment_create(fleet: Fleet) -> OperationInput:
    admin = fleet.stored(PARTNER.admin_kind)[0]
    role = fleet.first(PARTNER.role_kind, name="Help Desk")
    body = {"roleId": role["id"], "scope": {"type": "tenant", "id": fleet.tenant.id}}
    return OperationInput(path_params={"adminId": admin["id"]}, json=body)


@inputs("partner_admin_role_assignment_get")
def _partner_assignment_get(fleet: Fleet) -> OperationInput:
    admin = fleet.stored(PARTNER.admin_kind)[0]
    role = fleet.first(PARTNER.role_kind, name="Read-only")
    assignment = fleet.create(
        "partner_admin_role_assignment_create",
        {"roleId": role["id"], "scope": {"type": "tenant", "id": fleet.tenant.id}},
        path_params={"adminId": admin["id"]},
    )
    return OperationInput(
        path_params={"adminId": admin["id"], "assignmentId": assignment["id"]},
        context={"assignment": assignment},
    )


@inputs("partner_admin_role_assignment_delete")
def _partner_assignment_delete(fleet: Fleet) -> OperationInput:
    admin = fleet.new_partner_admin()
    assignment = admin["roleAssignments"][0]
    return OperationInput(
        path_params={"adminId": admin["id"], "assignmentId": assignment["id"]}
    )


@inputs("partner_role_create", "tenant_role_create")
def _role_create(fleet: Fleet) -> OperationInput:
    body = {
        "name": "Endpoint operators",
        "description": "Manage endpoints, read everything else",
        "principalType": "user",
        "permissionSets": ["central_read_only", "endpoint_product_admin"],
    }
    return OperationInput(json=body)


@inputs("partner_role_get")
def _partner_role_get(fleet: Fleet) -> OperationInput:
    role = fleet.new_role("partner")
    return OperationInput(path_params={"roleId": role["id"]})


@inputs("partner_role_delete", "partner_role_update")
def _partner_role_change(fleet: Fleet) -> OperationInput:
    role = fleet.new_role("partner")
    return OperationInput(
        path_params={"roleId": role["id"]},
        json={
            "description": "Second-line support",
            "permissionSets": ["central_admin"],
        },
    )


@inputs("partner_billing_usage_list")
def _billing(fleet: Fleet) -> OperationInput:
    year, month = last_month()
    return OperationInput(
        path_params={"year": year, "month": month}, params={"pageTotal": True}
    )


# Alerts


@inputs("alert_get")
def _alert_get(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"alertId": fleet.alert()["id"]})


@inputs("alert_action_perform")
def _alert_action(fleet: Fleet) -> OperationInput:
    alert = fleet.alert("acknowledge")
    return OperationInput(
        path_params={"alertId": alert["id"]},
        json={"action": "acknowledge", "message": "Seen by the service desk"},
    )


# Endpoints, isolation, tamper protection


@inputs(
    "endpoint_delete",
    "endpoint_scan_start",
    "endpoint_update_check_start",
)
def _endpoint(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"endpointId": fleet.endpoint()})


@inputs("endpoint_get")
def _endpoint_get(fleet: Fleet) -> OperationInput:
    in_cloud = [item for item in fleet.stored(ENDPOINT_KIND) if "cloud" in item]
    return OperationInput(
        path_params={"endpointId": in_cloud[0]["id"]}, params={"view": "full"}
    )


def _isolate_and_release(fleet: Fleet, endpoint_id: str) -> None:
    """Give an endpoint both a last isolation and a last release."""
    for enabled in (True, False):
        fleet.call(
            "endpoint_isolation_update",
            path_params={"endpointId": endpoint_id},
            json={"enabled": enabled, "comment": "Checked by the service desk"},
        )


@inputs("endpoint_isolation_get")
def _isolation_get(fleet: Fleet) -> OperationInput:
    endpoint_id = fleet.endpoint()
    _isolate_and_release(fleet, endpoint_id)
    return OperationInput(path_params={"endpointId": endpoint_id})


@inputs("endpoint_tamper_protection_get")
def _tamper_get(fleet: Fleet) -> OperationInput:
    endpoint_id = fleet.endpoint()
    fleet.call(
        "endpoint_tamper_protection_update",
        path_params={"endpointId": endpoint_id},
        json={"regeneratePassword": True},
    )
    return OperationInput(path_params={"endpointId": endpoint_id})


@inputs("endpoints_isolation_update")
def _isolate_many(fleet: Fleet) -> OperationInput:
    ids = [
        item["id"]
        for item in fleet.endpoints()
        if item["isolation"]["status"] == "notIsolated"
    ][:2]
    return OperationInput(
        json={"enabled": True, "ids": ids, "comment": "Ransomware outbreak"},
        context={"ids": ids},
    )


@inputs("endpoint_isolation_update")
def _isolate_one(fleet: Fleet) -> OperationInput:
    endpoint_id = fleet.endpoint()
    _isolate_and_release(fleet, endpoint_id)
    return OperationInput(
        path_params={"endpointId": endpoint_id},
        json={"enabled": True, "comment": "Suspicious beaconing"},
    )


@inputs("endpoint_tamper_protection_update")
def _tamper_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"endpointId": fleet.endpoint()},
        json={"enabled": False, "regeneratePassword": True},
    )


# Endpoint groups


@inputs("endpoint_group_create")
def _group_create(fleet: Fleet) -> OperationInput:
    computer = fleet.endpoints()[-1]["id"]
    body = {
        "name": "Front desk",
        "description": "Reception PCs",
        "type": "computer",
        "endpointIds": [computer],
    }
    return OperationInput(json=body, context={"endpointId": computer})


@inputs("endpoint_groups_by_type_list")
def _groups_by_type(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"groupType": "server"}, params={"pageTotal": True}
    )


@inputs("endpoint_group_get", "endpoint_group_endpoints_list")
def _group_get(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.group_with_members()
    return OperationInput(
        path_params={"groupId": group_id}, context={"members": members}
    )


@inputs("endpoint_group_delete", "endpoint_group_update")
def _group_change(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.group_with_members()
    return OperationInput(
        path_params={"groupId": group_id},
        json={"name": "Head office PCs", "description": "Renamed"},
        context={"members": members},
    )


@inputs("endpoint_group_endpoints_add")
def _group_add(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.group_with_members()
    outsiders = [item["id"] for item in fleet.endpoints() if item["id"] not in members][
        :2
    ]
    return OperationInput(path_params={"groupId": group_id}, json={"ids": outsiders})


@inputs("endpoint_group_endpoints_remove")
def _group_remove(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.group_with_members()
    return OperationInput(
        path_params={"groupId": group_id}, params={"ids": members[:1]}
    )


@inputs("endpoint_group_endpoint_remove")
def _group_remove_one(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.group_with_members()
    return OperationInput(path_params={"groupId": group_id, "endpointId": members[0]})


# Policies


@inputs("policy_create")
def _policy_create(fleet: Fleet) -> OperationInput:
    user_id = fleet.stored(USER_KIND)[0]["id"]
    group_id = fleet.stored(USER_GROUP_KIND)[0]["id"]
    body = {
        "name": "Finance lockdown",
        "type": THREAT_POLICY,
        "priority": 1,
        "enabled": True,
        "disableAt": "2030-01-31T22:00:00.000Z",
        "appliesTo": {"users": [user_id], "userGroups": [group_id]},
        "settings": {SCHEDULE_SETTING: {"value": True}},
    }
    return OperationInput(json=body)


@inputs(
    "policy_get",
    "policy_delete",
    "policy_settings_get",
    "policy_settings_reset",
    "policy_clone",
)
def _policy(fleet: Fleet) -> OperationInput:
    policy = fleet.new_policy(
        disableAt="2030-01-31T22:00:00.000Z",
        settings={MALWARE_SETTING: {"value": False}},
    )
    return OperationInput(
        path_params={"policyId": policy["id"]},
        json={"name": "Strict (copy)"},
        context={"policy": policy},
    )


@inputs("policy_update")
def _policy_update(fleet: Fleet) -> OperationInput:
    policy = fleet.new_policy(disableAt="2030-01-31T22:00:00.000Z")
    user_id = fleet.stored(USER_KIND)[0]["id"]
    body = {
        "name": "Strict (finance)",
        "enabled": False,
        "appliesTo": {"users": [user_id]},
    }
    return OperationInput(path_params={"policyId": policy["id"]}, json=body)


@inputs("policy_settings_update")
def _policy_settings_update(fleet: Fleet) -> OperationInput:
    policy = fleet.new_policy()
    return OperationInput(
        path_params={"policyId": policy["id"]},
        json={SCHEDULE_SETTING: {"value": True}},
    )


@inputs("policy_setting_get", "policy_setting_reset")
def _policy_setting(fleet: Fleet) -> OperationInput:
    policy = fleet.new_policy(settings={MALWARE_SETTING: {"value": False}})
    return OperationInput(
        path_params={"policyId": policy["id"], "settingKey": MALWARE_SETTING}
    )


@inputs(
    "base_policy_get",
    "base_policy_settings_get",
    "base_policy_settings_reset",
    "base_policy_clone",
)
def _base_policy(fleet: Fleet) -> OperationInput:
    fleet.call(
        "base_policy_setting_update",
        path_params={"policyType": THREAT_POLICY, "settingKey": MALWARE_SETTING},
        json={"value": False},
    )
    return OperationInput(
        path_params={"policyType": THREAT_POLICY}, json={"name": "Base copy"}
    )


@inputs("base_policy_update")
def _base_policy_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"policyType": THREAT_POLICY},
        json={"settings": {SCHEDULE_SETTING: {"value": True}}},
    )


@inputs("base_policy_settings_update")
def _base_settings_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"policyType": THREAT_POLICY},
        json={SCHEDULE_SETTING: {"value": True}},
    )


@inputs("base_policy_setting_get", "base_policy_setting_reset")
def _base_setting(fleet: Fleet) -> OperationInput:
    fleet.call(
        "base_policy_setting_update",
        path_params={"policyType": THREAT_POLICY, "settingKey": MALWARE_SETTING},
        json={"value": False},
    )
    return OperationInput(
        path_params={"policyType": THREAT_POLICY, "settingKey": MALWARE_SETTING}
    )


@inputs("base_policy_setting_update")
def _base_setting_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"policyType": THREAT_POLICY, "settingKey": MALWARE_SETTING},
        json={"value": False},
    )


# Allowed and blocked items, exclusions, local sites


@inputs("allowed_item_create")
def _allowed_create(fleet: Fleet) -> OperationInput:
    person = fleet.stored(USER_KIND)[0]
    body = {
        **allowed_item_body(),
        "originPersonId": person["id"],
        "originEndpointId": fleet.endpoint(),
    }
    return OperationInput(json=body, context={"person": person})


@inputs("allowed_item_get", "allowed_item_update", "allowed_item_delete")
def _allowed_item(fleet: Fleet) -> OperationInput:
    item = fleet.new_allowed_item()
    return OperationInput(
        path_params={"allowedItemId": item["id"]},
        json={"comment": "Approved by the customer's IT lead"},
    )


@inputs("blocked_item_create")
def _blocked_create(fleet: Fleet) -> OperationInput:
    body = {
        "type": "sha256",
        "properties": {
            "sha256": SHA256_BLOCKED,
            "fileName": "invoice.exe",
            "path": "C:\\Users\\Public\\Downloads\\invoice.exe",
        },
        "comment": "Phishing payload",
    }
    return OperationInput(json=body)


@inputs("blocked_item_get", "blocked_item_delete")
def _blocked_item(fleet: Fleet) -> OperationInput:
    item = fleet.new_blocked_item()
    return OperationInput(path_params={"blockedItemId": item["id"]})


@inputs("scanning_exclusion_create")
def _scanning_create(fleet: Fleet) -> OperationInput:
    body = {
        "value": "sqlservr.exe",
        "type": "process",
        "scanMode": "onAccess",
        "comment": "Database server",
    }
    return OperationInput(json=body)


@inputs(
    "scanning_exclusion_get", "scanning_exclusion_update", "scanning_exclusion_delete"
)
def _scanning_exclusion(fleet: Fleet) -> OperationInput:
    item = fleet.new_scanning_exclusion()
    return OperationInput(
        path_params={"exclusionId": item["id"]},
        json={"scanMode": "onDemandAndOnAccess", "comment": "All scans"},
    )


@inputs("isolation_exclusion_create", "intrusion_prevention_exclusion_create")
def _network_exclusion_create(fleet: Fleet) -> OperationInput:
    body = {
        "localPorts": [5900],
        "remotePorts": [443, 8443],
        "direction": "outbound",
        "remoteAddresses": ["192.0.2.10"],
        "comment": "Remote management",
    }
    return OperationInput(json=body)


def _network_exclusion(create: str) -> Builder:
    def build_input(fleet: Fleet) -> OperationInput:
        item = fleet.new_network_exclusion(create)
        return OperationInput(
            path_params={"exclusionId": item["id"]},
            json={"direction": "both", "comment": "Both ways"},
        )

    return build_input


for _prefix in ("isolation_exclusion", "intrusion_prevention_exclusion"):
    for _suffix in ("get", "update", "delete"):
        INPUTS[f"{_prefix}_{_suffix}"] = _network_exclusion(f"{_prefix}_create")


@inputs("isolation_exclusions_list", "intrusion_prevention_exclusions_list")
def _network_exclusions_list(fleet: Fleet) -> OperationInput:
    fleet.new_network_exclusion("isolation_exclusion_create")
    fleet.new_network_exclusion("intrusion_prevention_exclusion_create")
    return OperationInput(params={"pageTotal": True})


@inputs("detected_exploit_get")
def _detected_exploit(fleet: Fleet) -> OperationInput:
    exploit = fleet.stored(DETECTED_EXPLOIT_KIND)[0]
    return OperationInput(path_params={"detectedExploitId": exploit["id"]})


@inputs("exploit_mitigation_application_create")
def _application_create(fleet: Fleet) -> OperationInput:
    return OperationInput(json={"paths": ["$programfiles\\Ledger\\ledger.exe"]})


@inputs(
    "exploit_mitigation_application_get",
    "exploit_mitigation_application_update",
    "exploit_mitigation_application_delete",
)
def _application(fleet: Fleet) -> OperationInput:
    application = fleet.new_application()
    body = {"modifications": {"protected": True, "settings": {"HeapSpray": False}}}
    return OperationInput(
        path_params={"exploitMitigationApplicationId": application["id"]}, json=body
    )


@inputs("local_site_create")
def _local_site_create(fleet: Fleet) -> OperationInput:
    body = {
        "url": "https://erp.local",
        "categoryId": 10,
        "tags": ["internal", "finance"],
        "comment": "ERP system",
    }
    return OperationInput(json=body)


@inputs("local_site_get", "local_site_update", "local_site_delete")
def _local_site(fleet: Fleet) -> OperationInput:
    site = fleet.new_local_site()
    return OperationInput(
        path_params={"localSiteId": site["id"]},
        json={"tags": ["internal", "wiki"], "comment": "Team wiki, moved"},
    )


# Web control, peripherals, event journal


@inputs("tls_decryption_settings_update")
def _tls_update(fleet: Fleet) -> OperationInput:
    return OperationInput(json={"categories": [{"id": 5, "decryptionEnabled": False}]})


def _exclude_website(fleet: Fleet) -> None:
    fleet.call(
        "tls_excluded_websites_update",
        json={"add": [{"value": "bank.example", "comment": "Pinned certificates"}]},
    )


@inputs("tls_excluded_websites_list")
def _excluded_websites(fleet: Fleet) -> OperationInput:
    _exclude_website(fleet)
    return OperationInput(params={"pageTotal": True})


@inputs("tls_excluded_websites_clear")
def _excluded_websites_clear(fleet: Fleet) -> OperationInput:
    _exclude_website(fleet)
    return OperationInput()


@inputs("tls_excluded_websites_update")
def _excluded_websites_update(fleet: Fleet) -> OperationInput:
    fleet.call(
        "tls_excluded_websites_update",
        json={"add": [{"value": "old.example", "comment": "Legacy portal"}]},
    )
    body = {
        "add": [{"value": "health.example", "comment": "Patient portal"}],
        "remove": [{"value": "old.example"}],
    }
    return OperationInput(json=body)


@inputs("peripheral_get")
def _peripheral(fleet: Fleet) -> OperationInput:
    peripheral = fleet.stored(PERIPHERAL_KIND)[0]
    return OperationInput(path_params={"peripheralId": peripheral["id"]})


@inputs("event_journal_settings_get")
def _event_journal_get(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"endpointType": "server"})


@inputs("event_journal_settings_update")
def _event_journal_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"endpointType": "computer"},
        json={
            "useRecommended": False,
            "diskSpaceLimitInMB": 15000,
            "diskSpaceLimitAsPercentage": 20,
        },
    )


# Directory


@inputs("user_create")
def _user_create(fleet: Fleet) -> OperationInput:
    group_id = fleet.stored(USER_GROUP_KIND)[0]["id"]
    body = {
        "name": "Jordan Blake",
        "firstName": "Jordan",
        "lastName": "Blake",
        "email": "jordan.blake@example.com",
        "exchangeLogin": "jblake",
        "groupIds": [group_id],
    }
    return OperationInput(json=body, context={"groupId": group_id})


@inputs("user_get", "user_memberships_list")
def _user_in_groups(fleet: Fleet) -> OperationInput:
    user_id, groups = fleet.user_with_groups()
    return OperationInput(path_params={"userId": user_id}, context={"groups": groups})


@inputs("user_update", "user_delete")
def _user_change(fleet: Fleet) -> OperationInput:
    group_id = fleet.stored(USER_GROUP_KIND)[0]["id"]
    user = fleet.new_user(groupIds=[group_id])
    return OperationInput(
        path_params={"userId": user["id"]},
        json={"email": "robin.vale@harbor.example", "lastName": "Vale-Ortiz"},
        context={"groupId": group_id},
    )


@inputs("user_group_create")
def _user_group_create(fleet: Fleet) -> OperationInput:
    users = [item["id"] for item in fleet.stored(USER_KIND)[:2]]
    body = {"name": "Sophos admins", "description": "Central access", "userIds": users}
    return OperationInput(json=body, context={"users": users})


@inputs("user_group_get", "user_group_users_list")
def _user_group_with_members(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.user_group_with_members()
    return OperationInput(
        path_params={"groupId": group_id}, context={"members": members}
    )


@inputs("user_group_update")
def _user_group_update(fleet: Fleet) -> OperationInput:
    group = fleet.new_user_group(userIds=[fleet.stored(USER_KIND)[0]["id"]])
    return OperationInput(
        path_params={"groupId": group["id"]},
        json={"name": f"{group['name']} (renamed)", "description": "Renamed"},
    )


@inputs("user_group_delete")
def _user_group_change(fleet: Fleet) -> OperationInput:
    group = fleet.new_user_group()
    return OperationInput(
        path_params={"groupId": group["id"]},
        json={"name": f"{group['name']} (renamed)", "description": "Renamed"},
    )


@inputs("user_memberships_add")
def _user_memberships_add(fleet: Fleet) -> OperationInput:
    user_id, groups = fleet.user_with_groups()
    outside = [
        item["id"] for item in fleet.stored(USER_GROUP_KIND) if item["id"] not in groups
    ]
    if not outside:
        outside = [fleet.new_user_group()["id"]]
    return OperationInput(path_params={"userId": user_id}, json={"ids": outside[:1]})


@inputs("user_memberships_remove")
def _user_memberships_remove(fleet: Fleet) -> OperationInput:
    user_id, groups = fleet.user_with_groups()
    return OperationInput(path_params={"userId": user_id}, params={"ids": groups[:1]})


@inputs("user_group_users_add")
def _group_users_add(fleet: Fleet) -> OperationInput:
    group_id, _members = fleet.user_group_with_members()
    return OperationInput(
        path_params={"groupId": group_id}, json={"ids": [fleet.user_outside(group_id)]}
    )


@inputs("user_group_users_remove")
def _group_users_remove(fleet: Fleet) -> OperationInput:
    group_id, members = fleet.user_group_with_members()
    return OperationInput(
        path_params={"groupId": group_id}, params={"ids": members[:1]}
    )


# Tenant admins and roles


@inputs("tenant_admin_create")
def _tenant_admin_create(fleet: Fleet) -> OperationInput:
    user = fleet.new_user()
    role = fleet.first(TENANT.role_kind, name="Admin")
    body = {"userId": user["id"], "roleAssignments": [{"roleId": role["id"]}]}
    return OperationInput(json=body, context={"user": user})


@inputs(
    "tenant_admin_get",
    "tenant_admin_delete",
    "tenant_admin_role_assignments_list",
    "tenant_admin_role_assignment_create",
)
def _tenant_admin(fleet: Fleet) -> OperationInput:
    admin = fleet.new_tenant_admin()
    role = fleet.first(TENANT.role_kind, name="Read-only")
    return OperationInput(
        path_params={"adminId": admin["id"]},
        json={"roleId": role["id"]},
        context={"admin": admin},
    )


@inputs("tenant_admin_role_assignment_get", "tenant_admin_role_assignment_delete")
def _tenant_assignment(fleet: Fleet) -> OperationInput:
    admin = fleet.new_tenant_admin()
    assignment = admin["roleAssignments"][0]
    return OperationInput(
        path_params={"adminId": admin["id"], "assignmentId": assignment["id"]},
        context={"assignment": assignment},
    )


@inputs("tenant_role_get")
def _tenant_role_get(fleet: Fleet) -> OperationInput:
    role = fleet.new_role()
    return OperationInput(path_params={"roleId": role["id"]})


@inputs("tenant_role_delete", "tenant_role_update")
def _tenant_role_change(fleet: Fleet) -> OperationInput:
    role = fleet.new_role()
    return OperationInput(
        path_params={"roleId": role["id"]},
        json={"name": f"{role['name']} (senior)", "permissionSets": ["central_admin"]},
    )


# Migrations


@inputs("migration_create")
def _migration_create(fleet: Fleet) -> OperationInput:
    endpoint_ids = [item["id"] for item in fleet.endpoints(tenant=fleet.other)[:2]]
    return OperationInput(
        json={"fromTenant": fleet.other.id, "endpoints": endpoint_ids},
        context={"endpointIds": endpoint_ids},
    )


@inputs("migrations_list")
def _migrations(fleet: Fleet) -> OperationInput:
    job = fleet.new_migration()
    return OperationInput(params={"pageTotal": True}, context={"job": job})


@inputs("migration_get", "migration_endpoints_list")
def _migration(fleet: Fleet) -> OperationInput:
    job = fleet.new_migration()
    return OperationInput(
        path_params={"migrationJobId": job["id"]}, context={"job": job}
    )


@inputs("migration_start")
def _migration_start(fleet: Fleet) -> OperationInput:
    job = fleet.new_migration()
    return OperationInput(
        tenant=fleet.other,
        path_params={"migrationJobId": job["id"]},
        json={"token": job["token"], "endpoints": job["endpointIds"]},
        context={"job": job},
    )


# Software packages


@inputs("static_package_get")
def _static_package(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"staticPackageId": STATIC_PACKAGES[0]["id"]})


@inputs("special_package_add")
def _special_package(fleet: Fleet) -> OperationInput:
    return OperationInput(path_params={"staticPackageId": SPECIAL_PACKAGES[0]["id"]})


@inputs("package_comments_list")
def _package_comments(fleet: Fleet) -> OperationInput:
    fleet.comment_package(STATIC_PACKAGES[0]["id"])
    return OperationInput()


@inputs("package_comment_get", "package_comment_delete")
def _package_comment(fleet: Fleet) -> OperationInput:
    fleet.comment_package(STATIC_PACKAGES[1]["id"])
    return OperationInput(path_params={"staticPackageId": STATIC_PACKAGES[1]["id"]})


@inputs("package_comment_update")
def _package_comment_update(fleet: Fleet) -> OperationInput:
    return OperationInput(
        path_params={"staticPackageId": STATIC_PACKAGES[2]["id"]},
        json={"comment": "Only for the lab servers"},
    )


# Firewalls and firewall groups


@inputs("firewall_update")
def _firewall_update(fleet: Fleet) -> OperationInput:
    firewall = fleet.first(FIREWALL_KIND)
    body = {
        "name": "Head office primary",
        "geoLocation": {"latitude": "53.35", "longitude": "-6.26"},
    }
    return OperationInput(path_params={"firewallId": firewall["id"]}, json=body)


@inputs("firewall_delete")
def _firewall_delete(fleet: Fleet) -> OperationInput:
    firewall = fleet.firewall(managing="approvalPending")
    return OperationInput(path_params={"firewallId": firewall["id"]})


@inputs("firewall_action_run")
def _firewall_action(fleet: Fleet) -> OperationInput:
    firewall = fleet.firewall(managing="approvalPending")
    return OperationInput(
        path_params={"firewallId": firewall["id"]}, json={"action": "approveManagement"}
    )


@inputs("firewalls_firmware_check")
def _firmware_check(fleet: Fleet) -> OperationInput:
    ids = [item["id"] for item in fleet.stored(FIREWALL_KIND)]
    return OperationInput(json={"firewalls": ids})


@inputs("firewalls_firmware_upgrade")
def _firmware_upgrade(fleet: Fleet) -> OperationInput:
    firewall = fleet.first(FIREWALL_KIND)
    check = fleet.call("firewalls_firmware_check", json={"firewalls": [firewall["id"]]})
    version = check.data["firewalls"][0]["upgradeToVersion"][0]
    body = {
        "firewalls": [
            {
                "id": firewall["id"],
                "upgradeToVersion": version,
                "upgradeAt": "2030-03-01T02:00:00.000Z",
            }
        ]
    }
    return OperationInput(json=body, context={"version": version})


@inputs("firewalls_firmware_upgrade_cancel")
def _firmware_cancel(fleet: Fleet) -> OperationInput:
    firewall = fleet.first(FIREWALL_KIND)
    request = _firmware_upgrade(fleet)
    fleet.call("firewalls_firmware_upgrade", json=request.json)
    return OperationInput(params={"ids": [firewall["id"]]})


@inputs("firewall_group_create")
def _firewall_group_create(fleet: Fleet) -> OperationInput:
    pending = fleet.firewall(managing="approvalPending")
    source = fleet.first(FIREWALL_KIND)
    parent = fleet.stored(FIREWALL_GROUP_KIND)[0]
    body = {
        "name": "Branch offices",
        "assignFirewalls": [pending["id"]],
        "configImportSourceFirewallId": source["id"],
        "parentGroupId": parent["id"],
    }
    return OperationInput(json=body, context={"firewallId": pending["id"]})


@inputs("firewall_group_update")
def _firewall_group_update(fleet: Fleet) -> OperationInput:
    member = fleet.firewall(managing="approved")["id"]
    group = fleet.new_firewall_group([member])
    pending = fleet.firewall(managing="approvalPending")
    body = {
        "name": "Head office (HA)",
        "assignFirewalls": [pending["id"]],
        "unassignFirewalls": [member],
    }
    return OperationInput(
        path_params={"groupId": group["id"]},
        json=body,
        context={"added": pending["id"], "removed": [member]},
    )


@inputs("firewall_groups_list")
def _firewall_groups_list(fleet: Fleet) -> OperationInput:
    fleet.new_firewall_group([fleet.firewall(managing="approvalPending")["id"]])
    return OperationInput(params={"pageTotal": True})


@inputs("firewall_group_delete", "firewall_group_sync_status_list")
def _firewall_group(fleet: Fleet) -> OperationInput:
    group = fleet.stored(FIREWALL_GROUP_KIND)[0]
    return OperationInput(
        path_params={"groupId": group["id"]}, context={"group": group}
    )


def missing_inputs() -> list[str]:
    """Return the catalog operations that have no input builder."""
    return [op.name for op in catalog.all_operations() if op.name not in INPUTS]


def unknown_inputs() -> list[str]:
    """Return the builder names that are not catalog operations."""
    names = {op.name for op in catalog.all_operations()}
    return sorted(set(INPUTS) - names)
