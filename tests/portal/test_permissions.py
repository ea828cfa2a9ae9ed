"""Every URL pattern, requested as every role, inside and outside its scope.

``EXPECTATIONS`` declares who may use each named URL pattern. A pattern
without a declaration fails ``test_every_url_pattern_is_declared``, so a new
page cannot ship without one. Adding a page is one line, for example::

    "tenant_policies": Tenant(READ),
    "policy_delete": Tenant(WRITE, post=302),
    "billing_export": Cap(Capability.VIEW_BILLING),

The roles are an owner, an administrator, a technician and a read-only user
both assigned tenant A, a billing user, a user without a role and an
anonymous visitor. URL parameters are filled from ``SUBSTITUTIONS``: tenant A
(and objects of tenant A) inside the scope, tenant B outside it. For every
response to a user who may not see tenant B, the body must not contain B's
names, id or alert ids. A POST by a user without write rights must not queue
a task or send a write request to the simulator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_q import tasks as q_tasks

from portal.access import Capability
from portal.accounts.models import Role, TenantAssignment, TenantGroup, UserRole
from sophos import models as mirror
from sophos.models import Alert, Job, JobItem
from sophos.simulator.transport import SimulatorTransport

pytestmark = pytest.mark.django_db

READ = "read"
# WRITE pages are read with GET and changed with POST; ACT pages, such as a
# create form, need write rights for every method.
WRITE = "write"
ACT = "act"
INSIDE = "inside"
OUTSIDE = "outside"
LOGIN_REDIRECT = 302
# Returned by require_POST and require_GET to the wrong method.
WRONG_METHOD = 405

UNKNOWN_ITEM_ID = "00000000-0000-4000-8000-00000000abcd"

ANONYMOUS = "anonymous"
ROLES: dict[str, list[str]] = {
    "owner": [Role.OWNER],
    "administrator": [Role.ADMINISTRATOR],
    "technician": [Role.TECHNICIAN],
    "read_only": [Role.READ_ONLY],
    "billing": [Role.BILLING],
    "no_role": [],
}
ALL_ROLES = [*ROLES, ANONYMOUS]
SEES_EVERY_TENANT = {"owner", "administrator"}
ASSIGNED_TENANT_A = {"technician", "read_only"}
ACTS_ON_ASSIGNED = {"technician"}
CAPABILITIES: dict[str, set[Capability]] = {
    "owner": set(Capability),
    "administrator": set(Capability) - {Capability.MANAGE_CONNECTIONS},
    "technician": {
        Capability.VIEW_TENANTS,
        Capability.ACT_ON_TENANTS,
        Capability.API_CONSOLE,
    },
    "read_only": {Capability.VIEW_TENANTS, Capability.API_CONSOLE},
    "billing": {Capability.VIEW_BILLING},
    "no_role": set(),
    ANONYMOUS: set(),
}


# Declarations. Each one turns (role, scope, method) into a status code.
# ``get`` and ``post`` are the statuses of an allowed request; None means the
# view does not take that method, so it answers 405.


@dataclass(frozen=True)
class Expectation:
    get: int | None = 200
    post: int | None = None
    # The POST data, or a function of (world, scope, role) that returns it.
    data: dict[str, Any] | Callable[[Any, str, str], dict[str, Any]] = field(
        default_factory=dict
    )

    def post_data(self, world: Any, scope: str, role: str) -> dict[str, Any]:
        if callable(self.data):
            return self.data(world, scope, role)
        return self.data

    def methods(self) -> list[str]:
        return ["GET", "POST"]

    def allowed(self, role: str, scope: str, method: str) -> int:
        status = self.get if method == "GET" else self.post
        return WRONG_METHOD if status is None else status

    def expected(self, role: str, scope: str, method: str) -> int:
        if role == ANONYMOUS:
            return LOGIN_REDIRECT
        if self.allowed(role, scope, method) == WRONG_METHOD:
            return WRONG_METHOD
        return self.decide(role, scope, method)

    def decide(self, role: str, scope: str, method: str) -> int:
        return self.allowed(role, scope, method)

    def writes(self, role: str, scope: str) -> bool:
        """Whether a POST by this role may change anything."""
        return self.post is not None and self.decide(role, scope, "POST") < 400


@dataclass(frozen=True)
class Public(Expectation):
    """Open to everyone, anonymous visitors included."""

    def expected(self, role: str, scope: str, method: str) -> int:
        return self.allowed(role, scope, method)

    def writes(self, role: str, scope: str) -> bool:
        return False


@dataclass(frozen=True)
class LoggedIn(Expectation):
    """Any logged-in user; the page itself shows only what the user may see."""


@dataclass(frozen=True)
class Cap(Expectation):
    """Users whose roles grant ``capability``; 403 for the others."""

    capability: Capability = Capability.VIEW_TENANTS

    def decide(self, role: str, scope: str, method: str) -> int:
        if self.capability not in CAPABILITIES[role]:
            return 403
        return self.allowed(role, scope, method)


@dataclass(frozen=True)
class TenantPage(Expectation):
    """A page about the tenant in the URL: 404 for a tenant the user may not
    see, 403 to a write by a user who may only read it. With ``capability``
    the view checks that first and answers 403 without it."""

    mode: str = READ
    capability: Capability | None = None
    # The tenant comes from the POST data, as in the API console, so a GET
    # names no tenant.
    tenant_in_data: bool = False

    def decide(self, role: str, scope: str, method: str) -> int:
        if self.capability and self.capability not in CAPABILITIES[role]:
            return 403
        if self.tenant_in_data and method == "GET":
            return self.allowed(role, scope, method)
        sees = role in SEES_EVERY_TENANT or (
            scope == INSIDE and role in ASSIGNED_TENANT_A
        )
        if not sees:
            return 404
        acts = role in SEES_EVERY_TENANT or role in ACTS_ON_ASSIGNED
        writing = self.mode == ACT or (self.mode == WRITE and method == "POST")
        if writing and not acts:
            return 403
        return self.allowed(role, scope, method)


def Tenant(mode: str, **options: Any) -> TenantPage:  # noqa: N802
    """Declare a tenant page, e.g. ``Tenant(READ)`` or ``Tenant(WRITE, post=302)``."""
    if mode == WRITE and not options.get("tenant_in_data"):
        options.setdefault("get", None)
        options.setdefault("post", 302)
    return TenantPage(mode=mode, **options)


@dataclass(frozen=True)
class OwnJob(Expectation):
    """A job page: owners and administrators read every job, anyone else
    only the jobs they requested (``inside``), and 404 for the rest."""

    def decide(self, role: str, scope: str, method: str) -> int:
        if role in SEES_EVERY_TENANT or scope == INSIDE:
            return self.allowed(role, scope, method)
        return 404


def Write(capability: Capability, **options: Any) -> Cap:  # noqa: N802
    """Declare a POST-only action that needs ``capability``."""
    options.setdefault("get", None)
    options.setdefault("post", 302)
    return Cap(capability=capability, **options)


def crud(prefix: str, *, editable: bool = True) -> dict[str, Expectation]:
    """Declare the list, create, detail and delete pages of a tenant
    collection built by ``portal.tenants.crud``.

    ``item_id`` is an id Sophos does not know, so the detail and delete
    pages answer 404 to the users who pass the access checks. The detail page
    of an ``editable`` collection also takes a POST that changes the item.
    """
    detail = Tenant(WRITE, get=404, post=404) if editable else Tenant(READ, get=404)
    return {
        f"{prefix}_list": Tenant(READ),
        f"{prefix}_create": Tenant(ACT, post=400),
        f"{prefix}_detail": detail,
        f"{prefix}_delete": Tenant(ACT, get=404, post=404),
    }


def _console_write(world: World, scope: str, role: str) -> dict[str, str]:
    alert = world.alert_a if scope == INSIDE else world.alert_b
    return {
        "tenant": str(alert.tenant_id),
        "method": "POST",
        "path": f"/common/v1/alerts/{alert.pk}/actions",
        "body": '{"action": "acknowledge"}',
    }


MANAGE_USERS = Capability.MANAGE_USERS
CONNECTIONS = Capability.MANAGE_CONNECTIONS

EXPECTATIONS: dict[str, Expectation] = {
    # Login and security
    "login": Public(post=200),
    "logout": LoggedIn(get=None, post=302),
    "healthz": Public(post=200),
    "two_factor": LoggedIn(post=200),
    "two_factor_verify": LoggedIn(get=302, post=302),
    "two_factor_remove": LoggedIn(get=None, post=302),
    "security_settings": Cap(capability=CONNECTIONS, post=200),
    # Sophos connections
    "connections": Cap(capability=CONNECTIONS),
    "connection_add": Cap(capability=CONNECTIONS, post=200),
    "connection_edit": Cap(capability=CONNECTIONS, post=200),
    "connection_remove": Cap(capability=CONNECTIONS, post=302),
    # Fleet and tenants
    "fleet": LoggedIn(),
    "sync_start": Write(Capability.ACT_ON_TENANTS),
    "tenant_detail": Tenant(READ, get=302),
    "tenant_endpoints": Tenant(READ),
    "tenant_alerts": Tenant(READ),
    "alert_action": Tenant(WRITE, data={"action": "acknowledge"}),
    # Billing and jobs
    "billing": Cap(capability=Capability.VIEW_BILLING, get=302),
    "billing_month": Cap(capability=Capability.VIEW_BILLING),
    "jobs": LoggedIn(),
    "job_detail": OwnJob(),
    # Users, tenant groups and customer names
    "users": Cap(capability=MANAGE_USERS),
    "user_create": Cap(capability=MANAGE_USERS, post=200),
    "user_edit": Cap(capability=MANAGE_USERS, post=302),
    "user_password": Write(MANAGE_USERS, post=400),
    "user_disable": Write(MANAGE_USERS),
    "user_enable": Write(MANAGE_USERS),
    "groups": Cap(capability=MANAGE_USERS),
    "group_create": Cap(capability=MANAGE_USERS, post=200),
    "group_edit": Cap(capability=MANAGE_USERS, post=200),
    "group_delete": Write(MANAGE_USERS),
    "customer_names": Cap(capability=Capability.MANAGE_CUSTOMER_NAMES),
    "customer_name_set": Tenant(
        WRITE,
        capability=Capability.MANAGE_CUSTOMER_NAMES,
        data={"customer_name": "Renamed by a test"},
    ),
    "tenants_rename": Write(Capability.MANAGE_CUSTOMER_NAMES),
    # Audit log
    "audit": Cap(capability=Capability.VIEW_AUDIT),
    "audit_export": Cap(capability=Capability.VIEW_AUDIT),
    # API console: the POST sends an alert action to tenant A or B.
    "console": Tenant(
        WRITE,
        capability=Capability.API_CONSOLE,
        tenant_in_data=True,
        post=200,
        data=_console_write,
    ),
    "console_operation": Cap(capability=Capability.API_CONSOLE, get=302),
    "console_preview": Cap(capability=Capability.API_CONSOLE),
    # Tenant category pages
    **crud("tenants:scanning_exclusions"),
    **crud("tenants:allowed_items"),
    **crud("tenants:blocked_items", editable=False),
    **crud("tenants:isolation_exclusions"),
    **crud("tenants:intrusion_prevention_exclusions"),
    **crud("tenants:exploit_applications"),
    "tenants:detected_exploits_list": Tenant(READ),
    "tenants:detected_exploits_detail": Tenant(READ, get=404),
    "tenants:exploit_categories": Tenant(READ),
    **crud("tenants:local_sites"),
    "tenants:web_categories_list": Tenant(READ),
    "tenants:tls_decryption": Tenant(WRITE, get=200, post=302),
    "tenants:tls_excluded_websites_list": Tenant(READ),
    "tenants:tls_excluded_websites_add": Tenant(WRITE, post=400),
    "tenants:tls_excluded_websites_remove": Tenant(ACT, get=400, post=400),
    "tenants:tls_excluded_websites_clear": Tenant(ACT, post=302),
    # Endpoint detail and actions on an endpoint of the URL's tenant; an
    # empty POST is an invalid isolation or tamper protection form.
    "tenants:endpoint_detail": Tenant(READ),
    "tenants:endpoint_isolation": Tenant(WRITE, post=400),
    "tenants:endpoint_scan": Tenant(WRITE),
    "tenants:endpoint_update_check": Tenant(WRITE),
    "tenants:endpoint_tamper_protection": Tenant(WRITE, post=400),
    "tenants:endpoint_tamper_password": Tenant(WRITE, post=200),
    "tenants:endpoint_delete": Tenant(ACT, post=302),
    # Endpoint groups and policies with ids unknown to Sophos, hence the 404s.
    "tenants:endpoint_groups": Tenant(READ),
    "tenants:endpoint_group_create": Tenant(ACT, post=400),
    "tenants:endpoint_group_detail": Tenant(READ, get=404),
    "tenants:endpoint_group_edit": Tenant(ACT, get=404, post=404),
    "tenants:endpoint_group_delete": Tenant(ACT, get=404, post=404),
    "tenants:endpoint_group_members_add": Tenant(ACT, get=404, post=404),
    "tenants:endpoint_group_members_remove": Tenant(WRITE, post=404),
    "tenants:endpoint_group_member_remove": Tenant(WRITE, post=404),
    "tenants:alert_detail": Tenant(READ),
    "tenants:alerts_bulk_action": Tenant(WRITE),
    "tenants:policies": Tenant(READ),
    "tenants:policy_create": Tenant(ACT, post=400),
    "tenants:base_policies": Tenant(READ),
    "tenants:base_policy_detail": Tenant(READ),
    "tenants:policy_settings_metadata": Tenant(READ),
    "tenants:policy_detail": Tenant(READ, get=404),
    "tenants:policy_edit": Tenant(ACT, get=404, post=404),
    "tenants:policy_assignment": Tenant(ACT, get=404, post=404),
    "tenants:policy_clone": Tenant(ACT, get=404, post=404),
    "tenants:policy_delete": Tenant(ACT, get=404, post=404),
    "tenants:policy_settings_reset": Tenant(ACT, get=404, post=404),
    "tenants:policy_setting_reset": Tenant(ACT, get=404, post=404),
    "tenants:policy_compare": Tenant(READ, get=404),
    # Directory users and groups, admins and roles: ids unknown to Sophos.
    **crud("tenants:directory_users"),
    "tenants:directory_user_groups_add": Tenant(WRITE, post=404),
    "tenants:directory_user_groups_remove": Tenant(WRITE, post=404),
    **crud("tenants:user_groups"),
    "tenants:user_group_members_add": Tenant(WRITE, post=404),
    "tenants:user_group_members_remove": Tenant(WRITE, post=404),
    **crud("tenants:tenant_admins", editable=False),
    "tenants:tenant_admin_roles_add": Tenant(WRITE, post=404),
    "tenants:tenant_admin_roles_remove": Tenant(WRITE, post=404),
    **crud("tenants:tenant_roles"),
    "tenants:tenant_permission_sets_list": Tenant(READ),
    # Firewalls: an empty selection is invalid; ids are unknown to Sophos.
    "tenants:firewalls_list": Tenant(READ),
    "tenants:firewalls_firmware": Tenant(WRITE, get=400, post=400),
    "tenants:firewalls_firmware_cancel": Tenant(WRITE, post=400),
    "tenants:firewalls_detail": Tenant(WRITE, get=404, post=404),
    "tenants:firewalls_group": Tenant(WRITE, post=404),
    "tenants:firewalls_delete": Tenant(ACT, get=404, post=404),
    **crud("tenants:firewall_groups"),
    # Migrations: an empty form is invalid; the job id is unknown to Sophos.
    "tenants:migrations_list": Tenant(READ),
    "tenants:migrations_create": Tenant(ACT, post=400),
    "tenants:migrations_start": Tenant(ACT, post=400),
    "tenants:migrations_detail": Tenant(READ, get=404),
    # Packages, installers and endpoint settings; empty forms are invalid.
    "tenants:packages_list": Tenant(READ),
    "tenants:packages_special_add": Tenant(WRITE, post=400),
    "tenants:packages_detail": Tenant(WRITE, get=404, post=404),
    "tenants:packages_comment_delete": Tenant(WRITE, post=404),
    "tenants:installers_list": Tenant(READ),
    "tenants:peripherals_list": Tenant(READ),
    "tenants:peripherals_detail": Tenant(READ, get=404),
    "tenants:event_journal": Tenant(READ),
    "tenants:event_journal_update": Tenant(WRITE, post=400),
    "tenants:global_tamper_protection": Tenant(READ),
    # Fleet-wide operations: empty POSTs are invalid forms (400).
    "fleet_ops:search": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:tamper": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:tamper_enable": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:isolation": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:isolation_preview": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:isolation_start": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:hygiene": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:hygiene_delete": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:notifications": LoggedIn(),
    "fleet_ops:notifications_read": LoggedIn(get=None, post=302),
    # Job actions on a finished job: each redirects back to the job page.
    "fleet_ops:job_cancel": OwnJob(get=None, post=302),
    "fleet_ops:job_retry": OwnJob(get=None, post=302),
    "fleet_ops:job_repeat": OwnJob(get=None, post=302),
    # Item pushes; the push id is unknown.
    "fleet_ops:push_list": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:push_create": Cap(capability=Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:push_detail": Cap(capability=Capability.VIEW_TENANTS, get=404),
    "fleet_ops:push_run": Write(Capability.ACT_ON_TENANTS, post=404),
    "fleet_ops:push_undo": Cap(capability=Capability.ACT_ON_TENANTS, get=404, post=404),
    # Policy drift; the check and template ids are unknown.
    "fleet_ops:drift": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:drift_policies": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:drift_start": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:drift_check": Cap(capability=Capability.VIEW_TENANTS, get=404),
    "fleet_ops:drift_accept": Cap(
        capability=Capability.ACT_ON_TENANTS, get=404, post=404
    ),
    "fleet_ops:drift_realign": Write(Capability.ACT_ON_TENANTS, post=404),
    "fleet_ops:drift_templates": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:drift_template_create": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:drift_template_delete": Write(Capability.ACT_ON_TENANTS, post=404),
    # Customer onboarding; an empty form is invalid and the run id is unknown.
    "fleet_ops:onboarding": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:onboarding_create": Cap(capability=Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:onboarding_run": Cap(capability=Capability.VIEW_TENANTS, get=404),
    "fleet_ops:onboarding_resume": Write(Capability.ACT_ON_TENANTS, post=404),
    "fleet_ops:onboarding_repeat": Write(Capability.ACT_ON_TENANTS, post=404),
    "fleet_ops:onboarding_templates": Cap(capability=Capability.VIEW_TENANTS),
    "fleet_ops:onboarding_template_create": Write(Capability.ACT_ON_TENANTS, post=400),
    "fleet_ops:onboarding_template_delete": Write(Capability.ACT_ON_TENANTS, post=404),
    # Partner pages; admin and role ids are unknown to Sophos.
    "partner_tenants": Cap(capability=Capability.VIEW_TENANTS),
    "partner_tenant_create": Cap(capability=Capability.PARTNER_ADMIN, post=400),
    "partner_tenant_detail": Tenant(READ, capability=Capability.VIEW_TENANTS),
    "partner_admins": Cap(capability=Capability.PARTNER_ADMIN),
    "partner_admin_create": Cap(capability=Capability.PARTNER_ADMIN, post=400),
    "partner_admin_detail": Cap(capability=Capability.PARTNER_ADMIN, get=404),
    "partner_admin_roles_add": Write(Capability.PARTNER_ADMIN, post=404),
    "partner_admin_roles_remove": Write(Capability.PARTNER_ADMIN, post=404),
    "partner_roles": Cap(capability=Capability.PARTNER_ADMIN),
    "partner_role_create": Cap(capability=Capability.PARTNER_ADMIN, post=400),
    "partner_permission_sets": Cap(capability=Capability.PARTNER_ADMIN),
    "partner_role_detail": Cap(capability=Capability.PARTNER_ADMIN, get=404, post=404),
    "partner_role_delete": Cap(capability=Capability.PARTNER_ADMIN, get=404, post=404),
    "billing_months_fetch": Write(Capability.VIEW_BILLING),
    "billing_month_refresh": Write(Capability.VIEW_BILLING),
    "billing_tenant_usage": Cap(capability=Capability.VIEW_BILLING, get=302),
}


# The world: tenants A and B from a synced simulator fleet, users, a group and
# jobs.


@dataclass
class World:
    tenant_a: mirror.Tenant
    tenant_b: mirror.Tenant
    alert_a: Alert
    alert_b: Alert
    users: dict[str, Any]
    stranger: Any
    target_user: Any
    group: TenantGroup
    jobs: dict[str, Job]
    stranger_job: Job
    connection_id: int

    def secrets_of_b(self) -> list[str]:
        """Strings that identify tenant B and must not reach its outsiders."""
        values = [
            self.tenant_b.name,
            self.tenant_b.show_as,
            self.tenant_b.customer_name,
            str(self.tenant_b.pk),
        ]
        values += [str(pk) for pk in self.tenant_b.alerts.values_list("pk", flat=True)]
        return [value for value in values if value]


def _user(username: str, roles: list[str]):
    # No password: hashing one costs far more than the whole request.
    user = get_user_model().objects.create(username=username)
    UserRole.objects.bulk_create(UserRole(user=user, role=role) for role in roles)
    return user


def _job(requested_by, world_tenants: list[mirror.Tenant]) -> Job:
    job = Job.objects.create(
        kind="sync",
        title=f"Sync requested by {requested_by.username}",
        requested_by=requested_by,
        status=Job.Status.SUCCEEDED,
        total=len(world_tenants),
        done=len(world_tenants),
    )
    for tenant in world_tenants:
        JobItem.objects.create(
            job=job,
            target=str(tenant.pk),
            target_label=tenant.display_name,
            tenant_id=tenant.pk,
            status=JobItem.Status.SUCCEEDED,
        )
    return job


@pytest.fixture
def world(synced_fleet) -> World:
    tenant_a, tenant_b = mirror.Tenant.objects.order_by("name")[:2]
    tenant_b.customer_name = "Customer B Marker"
    tenant_b.save(update_fields=["customer_name"])
    users = {name: _user(name, roles) for name, roles in ROLES.items()}
    for name in ASSIGNED_TENANT_A:
        TenantAssignment.objects.create(user=users[name], tenant=tenant_a)
    stranger = _user("stranger", [Role.TECHNICIAN])
    group = TenantGroup.objects.create(name="Group with B")
    group.tenants.add(tenant_b)
    both = [tenant_a, tenant_b]
    return World(
        tenant_a=tenant_a,
        tenant_b=tenant_b,
        alert_a=tenant_a.alerts.order_by("pk").first(),
        alert_b=tenant_b.alerts.order_by("pk").first(),
        users=users,
        stranger=stranger,
        target_user=_user("target", [Role.TECHNICIAN]),
        group=group,
        jobs={name: _job(user, both) for name, user in users.items()},
        stranger_job=_job(stranger, both),
        connection_id=synced_fleet.pk,
    )


def _tenant_param(world: World, scope: str, role: str) -> Any:
    return world.tenant_a.pk if scope == INSIDE else world.tenant_b.pk


def _alert_param(world: World, scope: str, role: str) -> Any:
    return world.alert_a.pk if scope == INSIDE else world.alert_b.pk


def _endpoint_param(world: World, scope: str, role: str) -> Any:
    tenant = world.tenant_a if scope == INSIDE else world.tenant_b
    return tenant.endpoints.order_by("hostname").first().pk


def _job_param(world: World, scope: str, role: str) -> Any:
    if scope == OUTSIDE or role == ANONYMOUS:
        return world.stranger_job.pk
    return world.jobs[role].pk


# URL parameter name -> its value for (world, scope, role). Parameters named
# here make a pattern run inside and outside the scope.
SCOPED_SUBSTITUTIONS: dict[str, Callable[[World, str, str], Any]] = {
    "tenant_id": _tenant_param,
    "alert_id": _alert_param,
    "job_id": _job_param,
}
SUBSTITUTIONS: dict[str, Callable[[World, str, str], Any]] = {
    **SCOPED_SUBSTITUTIONS,
    "user_id": lambda world, scope, role: world.target_user.pk,
    "group_id": lambda world, scope, role: world.group.pk,
    "connection_id": lambda world, scope, role: world.connection_id,
    # An id that no Sophos object has.
    "item_id": lambda world, scope, role: UNKNOWN_ITEM_ID,
    "endpoint_id": _endpoint_param,
    "endpoint_group_id": lambda world, scope, role: UNKNOWN_ITEM_ID,
    "policy_id": lambda world, scope, role: UNKNOWN_ITEM_ID,
    "assignment_id": lambda world, scope, role: UNKNOWN_ITEM_ID,
    "endpoint_type": lambda world, scope, role: "computer",
    "policy_type": lambda world, scope, role: "threat-protection",
    "setting_key": lambda world, scope, role: "endpoint.malware.enabled",
    "year": lambda world, scope, role: 2025,
    "month": lambda world, scope, role: 1,
    "account_id": lambda world, scope, role: "no-such-account",
    # Fleet operation records that do not exist.
    "push_id": lambda world, scope, role: 999_999,
    "check_id": lambda world, scope, role: 999_999,
    "template_id": lambda world, scope, role: 999_999,
    "run_id": lambda world, scope, role: 999_999,
}


# Walking the URL conf.


@dataclass(frozen=True)
class Route:
    name: str
    parameters: tuple[str, ...]
    route: str


def _walk(
    patterns: list[URLPattern | URLResolver],
    prefix: str = "",
    namespace: str = "",
    parameters: tuple[str, ...] = (),
) -> Iterator[Route]:
    for entry in patterns:
        names = parameters + tuple(entry.pattern.regex.groupindex)
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, text, inner, names)
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(name=name, parameters=names, route=text)


def routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns))


# Watching for outbound writes and queued tasks.


@dataclass
class Outbound:
    writes: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)


@pytest.fixture
def outbound(monkeypatch) -> Outbound:
    seen = Outbound()
    real_handle = SimulatorTransport.handle_request

    def recording_handle(self, request):
        is_token = request.url.path.endswith("/oauth2/token")
        if request.method not in {"GET", "HEAD"} and not is_token:
            seen.writes.append(f"{request.method} {request.url.path}")
        return real_handle(self, request)

    def recording_async_task(func, *args, **kwargs):
        seen.tasks.append(str(func))
        return "recorded-task-id"

    monkeypatch.setattr(SimulatorTransport, "handle_request", recording_handle)
    original = q_tasks.async_task
    monkeypatch.setattr(q_tasks, "async_task", recording_async_task)
    # Modules that imported async_task by name hold their own reference.
    for module in list(sys.modules.values()):
        module_name = getattr(module, "__name__", "")
        if not module_name.startswith(("sophos", "portal")):
            continue
        if getattr(module, "async_task", None) is original:
            monkeypatch.setattr(module, "async_task", recording_async_task)
    return seen


class _Rollback(Exception):
    """Raised to undo a request's database changes."""


