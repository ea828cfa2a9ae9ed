"""Regenerate sophos/catalog.json from an offline Sophos Central reference folder.

Usage::

    .venv/bin/python scripts/build_catalog.py REFERENCE_DIR [--output PATH]

REFERENCE_DIR contains a ``catalog.json`` with one row per Sophos Central action
(method, path, scope, paging, query parameters, body fields, success status).
This script keeps those structured facts and adds the project's own operation
names, titles, descriptions, categories and page size limits from the tables
below. It fails when a reference row has no entry in the tables or an entry
matches no row, so a changed reference cannot slip through unnoticed.

Maintainers run it by hand; nothing runs it at test or run time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_DIR / "sophos" / "catalog.json"

# The reference's pass-through action, which is not a Sophos route. The API
# console sends such free-form requests itself, so the catalog leaves it out.
GENERIC_REQUEST_CATEGORY = "Generic Request"

# Reference category -> (our category name, label), in display order.
CATEGORIES: dict[str, tuple[str, str]] = {
    "Tenants": ("tenants", "Tenants"),
    "Partner Admins": ("partner_admins", "Partner admins"),
    "Partner Role Management": ("partner_roles", "Partner roles"),
    "Partner Billing": ("partner_billing", "Partner billing"),
    "Alerts": ("alerts", "Alerts"),
    "Endpoints": ("endpoints", "Endpoints"),
    "Endpoint Isolation": ("endpoint_isolation", "Endpoint isolation"),
    "Scans": ("scans", "Scans"),
    "Update Checks": ("update_checks", "Update checks"),
    "Tamper Protection": ("tamper_protection", "Endpoint tamper protection"),
    "Global Tamper Protection": (
        "global_tamper_protection",
        "Global tamper protection",
    ),
    "Endpoint Groups Management": ("endpoint_groups", "Endpoint groups"),
    "Policy Management": ("policies", "Policies"),
    "Allowed Items": ("allowed_items", "Allowed items"),
    "Blocked Items": ("blocked_items", "Blocked items"),
    "Scanning Exclusions": ("scanning_exclusions", "Scanning exclusions"),
    "Isolation Exclusions": ("isolation_exclusions", "Isolation exclusions"),
    "Intrusion Prevention": (
        "intrusion_prevention",
        "Intrusion prevention exclusions",
    ),
    "Exploit Mitigation": ("exploit_mitigation", "Exploit mitigation"),
    "Web Control": ("web_control", "Web control"),
    "Peripheral Control": ("peripheral_control", "Peripheral control"),
    "Event Journal": ("event_journal", "Event journal"),
    "Directory Management": ("directory", "Directory users and groups"),
    "Tenant Access": ("tenant_admins", "Tenant admins"),
    "Tenant Role Management": ("tenant_roles", "Tenant roles"),
    "Migrations": ("migrations", "Endpoint migrations"),
    "Packages": ("packages", "Software packages"),
    "Downloads": ("downloads", "Installer downloads"),
    "Firewalls": ("firewalls", "Firewalls"),
    "Firewall Groups": ("firewall_groups", "Firewall groups"),
}

# (method, path) -> (operation name, title, description).
OPERATIONS: dict[tuple[str, str], tuple[str, str, str]] = {
    # Alerts
    ("GET", "/common/v1/alerts"): (
        "alerts_list",
        "List alerts",
        "Lists the tenant's alerts, filtered by product, category, severity, "
        "group key or raise time.",
    ),
    ("GET", "/common/v1/alerts/{alertId}"): (
        "alert_get",
        "Get an alert",
        "Returns one alert with the actions it allows.",
    ),
    ("POST", "/common/v1/alerts/{alertId}/actions"): (
        "alert_action_perform",
        "Act on an alert",
        "Starts one of the alert's allowed actions, such as acknowledge or "
        "clean up. The action runs asynchronously.",
    ),
    # Allowed items
    ("GET", "/endpoint/v1/settings/allowed-items"): (
        "allowed_items_list",
        "List allowed items",
        "Lists the applications allowed by path, SHA-256 hash or certificate signer.",
    ),
    ("POST", "/endpoint/v1/settings/allowed-items"): (
        "allowed_item_create",
        "Allow an item",
        "Allows an application by path, SHA-256 hash or certificate signer.",
    ),
    ("GET", "/endpoint/v1/settings/allowed-items/{allowedItemId}"): (
        "allowed_item_get",
        "Get an allowed item",
        "Returns one allowed item.",
    ),
    ("PATCH", "/endpoint/v1/settings/allowed-items/{allowedItemId}"): (
        "allowed_item_update",
        "Update an allowed item",
        "Changes the comment of an allowed item.",
    ),
    ("DELETE", "/endpoint/v1/settings/allowed-items/{allowedItemId}"): (
        "allowed_item_delete",
        "Delete an allowed item",
        "Removes an allowed item. Succeeds even when the item does not exist.",
    ),
    # Blocked items
    ("GET", "/endpoint/v1/settings/blocked-items"): (
        "blocked_items_list",
        "List blocked items",
        "Lists the files blocked by SHA-256 hash.",
    ),
    ("POST", "/endpoint/v1/settings/blocked-items"): (
        "blocked_item_create",
        "Block an item",
        "Blocks a file by its SHA-256 hash.",
    ),
    ("GET", "/endpoint/v1/settings/blocked-items/{blockedItemId}"): (
        "blocked_item_get",
        "Get a blocked item",
        "Returns one blocked item.",
    ),
    ("DELETE", "/endpoint/v1/settings/blocked-items/{blockedItemId}"): (
        "blocked_item_delete",
        "Delete a blocked item",
        "Unblocks a file. Succeeds even when the item does not exist.",
    ),
    # Directory users and groups
    ("GET", "/common/v1/directory/users"): (
        "users_list",
        "List directory users",
        "Lists the tenant's directory users, with search and filters for "
        "source, group and domain.",
    ),
    ("POST", "/common/v1/directory/users"): (
        "user_create",
        "Create a directory user",
        "Adds a user to the tenant directory, optionally into groups.",
    ),
    ("GET", "/common/v1/directory/users/{userId}"): (
        "user_get",
        "Get a directory user",
        "Returns one directory user with a summary of their groups.",
    ),
    ("DELETE", "/common/v1/directory/users/{userId}"): (
        "user_delete",
        "Delete a directory user",
        "Removes a user from the tenant directory.",
    ),
    ("PATCH", "/common/v1/directory/users/{userId}"): (
        "user_update",
        "Update a directory user",
        "Changes a directory user's names, email address or Exchange login.",
    ),
    ("GET", "/common/v1/directory/user-groups"): (
        "user_groups_list",
        "List user groups",
        "Lists the directory user groups, with search and filters for source, "
        "member and domain.",
    ),
    ("POST", "/common/v1/directory/user-groups"): (
        "user_group_create",
        "Create a user group",
        "Adds a directory user group, optionally with members.",
    ),
    ("GET", "/common/v1/directory/user-groups/{groupId}"): (
        "user_group_get",
        "Get a user group",
        "Returns one directory user group with a summary of its members.",
    ),
    ("DELETE", "/common/v1/directory/user-groups/{groupId}"): (
        "user_group_delete",
        "Delete a user group",
        "Deletes an empty user group. A group that still has members fails with 409.",
    ),
    ("PATCH", "/common/v1/directory/user-groups/{groupId}"): (
        "user_group_update",
        "Update a user group",
        "Renames a user group or changes its description.",
    ),
    ("GET", "/common/v1/directory/users/{userId}/groups"): (
        "user_memberships_list",
        "List a user's groups",
        "Lists the groups that a directory user belongs to.",
    ),
    ("POST", "/common/v1/directory/users/{userId}/groups"): (
        "user_memberships_add",
        "Add a user to groups",
        "Adds a directory user to the groups given by id.",
    ),
    ("DELETE", "/common/v1/directory/users/{userId}/groups"): (
        "user_memberships_remove",
        "Remove a user from groups",
        "Removes a directory user from the groups whose ids are in the query string.",
    ),
    ("GET", "/common/v1/directory/user-groups/{groupId}/users"): (
        "user_group_users_list",
        "List the users in a group",
        "Lists the members of a directory user group.",
    ),
    ("POST", "/common/v1/directory/user-groups/{groupId}/users"): (
        "user_group_users_add",
        "Add users to a group",
        "Adds the directory users given by id to a group.",
    ),
    ("DELETE", "/common/v1/directory/user-groups/{groupId}/users"): (
        "user_group_users_remove",
        "Remove users from a group",
        "Removes the users whose ids are in the query string from a group.",
    ),
    # Installer downloads
    ("GET", "/endpoint/v1/downloads"): (
        "installers_list",
        "List installer links",
        "Returns download links for the endpoint and server installers, "
        "filtered by product and platform.",
    ),
    # Endpoint groups
    ("GET", "/endpoint/v1/endpoint-groups"): (
        "endpoint_groups_list",
        "List endpoint groups",
        "Lists the computer and server groups.",
    ),
    ("POST", "/endpoint/v1/endpoint-groups"): (
        "endpoint_group_create",
        "Create an endpoint group",
        "Creates a computer or server group, optionally with endpoints.",
    ),
    ("GET", "/endpoint/v1/endpoint-groups/types/{groupType}"): (
        "endpoint_groups_by_type_list",
        "List endpoint groups of one type",
        "Lists the endpoint groups of one type, computer or server.",
    ),
    ("GET", "/endpoint/v1/endpoint-groups/{groupId}"): (
        "endpoint_group_get",
        "Get an endpoint group",
        "Returns one endpoint group with a summary of its endpoints.",
    ),
    ("DELETE", "/endpoint/v1/endpoint-groups/{groupId}"): (
        "endpoint_group_delete",
        "Delete an endpoint group",
        "Deletes an endpoint group.",
    ),
    ("PATCH", "/endpoint/v1/endpoint-groups/{groupId}"): (
        "endpoint_group_update",
        "Update an endpoint group",
        "Renames an endpoint group or changes its description.",
    ),
    ("GET", "/endpoint/v1/endpoint-groups/{groupId}/endpoints"): (
        "endpoint_group_endpoints_list",
        "List the endpoints in a group",
        "Lists the endpoints in a group, with key-based paging.",
    ),
    ("POST", "/endpoint/v1/endpoint-groups/{groupId}/endpoints"): (
        "endpoint_group_endpoints_add",
        "Add endpoints to a group",
        "Adds the endpoints given by id to a group.",
    ),
    ("DELETE", "/endpoint/v1/endpoint-groups/{groupId}/endpoints"): (
        "endpoint_group_endpoints_remove",
        "Remove endpoints from a group",
        "Removes the endpoints whose ids are in the query string from a group.",
    ),
    ("DELETE", "/endpoint/v1/endpoint-groups/{groupId}/endpoints/{endpointId}"): (
        "endpoint_group_endpoint_remove",
        "Remove an endpoint from a group",
        "Removes one endpoint from a group.",
    ),
    # Endpoint isolation
    ("POST", "/endpoint/v1/endpoints/isolation"): (
        "endpoints_isolation_update",
        "Isolate or release endpoints",
        "Turns isolation on or off for several endpoints at once. The change "
        "completes asynchronously.",
    ),
    ("GET", "/endpoint/v1/endpoints/{endpointId}/isolation"): (
        "endpoint_isolation_get",
        "Get an endpoint's isolation",
        "Returns whether an endpoint is isolated and who last changed it.",
    ),
    ("PATCH", "/endpoint/v1/endpoints/{endpointId}/isolation"): (
        "endpoint_isolation_update",
        "Update an endpoint's isolation",
        "Turns isolation on or off for one endpoint.",
    ),
    # Endpoints
    ("GET", "/endpoint/v1/endpoints"): (
        "endpoints_list",
        "List endpoints",
        "Lists computers and servers, with filters for health, tamper "
        "protection, isolation, last-seen time and more.",
    ),
    ("GET", "/endpoint/v1/endpoints/{endpointId}"): (
        "endpoint_get",
        "Get an endpoint",
        "Returns one computer or server.",
    ),
    ("DELETE", "/endpoint/v1/endpoints/{endpointId}"): (
        "endpoint_delete",
        "Delete an endpoint",
        "Removes a computer or server from the tenant.",
    ),
    # Event journal
    ("GET", "/endpoint/v1/settings/event-journal/{endpointType}"): (
        "event_journal_settings_get",
        "Get event journal settings",
        "Returns the event journal disk space limits for one endpoint type.",
    ),
    ("PATCH", "/endpoint/v1/settings/event-journal/{endpointType}"): (
        "event_journal_settings_update",
        "Update event journal settings",
        "Changes the event journal disk space limits for one endpoint type.",
    ),
    # Exploit mitigation
    ("GET", "/endpoint/v1/settings/exploit-mitigation/detected-exploits"): (
        "detected_exploits_list",
        "List detected exploits",
        "Lists the exploits that exploit mitigation has detected.",
    ),
    (
        "GET",
        "/endpoint/v1/settings/exploit-mitigation/detected-exploits/"
        "{detectedExploitId}",
    ): (
        "detected_exploit_get",
        "Get a detected exploit",
        "Returns one detected exploit with where and when it was last seen.",
    ),
    ("GET", "/endpoint/v1/settings/exploit-mitigation/categories"): (
        "exploit_mitigation_categories_list",
        "List exploit mitigation categories",
        "Lists the application categories and their mitigation switches.",
    ),
    ("GET", "/endpoint/v1/settings/exploit-mitigation/applications"): (
        "exploit_mitigation_applications_list",
        "List exploit mitigation applications",
        "Lists the detected and custom applications that exploit mitigation protects.",
    ),
    ("POST", "/endpoint/v1/settings/exploit-mitigation/applications"): (
        "exploit_mitigation_application_create",
        "Add an exploit mitigation application",
        "Adds a custom application by its executable paths.",
    ),
    (
        "GET",
        "/endpoint/v1/settings/exploit-mitigation/applications/"
        "{exploitMitigationApplicationId}",
    ): (
        "exploit_mitigation_application_get",
        "Get an exploit mitigation application",
        "Returns one application with its mitigation settings.",
    ),
    (
        "PATCH",
        "/endpoint/v1/settings/exploit-mitigation/applications/"
        "{exploitMitigationApplicationId}",
    ): (
        "exploit_mitigation_application_update",
        "Update an exploit mitigation application",
        "Changes an application's paths or its mitigation settings.",
    ),
    (
        "DELETE",
        "/endpoint/v1/settings/exploit-mitigation/applications/"
        "{exploitMitigationApplicationId}",
    ): (
        "exploit_mitigation_application_delete",
        "Delete an exploit mitigation application",
        "Removes a custom application. Detected applications fail with 409.",
    ),
    # Firewall groups
    ("GET", "/firewall/v1/firewall-groups"): (
        "firewall_groups_list",
        "List firewall groups",
        "Lists the firewall groups, optionally with their subgroups.",
    ),
    ("POST", "/firewall/v1/firewall-groups"): (
        "firewall_group_create",
        "Create a firewall group",
        "Creates a firewall group, optionally importing the configuration of "
        "one firewall.",
    ),
    ("PATCH", "/firewall/v1/firewall-groups/{groupId}"): (
        "firewall_group_update",
        "Update a firewall group",
        "Renames a firewall group or assigns and unassigns firewalls.",
    ),
    ("DELETE", "/firewall/v1/firewall-groups/{groupId}"): (
        "firewall_group_delete",
        "Delete a firewall group",
        "Deletes a firewall group.",
    ),
    ("GET", "/firewall/v1/firewall-groups/{groupId}/firewalls/sync-status"): (
        "firewall_group_sync_status_list",
        "List firewall group sync status",
        "Lists the configuration sync status of each firewall in a group.",
    ),
    # Firewalls
    ("GET", "/firewall/v1/firewalls"): (
        "firewalls_list",
        "List firewalls",
        "Lists the managed firewalls, optionally of one group.",
    ),
    ("PATCH", "/firewall/v1/firewalls/{firewallId}"): (
        "firewall_update",
        "Update a firewall",
        "Changes a firewall's label or geographic location.",
    ),
    ("DELETE", "/firewall/v1/firewalls/{firewallId}"): (
        "firewall_delete",
        "Delete a firewall",
        "Removes a firewall from management in Sophos Central.",
    ),
    ("POST", "/firewall/v1/firewalls/{firewallId}/action"): (
        "firewall_action_run",
        "Run a firewall action",
        "Runs an action on one firewall, such as approving management.",
    ),
    ("POST", "/firewall/v1/firewalls/actions/firmware-upgrade-check"): (
        "firewalls_firmware_check",
        "Check firewall firmware",
        "Returns the firmware upgrades available to the given firewalls.",
    ),
    ("POST", "/firewall/v1/firewalls/actions/firmware-upgrade"): (
        "firewalls_firmware_upgrade",
        "Upgrade firewall firmware",
        "Starts or schedules firmware upgrades of the given firewalls.",
    ),
    ("DELETE", "/firewall/v1/firewalls/actions/firmware-upgrade"): (
        "firewalls_firmware_upgrade_cancel",
        "Cancel firewall upgrades",
        "Cancels the scheduled firmware upgrades of the firewalls whose ids "
        "are in the query string.",
    ),
    # Global tamper protection
    ("GET", "/endpoint/v1/settings/tamper-protection"): (
        "global_tamper_protection_get",
        "Get global tamper protection",
        "Returns whether tamper protection is turned on for the whole tenant.",
    ),
    # Intrusion prevention exclusions
    ("GET", "/endpoint/v1/settings/exclusions/intrusion-prevention"): (
        "intrusion_prevention_exclusions_list",
        "List intrusion prevention exclusions",
        "Lists the traffic excluded from intrusion prevention.",
    ),
    ("POST", "/endpoint/v1/settings/exclusions/intrusion-prevention"): (
        "intrusion_prevention_exclusion_create",
        "Add an intrusion prevention exclusion",
        "Excludes traffic from intrusion prevention by ports, direction and "
        "remote addresses.",
    ),
    (
        "GET",
        "/endpoint/v1/settings/exclusions/intrusion-prevention/{exclusionId}",
    ): (
        "intrusion_prevention_exclusion_get",
        "Get an intrusion prevention exclusion",
        "Returns one intrusion prevention exclusion.",
    ),
    (
        "DELETE",
        "/endpoint/v1/settings/exclusions/intrusion-prevention/{exclusionId}",
    ): (
        "intrusion_prevention_exclusion_delete",
        "Delete an intrusion prevention exclusion",
        "Removes an intrusion prevention exclusion.",
    ),
    (
        "PATCH",
        "/endpoint/v1/settings/exclusions/intrusion-prevention/{exclusionId}",
    ): (
        "intrusion_prevention_exclusion_update",
        "Update an intrusion prevention exclusion",
        "Changes the ports, direction, addresses or comment of an exclusion.",
    ),
    # Isolation exclusions
    ("GET", "/endpoint/v1/settings/exclusions/isolation"): (
        "isolation_exclusions_list",
        "List isolation exclusions",
        "Lists the traffic that isolated endpoints may still send and receive.",
    ),
    ("POST", "/endpoint/v1/settings/exclusions/isolation"): (
        "isolation_exclusion_create",
        "Add an isolation exclusion",
        "Lets isolated endpoints exchange traffic by ports, direction and "
        "remote addresses.",
    ),
    ("GET", "/endpoint/v1/settings/exclusions/isolation/{exclusionId}"): (
        "isolation_exclusion_get",
        "Get an isolation exclusion",
        "Returns one isolation exclusion.",
    ),
    ("DELETE", "/endpoint/v1/settings/exclusions/isolation/{exclusionId}"): (
        "isolation_exclusion_delete",
        "Delete an isolation exclusion",
        "Removes an isolation exclusion.",
    ),
    ("PATCH", "/endpoint/v1/settings/exclusions/isolation/{exclusionId}"): (
        "isolation_exclusion_update",
        "Update an isolation exclusion",
        "Changes the ports, direction, addresses or comment of an exclusion.",
    ),
    # Endpoint migrations
    ("GET", "/endpoint/v1/migrations"): (
        "migrations_list",
        "List migration jobs",
        "Lists the tenant's endpoint migration jobs, sending or receiving.",
    ),
    ("POST", "/endpoint/v1/migrations"): (
        "migration_create",
        "Create a receiving migration job",
        "Prepares the tenant to receive endpoints from another tenant and "
        "returns the job token that the sending tenant needs.",
    ),
    ("GET", "/endpoint/v1/migrations/{migrationJobId}"): (
        "migration_get",
        "Get a migration job",
        "Returns one migration job.",
    ),
    ("PUT", "/endpoint/v1/migrations/{migrationJobId}"): (
        "migration_start",
        "Start a sending migration job",
        "Starts sending endpoints to the receiving tenant, using the token of "
        "its migration job.",
    ),
    ("GET", "/endpoint/v1/migrations/{migrationJobId}/endpoints"): (
        "migration_endpoints_list",
        "List migration endpoint statuses",
        "Lists the migration status of each endpoint in a job.",
    ),
    # Software packages
    ("GET", "/endpoint/v1/software/packages/recommended"): (
        "recommended_packages_list",
        "List recommended packages",
        "Lists the recommended software packages with their module versions.",
    ),
    ("GET", "/endpoint/v1/software/packages/static"): (
        "static_packages_list",
        "List static packages",
        "Lists the fixed-version software packages, with filters for "
        "platform, type and release or expiry date.",
    ),
    ("GET", "/endpoint/v1/software/packages/static/{staticPackageId}"): (
        "static_package_get",
        "Get a static package",
        "Returns one fixed-version software package.",
    ),
    ("POST", "/endpoint/v1/software/packages/static/{staticPackageId}/add"): (
        "special_package_add",
        "Add a special package",
        "Makes a special package, named by the token from Sophos support, "
        "available to the tenant. It cannot be removed again.",
    ),
    ("GET", "/endpoint/v1/software/comments"): (
        "package_comments_list",
        "List package comments",
        "Lists the comments attached to static packages.",
    ),
    ("GET", "/endpoint/v1/software/comments/{staticPackageId}"): (
        "package_comment_get",
        "Get a package comment",
        "Returns the comment attached to one static package.",
    ),
    ("PUT", "/endpoint/v1/software/comments/{staticPackageId}"): (
        "package_comment_update",
        "Set a package comment",
        "Sets the comment attached to one static package.",
    ),
    ("DELETE", "/endpoint/v1/software/comments/{staticPackageId}"): (
        "package_comment_delete",
        "Delete a package comment",
        "Removes the comment attached to one static package.",
    ),
    # Partner admins
    ("GET", "/partner/v1/admins"): (
        "partner_admins_list",
        "List partner admins",
        "Lists the partner's admins, with filters for email address, role and "
        "tenant access.",
    ),
    ("POST", "/partner/v1/admins"): (
        "partner_admin_create",
        "Create a partner admin",
        "Invites a partner admin by email address, optionally with roles.",
    ),
    ("GET", "/partner/v1/admins/{adminId}"): (
        "partner_admin_get",
        "Get a partner admin",
        "Returns one partner admin with their role assignments.",
    ),
    ("GET", "/partner/v1/admins/{adminId}/role-assignments"): (
        "partner_admin_role_assignments_list",
        "List a partner admin's roles",
        "Lists the role assignments of one partner admin.",
    ),
    ("POST", "/partner/v1/admins/{adminId}/role-assignments"): (
        "partner_admin_role_assignment_create",
        "Assign a role to a partner admin",
        "Gives a partner admin a role within a scope such as one tenant.",
    ),
    ("GET", "/partner/v1/admins/{adminId}/role-assignments/{assignmentId}"): (
        "partner_admin_role_assignment_get",
        "Get a partner admin's role assignment",
        "Returns one role assignment of a partner admin.",
    ),
    ("DELETE", "/partner/v1/admins/{adminId}/role-assignments/{assignmentId}"): (
        "partner_admin_role_assignment_delete",
        "Remove a partner admin's role",
        "Removes one role assignment from a partner admin.",
    ),
    # Partner billing
    ("GET", "/partner/v1/billing/usage/{year}/{month}"): (
        "partner_billing_usage_list",
        "List billing usage",
        "Lists the partner's billable usage for one month, with key-based "
        "paging. The month is a number without zero padding.",
    ),
    # Partner roles
    ("GET", "/partner/v1/roles"): (
        "partner_roles_list",
        "List partner roles",
        "Lists the predefined and custom partner roles.",
    ),
    ("POST", "/partner/v1/roles"): (
        "partner_role_create",
        "Create a partner role",
        "Creates a custom partner role from permission sets.",
    ),
    ("GET", "/partner/v1/roles/{roleId}"): (
        "partner_role_get",
        "Get a partner role",
        "Returns one partner role.",
    ),
    ("DELETE", "/partner/v1/roles/{roleId}"): (
        "partner_role_delete",
        "Delete a partner role",
        "Deletes a custom partner role.",
    ),
    ("PATCH", "/partner/v1/roles/{roleId}"): (
        "partner_role_update",
        "Update a partner role",
        "Changes a custom partner role's name, description or permission sets.",
    ),
    ("GET", "/partner/v1/roles/permission-sets"): (
        "partner_permission_sets_list",
        "List partner permission sets",
        "Lists the permission sets that partner roles can contain.",
    ),
    # Peripheral control
    ("GET", "/endpoint/v1/settings/peripheral-control/peripherals"): (
        "peripherals_list",
        "List peripherals",
        "Lists the peripherals seen on endpoints, filtered by type and last-seen time.",
    ),
    ("GET", "/endpoint/v1/settings/peripheral-control/peripherals/{peripheralId}"): (
        "peripheral_get",
        "Get a peripheral",
        "Returns one peripheral.",
    ),
    # Policies
    ("GET", "/endpoint/v1/policies"): (
        "policies_list",
        "List policies",
        "Lists the tenant's policies, optionally of one policy type.",
    ),
    ("POST", "/endpoint/v1/policies"): (
        "policy_create",
        "Create a policy",
        "Creates a policy of one type with its targets and settings.",
    ),
    ("GET", "/endpoint/v1/policies/settings"): (
        "policy_settings_metadata_get",
        "Get policy setting metadata",
        "Returns the names, types and defaults of policy settings, optionally "
        "for one policy type.",
    ),
    ("GET", "/endpoint/v1/policies/{policyId}"): (
        "policy_get",
        "Get a policy",
        "Returns one policy with its targets and settings.",
    ),
    ("PATCH", "/endpoint/v1/policies/{policyId}"): (
        "policy_update",
        "Update a policy",
        "Changes a policy's name, priority, state, targets or settings.",
    ),
    ("DELETE", "/endpoint/v1/policies/{policyId}"): (
        "policy_delete",
        "Delete a policy",
        "Deletes a policy.",
    ),
    ("GET", "/endpoint/v1/policies/{policyId}/settings"): (
        "policy_settings_get",
        "List policy settings",
        "Returns a policy's settings as a map keyed by setting key.",
    ),
    ("PATCH", "/endpoint/v1/policies/{policyId}/settings"): (
        "policy_settings_update",
        "Update policy settings",
        "Changes several settings of a policy. The body is a map keyed by setting key.",
    ),
    ("POST", "/endpoint/v1/policies/{policyId}/settings/reset"): (
        "policy_settings_reset",
        "Reset policy settings",
        "Resets every setting of a policy to its default.",
    ),
    ("GET", "/endpoint/v1/policies/{policyId}/settings/{settingKey}"): (
        "policy_setting_get",
        "Get a policy setting",
        "Returns one setting of a policy.",
    ),
    ("POST", "/endpoint/v1/policies/{policyId}/settings/{settingKey}/reset"): (
        "policy_setting_reset",
        "Reset a policy setting",
        "Resets one setting of a policy to its default.",
    ),
    ("POST", "/endpoint/v1/policies/{policyId}/clone"): (
        "policy_clone",
        "Clone a policy",
        "Copies a policy under a new name.",
    ),
    ("GET", "/endpoint/v1/policies/{policyType}/base"): (
        "base_policy_get",
        "Get a base policy",
        "Returns the base policy of one policy type.",
    ),
    ("PATCH", "/endpoint/v1/policies/{policyType}/base"): (
        "base_policy_update",
        "Update a base policy",
        "Changes the settings of the base policy of one policy type.",
    ),
    ("GET", "/endpoint/v1/policies/{policyType}/base/settings"): (
        "base_policy_settings_get",
        "List base policy settings",
        "Returns a base policy's settings as a map keyed by setting key.",
    ),
    ("PATCH", "/endpoint/v1/policies/{policyType}/base/settings"): (
        "base_policy_settings_update",
        "Update base policy settings",
        "Changes several settings of a base policy. The body is a map keyed "
        "by setting key.",
    ),
    ("POST", "/endpoint/v1/policies/{policyType}/base/settings/reset"): (
        "base_policy_settings_reset",
        "Reset base policy settings",
        "Resets every setting of a base policy to its default.",
    ),
    ("GET", "/endpoint/v1/policies/{policyType}/base/settings/{settingKey}"): (
        "base_policy_setting_get",
        "Get a base policy setting",
        "Returns one setting of a base policy.",
    ),
    ("PATCH", "/endpoint/v1/policies/{policyType}/base/settings/{settingKey}"): (
        "base_policy_setting_update",
        "Update a base policy setting",
        "Changes one setting of a base policy.",
    ),
    (
        "POST",
        "/endpoint/v1/policies/{policyType}/base/settings/{settingKey}/reset",
    ): (
        "base_policy_setting_reset",
        "Reset a base policy setting",
        "Resets one setting of a base policy to its default.",
    ),
    ("POST", "/endpoint/v1/policies/{policyType}/base/clone"): (
        "base_policy_clone",
        "Clone a base policy",
        "Creates a new policy from the base policy of one policy type.",
    ),
    # Scanning exclusions
    ("GET", "/endpoint/v1/settings/exclusions/scanning"): (
        "scanning_exclusions_list",
        "List scanning exclusions",
        "Lists the exclusions from scanning, optionally of one type.",
    ),
    ("POST", "/endpoint/v1/settings/exclusions/scanning"): (
        "scanning_exclusion_create",
        "Add a scanning exclusion",
        "Excludes a path, process, website, PUA or detection from scanning.",
    ),
    ("GET", "/endpoint/v1/settings/exclusions/scanning/{exclusionId}"): (
        "scanning_exclusion_get",
        "Get a scanning exclusion",
        "Returns one scanning exclusion.",
    ),
    ("PATCH", "/endpoint/v1/settings/exclusions/scanning/{exclusionId}"): (
        "scanning_exclusion_update",
        "Update a scanning exclusion",
        "Changes the value, scan mode or comment of a scanning exclusion.",
    ),
    ("DELETE", "/endpoint/v1/settings/exclusions/scanning/{exclusionId}"): (
        "scanning_exclusion_delete",
        "Delete a scanning exclusion",
        "Removes a scanning exclusion.",
    ),
    # Scans
    ("POST", "/endpoint/v1/endpoints/{endpointId}/scans"): (
        "endpoint_scan_start",
        "Scan an endpoint",
        "Asks one endpoint to start a scan.",
    ),
    # Endpoint tamper protection
    ("GET", "/endpoint/v1/endpoints/{endpointId}/tamper-protection"): (
        "endpoint_tamper_protection_get",
        "Get an endpoint's tamper protection",
        "Returns whether tamper protection is on for one endpoint, with its "
        "current and previous passwords.",
    ),
    ("POST", "/endpoint/v1/endpoints/{endpointId}/tamper-protection"): (
        "endpoint_tamper_protection_update",
        "Update an endpoint's tamper protection",
        "Turns tamper protection on or off for one endpoint, or generates a "
        "new password.",
    ),
    # Tenant admins
    ("GET", "/common/v1/admins"): (
        "tenant_admins_list",
        "List tenant admins",
        "Lists the tenant's admins, with search and a role filter.",
    ),
    ("POST", "/common/v1/admins"): (
        "tenant_admin_create",
        "Create a tenant admin",
        "Makes a directory user an admin of the tenant, optionally with roles.",
    ),
    ("GET", "/common/v1/admins/{adminId}"): (
        "tenant_admin_get",
        "Get a tenant admin",
        "Returns one tenant admin with their role assignments.",
    ),
    ("DELETE", "/common/v1/admins/{adminId}"): (
        "tenant_admin_delete",
        "Delete a tenant admin",
        "Removes a tenant admin.",
    ),
    ("GET", "/common/v1/admins/{adminId}/role-assignments"): (
        "tenant_admin_role_assignments_list",
        "List a tenant admin's roles",
        "Lists the role assignments of one tenant admin.",
    ),
    ("POST", "/common/v1/admins/{adminId}/role-assignments"): (
        "tenant_admin_role_assignment_create",
        "Assign a role to a tenant admin",
        "Gives a tenant admin a role.",
    ),
    ("GET", "/common/v1/admins/{adminId}/role-assignments/{assignmentId}"): (
        "tenant_admin_role_assignment_get",
        "Get a tenant admin's role assignment",
        "Returns one role assignment of a tenant admin.",
    ),
    ("DELETE", "/common/v1/admins/{adminId}/role-assignments/{assignmentId}"): (
        "tenant_admin_role_assignment_delete",
        "Remove a tenant admin's role",
        "Removes one role assignment from a tenant admin.",
    ),
    # Tenant roles
    ("GET", "/common/v1/roles"): (
        "tenant_roles_list",
        "List tenant roles",
        "Lists the predefined and custom tenant roles.",
    ),
    ("POST", "/common/v1/roles"): (
        "tenant_role_create",
        "Create a tenant role",
        "Creates a custom tenant role from permission sets.",
    ),
    ("GET", "/common/v1/roles/{roleId}"): (
        "tenant_role_get",
        "Get a tenant role",
        "Returns one tenant role.",
    ),
    ("DELETE", "/common/v1/roles/{roleId}"): (
        "tenant_role_delete",
        "Delete a tenant role",
        "Deletes a custom tenant role.",
    ),
    ("PATCH", "/common/v1/roles/{roleId}"): (
        "tenant_role_update",
        "Update a tenant role",
        "Changes a custom tenant role's name, description or permission sets.",
    ),
    ("GET", "/common/v1/roles/permission-sets"): (
        "tenant_permission_sets_list",
        "List tenant permission sets",
        "Lists the permission sets that tenant roles can contain.",
    ),
    # Tenants
    ("POST", "/partner/v1/tenants"): (
        "tenant_create",
        "Create a tenant",
        "Creates a customer tenant under the partner in a data geography or region.",
    ),
    ("GET", "/partner/v1/tenants"): (
        "tenants_list",
        "List tenants",
        "Lists the partner's tenants with each tenant's data region and API host.",
    ),
    ("GET", "/partner/v1/tenants/{tenantId}"): (
        "tenant_get",
        "Get a tenant",
        "Returns one of the partner's tenants.",
    ),
    # Update checks
    ("POST", "/endpoint/v1/endpoints/{endpointId}/update-checks"): (
        "endpoint_update_check_start",
        "Check an endpoint for updates",
        "Asks one endpoint to check for software updates now.",
    ),
    # Web control
    ("GET", "/endpoint/v1/settings/web-control/local-sites"): (
        "local_sites_list",
        "List local sites",
        "Lists the local site entries that give websites a category or tags.",
    ),
    ("POST", "/endpoint/v1/settings/web-control/local-sites"): (
        "local_site_create",
        "Add a local site",
        "Gives a URL, domain or IP address a web category or tags.",
    ),
    ("GET", "/endpoint/v1/settings/web-control/local-sites/{localSiteId}"): (
        "local_site_get",
        "Get a local site",
        "Returns one local site entry.",
    ),
    ("PATCH", "/endpoint/v1/settings/web-control/local-sites/{localSiteId}"): (
        "local_site_update",
        "Update a local site",
        "Changes the URL, category, tags or comment of a local site entry.",
    ),
    ("DELETE", "/endpoint/v1/settings/web-control/local-sites/{localSiteId}"): (
        "local_site_delete",
        "Delete a local site",
        "Removes a local site entry.",
    ),
    ("GET", "/endpoint/v1/settings/web-control/categories"): (
        "web_categories_list",
        "List web categories",
        "Lists the web categories. The response is a bare JSON array.",
    ),
    ("GET", "/endpoint/v1/settings/web-control/tls-decryption"): (
        "tls_decryption_settings_get",
        "Get SSL/TLS decryption settings",
        "Returns which web categories have SSL/TLS decryption turned on and "
        "the excluded websites.",
    ),
    ("PATCH", "/endpoint/v1/settings/web-control/tls-decryption"): (
        "tls_decryption_settings_update",
        "Update SSL/TLS decryption settings",
        "Turns SSL/TLS decryption on or off per web category.",
    ),
    ("GET", "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites"): (
        "tls_excluded_websites_list",
        "List SSL/TLS excluded websites",
        "Lists the websites excluded from SSL/TLS decryption.",
    ),
    (
        "PATCH",
        "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites",
    ): (
        "tls_excluded_websites_update",
        "Update SSL/TLS excluded websites",
        "Adds websites to and removes websites from the SSL/TLS decryption exclusions.",
    ),
    (
        "DELETE",
        "/endpoint/v1/settings/web-control/tls-decryption/excluded-websites",
    ): (
        "tls_excluded_websites_clear",
        "Clear SSL/TLS excluded websites",
        "Removes every website from the SSL/TLS decryption exclusions.",
    ),
}

# Maximum pageSize per list operation where a source states one. Where
# sources disagree, the lower value is kept so that a client never asks for
# more than the strictest source allows.
MAX_PAGE_SIZES: dict[str, int] = {
    # Sophos's own API connector and the Cortex XSOAR integration give 100;
    # the January 2026 Postman collection's example shows maxSize 1000.
    "alerts_list": 100,
    # The connector and XSOAR give 500; one third-party client assumes 1000.
    "endpoints_list": 500,
    # Rapid7's plugin help gives 1..1000 but its example output shows 500.
    "endpoint_group_endpoints_list": 500,
    # Cortex XSOAR integration documentation.
    "allowed_items_list": 100,
    "blocked_items_list": 100,
    "scanning_exclusions_list": 100,
    "exploit_mitigation_applications_list": 100,
    "detected_exploits_list": 100,
    # Sophos's own API connector configuration.
    "local_sites_list": 100,
    "firewall_groups_list": 100,
    "tenant_admins_list": 100,
    "firewalls_list": 1000,
    # NOTE/sophos-api: no source states the tenant list maximum; 100 is the
    # value that clients commonly assume.
    "tenants_list": 100,
}


def _host(row: dict[str, Any]) -> str:
    host = str(row["host"])
    for kind in ("global", "regional"):
        if host.startswith(kind):
            return kind
    raise ValueError(f"{row['method']} {row['path']}: unknown host {host!r}")


def _field_names(body: object, key: str) -> list[str]:
    if isinstance(body, dict) and isinstance(body.get(key), dict):
        return [str(name) for name in body[key]]
    return []


def _is_empty_body(body: object) -> bool:
    """Tell whether the reference describes the request body as empty JSON."""
    if isinstance(body, str):
        return "empty JSON object" in body
    if isinstance(body, dict) and set(body) == {"shape"}:
        return "empty JSON object" in str(body["shape"])
    return False


def build_operation(row: dict[str, Any]) -> dict[str, Any]:
    """Convert one reference row to the project's operation record."""
    method = str(row["method"])
    path = str(row["path"])
    try:
        name, title, description = OPERATIONS[(method, path)]
    except KeyError:
        raise ValueError(
            f"{method} {path}: no entry in OPERATIONS; add a name, title and "
            "description for it."
        ) from None
    category, _label = CATEGORIES[str(row["category"])]
    body = row["body"]
    paging = str(row["paging"])

    return {
        "name": name,
        "category": category,
        "title": title,
        "method": method,
        "path": path,
        "host": _host(row),
        "scope": str(row["scope"]),
        "paging": paging,
        "success_status": int(row["success_status"]),
        "query_params": [str(param["name"]) for param in row["query_params"]],
        "body_required": _field_names(body, "required"),
        "body_optional": _field_names(body, "optional"),
        "max_page_size": MAX_PAGE_SIZES.get(name) if paging != "none" else None,
        "bodiless_post": method == "POST" and _is_empty_body(body),
        "description": description,
    }


