"""Human labels for the codes that Sophos Central's API returns.

Pages show ``code_label(code)`` where the API sends an enumeration value:
endpoint types, health states, product codes, alert categories and
products, platforms, firewall states and the like. ``CODE_LABELS`` names the
codes whose words cannot be derived from the code itself (acronyms, brand
names). Any other code is split into words, so a code that Sophos adds later
still reads well: "notInstalled" reads "Not installed" and
"threat-protection" reads "Threat protection".

Ids, SKUs, CSV exports and the API console keep the codes as sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

# The alert actions that Sophos Central lists in an alert's allowedActions.
ALERT_ACTION_LABELS = {
    "acknowledge": "Acknowledge",
    "authPua": "Authorize PUA",
    "cleanPua": "Clean PUA",
    "cleanVirus": "Clean virus",
    "clearHmpa": "Clear HitmanPro.Alert",
    "clearThreat": "Clear threat",
    "sendMsgPua": "Message about PUA",
    "sendMsgThreat": "Message about threat",
}

CODE_LABELS = {
    **ALERT_ACTION_LABELS,
    # Endpoint types.
    "securityVm": "Security VM",
    # Product codes of installers and of an endpoint's assigned products.
    "coreAgent": "Core Agent",
    "deviceEncryption": "Device Encryption",
    "endpointProtection": "Endpoint Protection",
    "interceptX": "Intercept X",
    "mtd": "Mobile Threat Defense",
    "mtr": "MTR",
    "xdr": "XDR",
    "ztna": "ZTNA",
    # Alert products.
    "emailGateway": "Email gateway",
    "phishThreat": "Phish Threat",
    "webGateway": "Web gateway",
    # Alert categories.
    "adSync": "AD sync",
    "cwg": "Cloud Web Gateway",
    "denc": "Device encryption",
    "fenc": "File encryption",
    "iaas": "IaaS",
    "iaasAzure": "IaaS Azure",
    "pua": "PUA",
    "smc": "Sophos Mobile Control",
    "uav": "UAV",
    "utm": "UTM",
    "virt": "Virtualization",
    "xgEmail": "XG email",
    "ztnaAuthentication": "ZTNA authentication",
    "ztnaGateway": "ZTNA gateway",
    "ztnaResource": "ZTNA resource",
    # Platforms of endpoints, packages and installers.
    "macOS": "macOS",
    "macos": "macOS",
    "winserv": "Windows Server",
    # Directory sources.
    "activeDirectory": "Active Directory",
    "azureActiveDirectory": "Azure Active Directory",
    # Firewall cluster modes.
    "activeActive": "Active-active",
    "activePassive": "Active-passive",
}

# Job kinds (``Job.kind``): the background jobs of sophos.services and
# portal.partner.billing, and the fleet operations that
# sophos.services.fleet_ops registers under "<module>.<action>".
JOB_KIND_LABELS = {
    "alert_bulk_action": "Alert action on several alerts",
    "billing_months_fetch": "Billing usage fetch",
    "drift.compare": "Policy drift: compare",
    "drift.realign": "Policy drift: realign",
    "endpoint_migration": "Endpoint migration",
    "firewall_firmware_upgrade": "Firewall firmware upgrade",
    "hygiene.delete": "Endpoint hygiene: delete",
    "isolation.isolate": "Isolation: isolate",
    "isolation.release": "Isolation: release",
    "onboarding.run": "Customer onboarding",
    "push.create": "Item push",
    "push.undo": "Item push: undo",
    "sync": "Sync",
    "tamper.enable": "Tamper protection: turn on",
    "tenants_rename": "Tenant rename",
}

# Operations that portal.accounts.services records for portal users. They
# have no tenant, while sophos.services.directory records the Sophos
# directory users' user_create, user_update and user_delete with the tenant.
PORTAL_USER_OPERATIONS = frozenset(
    {
        "user_assignments_set",
        "user_create",
        "user_disable",
        "user_enable",
        "user_password_set",
        "user_roles_set",
        "user_update",
    }
)
DIRECTORY_USER_OPERATIONS = frozenset({"user_create", "user_delete", "user_update"})

# Audit operations whose words cannot be derived from the code.
AUDIT_OPERATION_LABELS = {
    "alert_action_perform": "Alert action",
    "endpoints_isolation_update": "Endpoint isolation change",
    "two_factor_enrol": "Two-factor authentication: enrol",
    "two_factor_remove": "Two-factor authentication: remove",
}

# A word starts at a capital after a lowercase letter or digit
# ("notInstalled"), and at the last capital of a run that a lowercase
# letter follows ("HTTPServer" reads "HTTP server").
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def code_label(code: str) -> str:
    """Return the label of an API code, such as "Intercept X" for interceptX.

    An empty code stays empty, and text that contains a space is returned
    as it is, because it is no code.
    """
    if code in CODE_LABELS:
        return CODE_LABELS[code]
    if not code or " " in code:
        return code
    spaced = _WORD_START.sub(" ", code).replace("_", " ").replace("-", " ")
    words = [
        word if len(word) > 1 and word.isupper() else word.lower()
        for word in spaced.split()
    ]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def job_kind_label(kind: str) -> str:
    """Return the label of a job kind, such as "Isolation: isolate".

    A kind missing from ``JOB_KIND_LABELS`` reads as its words, and a dotted
    kind as its module, a colon and its action.
    """
    if kind in JOB_KIND_LABELS:
        return JOB_KIND_LABELS[kind]
    module, dot, action = kind.partition(".")
    if not dot:
        return code_label(kind)
    return f"{code_label(module)}: {code_label(action).lower()}"


def audit_operation_label(operation: str, *, has_tenant: bool | None) -> str:
    """Return the label of an audit log operation, such as "Alert action".

    ``has_tenant`` distinguishes a portal user's operation (no tenant) from a
    Sophos directory user's (with a tenant). ``None`` means either may be meant,
    as in a filter that lists each operation once. A fleet operation
    "fleet.<job kind>" reads as "Fleet: " and its job kind's label.
    """
    if operation in AUDIT_OPERATION_LABELS:
        return AUDIT_OPERATION_LABELS[operation]
    if operation.startswith("fleet."):
        return f"Fleet: {job_kind_label(operation.removeprefix('fleet.'))}"
    if operation in PORTAL_USER_OPERATIONS | DIRECTORY_USER_OPERATIONS:
        return f"{_user_kind(operation, has_tenant)}: {_user_action(operation)}"
    return code_label(operation)


def _user_kind(operation: str, has_tenant: bool | None) -> str:
    portal = operation in PORTAL_USER_OPERATIONS
    directory = operation in DIRECTORY_USER_OPERATIONS
    if has_tenant is None and portal and directory:
        return "Portal or directory user"
    if directory and (has_tenant or not portal):
        return "Directory user"
    return "Portal user"


def _user_action(operation: str) -> str:
    return code_label(operation.removeprefix("user_")).lower()


def audit_details(parameters: object) -> list[tuple[str, str]]:
    """Return an audit entry's parameters as (label, text) pairs, by key.

    ``None`` reads "—", lists and mappings read as compact JSON, and other
    values as their text. Parameters that are not a mapping become one pair.
    """
    if not isinstance(parameters, dict):
        return [("Value", _detail_text(parameters))] if parameters else []
    return [
        (code_label(str(key)), _detail_text(value))
        for key, value in sorted(parameters.items())
    ]


def _detail_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def codes_label(codes: Iterable[str]) -> str:
    """Return the labels of several codes, separated by commas."""
    return ", ".join(code_label(code) for code in codes)