@dataclass
class Outcome:
    status: int
    body: str
    writes: list[str]
    tasks: list[str]
    callbacks: int


def _request(
    world: World,
    outbound: Outbound,
    capture: Callable[..., Any],
    role: str,
    method: str,
    url: str,
    data: dict[str, Any],
) -> Outcome:
    """Make one request as ``role`` and roll back everything it changed."""
    writes_before = len(outbound.writes)
    tasks_before = len(outbound.tasks)
    outcome: Outcome | None = None
    try:
        with transaction.atomic():
            client = Client()
            if role != ANONYMOUS:
                client.force_login(world.users[role])
            with capture() as callbacks:
                if method == "GET":
                    response = client.get(url)
                else:
                    response = client.post(url, data)
            if getattr(response, "streaming", False):
                body = b"".join(response.streaming_content).decode()
            else:
                body = response.content.decode()
            outcome = Outcome(
                status=response.status_code,
                body=body,
                writes=outbound.writes[writes_before:],
                tasks=outbound.tasks[tasks_before:],
                callbacks=len(callbacks),
            )
            raise _Rollback
    except _Rollback:
        pass
    assert outcome is not None
    return outcome


def _url(route: Route, world: World, scope: str, role: str) -> str:
    missing = [p for p in route.parameters if p not in SUBSTITUTIONS]
    assert not missing, (
        f"URL pattern {route.name!r} ({route.route}) has parameters {missing} "
        "with no value in SUBSTITUTIONS: add one."
    )
    kwargs = {p: SUBSTITUTIONS[p](world, scope, role) for p in route.parameters}
    return reverse(route.name, kwargs=kwargs)