def build_catalog(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Build the catalog document from all reference rows."""
    routes = [row for row in rows if row["category"] != GENERIC_REQUEST_CATEGORY]
    operations = [build_operation(row) for row in routes]

    unused = set(OPERATIONS) - {(row["method"], row["path"]) for row in routes}
    if unused:
        raise ValueError(f"OPERATIONS entries match no reference row: {unused}")
    names = [operation["name"] for operation in operations]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Duplicate operation names: {duplicates}")
    unknown_limits = set(MAX_PAGE_SIZES) - {
        operation["name"]
        for operation in operations
        if operation["max_page_size"] is not None
    }
    if unknown_limits:
        raise ValueError(f"MAX_PAGE_SIZES names no paged operation: {unknown_limits}")

    order = {name: index for index, (name, _label) in enumerate(CATEGORIES.values())}
    operations.sort(key=lambda operation: order[operation["category"]])
    used = {operation["category"] for operation in operations}
    categories = [
        {"name": name, "label": label}
        for name, label in CATEGORIES.values()
        if name in used
    ]
    return {"categories": categories, "operations": operations}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "reference_dir",
        type=Path,
        help="folder that contains the reference catalog.json",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"catalog file to write (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)

    source = args.reference_dir / "catalog.json"
    rows = json.loads(source.read_text(encoding="utf-8"))
    catalog = build_catalog(rows)
    text = json.dumps(catalog, indent=2, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"Wrote {len(catalog['operations'])} operations to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
