"""A drifted tenant found by a policy comparison and accepted, in Chromium."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from sophos.models import Tenant
from sophos.models_fleet import DriftAcceptance
from sophos.services import policies
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import PASSWORD, csp_errors_collect, log_in
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser

TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"


def _results_wait(page) -> None:
    page.locator("#drift-results:not([hx-get])").wait_for()


def test_drifted_tenant_shown_and_accepted(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    owner = django_user_model.objects.create_superuser("owner", password=PASSWORD)
    baseline, drifted = Tenant.objects.order_by("name")[:2]
    base_policy = policies.base_policy_get(tenant=drifted, policy_type=TYPE)
    policies.policy_update(
        user=owner,
        tenant=drifted,
        policy_id=base_policy.id,
        settings={MALWARE: False},
    )
    compared = Tenant.objects.count()
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:drift"), "owner")
    assert page.get_by_label("A tenant's policy").is_checked()
    page.locator("select[name=tenant]").select_option(str(baseline.pk))
    page.get_by_label("Policy type").select_option(TYPE)
    page.get_by_role("button", name="Compare every tenant").click()

    _results_wait(page)
    results = page.locator("#drift-results")
    assert f"{compared} tenants compared, 1 with open deviations." in (
        results.inner_text()
    )
    section = results.locator("section").filter(
        has=page.get_by_role("heading", name=drifted.display_name)
    )
    row = section.locator("tbody tr").filter(has_text=MALWARE)
    assert row.count() == 1
    assert row.locator(".status").inner_text() == "Open"
    others = results.locator("section").filter(
        has_not=page.get_by_role("heading", name=drifted.display_name)
    )
    assert others.count() == compared - 1
    assert others.locator("tbody tr").count() == 0
    row.get_by_role("link", name="Accept…").click()

    page.get_by_role(
        "heading", name=f"Accept a deviation in {drifted.display_name}"
    ).wait_for()
    page.get_by_label("Reason").fill("Lab tenant for malware samples")
    page.get_by_role("button", name="Accept the deviation").click()

    page.get_by_text(
        f"Accepted the deviation of {MALWARE} in {drifted.display_name}."
    ).wait_for()
    _results_wait(page)
    results = page.locator("#drift-results")
    assert f"{compared} tenants compared, 0 with open deviations." in (
        results.inner_text()
    )
    row = (
        results.locator("section")
        .filter(has=page.get_by_role("heading", name=drifted.display_name))
        .locator("tbody tr")
        .filter(has_text=MALWARE)
    )
    expiry = timezone.localdate() + dt.timedelta(days=90)
    assert row.locator(".status").inner_text() == "Accepted"
    assert f"until {expiry.isoformat()}" in row.inner_text()
    assert "Lab tenant for malware samples (owner)" in row.inner_text()
    acceptance = DriftAcceptance.objects.get()
    assert acceptance.tenant_id == drifted.pk
    assert acceptance.setting_key == MALWARE
    assert csp_errors == []