def _routes_by_name() -> dict[str, Route]:
    return {route.name: route for route in routes() if route.name}


# Tests


def test_every_url_pattern_is_declared():
    undeclared = [
        f"{route.name or '(unnamed)'} {route.route}"
        for route in routes()
        if route.name not in EXPECTATIONS
    ]

    assert undeclared == [], (
        "These URL patterns have no entry in EXPECTATIONS of "
        f"tests/portal/test_permissions.py: {undeclared}"
    )


def test_every_declaration_names_a_pattern():
    names = {route.name for route in routes()}

    assert sorted(set(EXPECTATIONS) - names) == []


def test_url_names_are_unique():
    names = [route.name for route in routes() if route.name]

    assert sorted({n for n in names if names.count(n) > 1}) == []


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_route_permissions(name, world, outbound, django_capture_on_commit_callbacks):
    route = _routes_by_name().get(name)
    if route is None:
        pytest.skip(f"{name} is declared but not in the URL conf.")
    expectation = EXPECTATIONS[name]
    scoped = any(p in SCOPED_SUBSTITUTIONS for p in route.parameters) or (
        isinstance(expectation, TenantPage) and expectation.tenant_in_data
    )
    scopes = [INSIDE, OUTSIDE] if scoped else [INSIDE]
    secrets = world.secrets_of_b()
    problems: list[str] = []

    for role in ALL_ROLES:
        for scope in scopes:
            url = _url(route, world, scope, role)
            for method in expectation.methods():
                outcome = _request(
                    world,
                    outbound,
                    django_capture_on_commit_callbacks,
                    role,
                    method,
                    url,
                    expectation.post_data(world, scope, role),
                )
                case = f"{role} {method} {url} ({scope})"
                expected = expectation.expected(role, scope, method)
                if outcome.status != expected:
                    problems.append(
                        f"{case}: status {outcome.status}, expected {expected}"
                    )
                if role not in SEES_EVERY_TENANT:
                    leaked = [s for s in secrets if s in outcome.body]
                    if leaked:
                        problems.append(f"{case}: body shows tenant B: {leaked}")
                if method == "POST" and not expectation.writes(role, scope):
                    if outcome.writes:
                        problems.append(f"{case}: sent writes {outcome.writes}")
                    if outcome.tasks or outcome.callbacks:
                        problems.append(
                            f"{case}: queued {outcome.tasks} with "
                            f"{outcome.callbacks} on-commit callbacks"
                        )

    assert not problems, "\n".join(["", *problems])


def test_it_hides_other_tenants_from_technicians(world):
    client = Client()
    client.force_login(world.users["technician"])

    html = client.get(reverse("fleet")).content.decode()
    page = client.get(reverse("tenant_alerts", args=[world.tenant_b.pk]))

    assert world.tenant_a.show_as in html
    assert world.tenant_b.show_as not in html
    assert page.status_code == 404


def test_it_shows_only_assigned_job_items(world):
    client = Client()
    client.force_login(world.users["technician"])

    response = client.get(reverse("job_detail", args=[world.jobs["technician"].pk]))

    items = list(response.context["items"])
    assert [item.tenant_id for item in items] == [world.tenant_a.pk]


def test_it_lists_only_own_jobs(world):
    client = Client()
    client.force_login(world.users["technician"])

    page = client.get(reverse("jobs")).context["page"]

    assert [job.pk for job in page] == [world.jobs["technician"].pk]


def test_it_shows_every_job_to_administrators(world):
    client = Client()
    client.force_login(world.users["administrator"])

    page = client.get(reverse("jobs")).context["page"]

    assert len(page) == Job.objects.count()


def test_it_hides_action_controls_from_read_only_users(world):
    client = Client()
    client.force_login(world.users["read_only"])

    fleet = client.get(reverse("fleet")).content.decode()
    alerts = client.get(reverse("tenant_alerts", args=[world.tenant_a.pk]))

    assert reverse("sync_start") not in fleet
    assert alerts.status_code == 200
    assert "alert_action" not in alerts.content.decode()
    assert "/action/" not in alerts.content.decode()
    assert "Read-only" in alerts.content.decode()


def test_it_shows_action_controls_to_technicians(world):
    client = Client()
    client.force_login(world.users["technician"])

    fleet = client.get(reverse("fleet")).content.decode()
    alerts = client.get(reverse("tenant_alerts", args=[world.tenant_a.pk]))

    assert reverse("sync_start") in fleet
    assert "/action/" in alerts.content.decode()


def test_it_rejects_a_forged_read_only_alert_action(
    world, outbound, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(world.users["read_only"])
    url = reverse("alert_action", args=[world.tenant_a.pk, world.alert_a.pk])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url, {"action": "acknowledge"})

    assert response.status_code == 403
    assert outbound.writes == []
    assert outbound.tasks == []
    assert callbacks == []
    assert Alert.objects.filter(pk=world.alert_a.pk).exists()


def test_it_rejects_a_forged_read_only_sync(
    world, outbound, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(world.users["read_only"])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("sync_start"))

    assert response.status_code == 403
    assert callbacks == []
    assert outbound.tasks == []
    assert (
        not Job.objects.filter(requested_by=world.users["read_only"], kind="sync")
        .exclude(pk=world.jobs["read_only"].pk)
        .exists()
    )


def test_harness_sees_allowed_writes(
    world, outbound, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(world.users["technician"])
    url = reverse("alert_action", args=[world.tenant_a.pk, world.alert_a.pk])

    with django_capture_on_commit_callbacks() as callbacks:
        action = client.post(url, {"action": "acknowledge"})
        sync = client.post(reverse("sync_start"))

    assert action.status_code == 302
    assert sync.status_code == 302
    assert any("/alerts/" in write for write in outbound.writes)
    assert len(callbacks) == 1


def test_it_shows_a_note_to_users_without_a_role(world):
    client = Client()
    client.force_login(world.users["no_role"])

    response = client.get(reverse("fleet"))

    assert list(response.context["page"]) == []
    assert "no role yet" in response.content.decode()
