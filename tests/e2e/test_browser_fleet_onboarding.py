"""A customer onboarded into a new tenant, dry run first, in Chromium."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from sophos.models import Tenant
from sophos.models_fleet import OnboardingRun
from sophos.services import directory, policies
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.fleet_browser import PASSWORD, csp_errors_collect, log_in
from tests.e2e.test_browser import browser_page  # noqa: F401

pytestmark = pytest.mark.browser

TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"
FIELDS = {
    "customer_name": "Beacon Dental",
    "tenant_name": "Beacon Dental Ltd",
    "contact_first_name": "Grace",
    "contact_last_name": "Hopper",
    "contact_email": "grace@beacon.example",
    "users_text": "Ann Smith, ann@beacon.example, Front desk",
    "computer_groups": "Reception\nSurgery",
}


STEPS = "#onboarding-run .table-scroll tbody tr"
CREATED = (
    "Tenant Beacon Dental Ltd",
    "User group Front desk",
    "User Ann Smith",
    "Computer group Reception",
    "Computer group Surgery",
    "Base policy: Threat protection",
)


def _finished_wait(page) -> None:
    page.locator("#onboarding-run:not([hx-get])").wait_for()


def test_onboarding_runs_every_step(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    owner = django_user_model.objects.create_superuser("owner", password=PASSWORD)
    baseline = Tenant.objects.order_by("name").first()
    base_policy = policies.base_policy_get(tenant=baseline, policy_type=TYPE)
    policies.policy_update(
        user=owner,
        tenant=baseline,
        policy_id=base_policy.id,
        settings={MALWARE: False},
    )
    page = browser_page
    csp_errors = csp_errors_collect(page)

    log_in(page, live_server, reverse("fleet_ops:onboarding_create"), "owner")
    assert page.get_by_label("Create a tenant under the partner").is_checked()
    for name, value in FIELDS.items():
        page.locator(f"[name={name}]").fill(value)
    page.locator("select[name=data_geography]").select_option("IE")
    page.locator("select[name=baseline_tenant]").select_option(str(baseline.pk))
    page.get_by_role("button", name="Preview (dry run)").click()

    page.get_by_role("heading", name="Dry run: Beacon Dental").wait_for()
    _finished_wait(page)
    steps = page.locator(STEPS)
    step_count = steps.count()
    assert step_count > len(CREATED)
    assert steps.locator(".status").all_inner_texts() == ["Skipped"] * step_count
    assert steps.filter(has_text="Would create the tenant Beacon Dental Ltd").count()
    assert not Tenant.objects.filter(name="Beacon Dental Ltd").exists()
    page.get_by_role("button", name="Onboard now").click()

    page.get_by_role("heading", name="Beacon Dental", exact=True).wait_for()
    _finished_wait(page)
    steps = page.locator(STEPS)
    assert steps.count() == step_count
    for label in CREATED:
        step = steps.filter(has_text=label)
        assert step.locator(".status").inner_text() == "Succeeded", label
    unchanged = steps.filter(has_text="Already matches the baseline's base policy.")
    assert unchanged.count() == step_count - len(CREATED)
    progress = page.locator("#onboarding-run .job-progress")
    assert progress.locator(".status").inner_text() == "Succeeded"
    assert f"{step_count} of {step_count} done" in progress.inner_text()
    summary = f"{len(CREATED)} done · {step_count - len(CREATED)} skipped · 0 failed"
    assert page.get_by_text(summary).count() == 1
    assert page.get_by_role("button", name="Resume the onboarding").count() == 0

    installers = page.locator("section[aria-labelledby=installers-heading]")
    links = installers.get_by_role("link", name="Download")
    hrefs = links.evaluate_all("links => links.map(link => link.href)")
    assert len(hrefs) >= 1
    for href in hrefs:
        assert urlsplit(href).hostname.endswith(".invalid")
    run = OnboardingRun.objects.get(dry_run=False)
    assert run.tenant.customer_name == "Beacon Dental"
    assert run.tenant.name == "Beacon Dental Ltd"
    assert str(run.tenant.pk) in hrefs[0]
    emails = {user.email for user in directory.users_list(tenant=run.tenant).items}
    assert emails == {"ann@beacon.example"}
    cloned = policies.base_policy_get(tenant=run.tenant, policy_type=TYPE)
    assert cloned.setting(MALWARE).value is False
    page.get_by_role("link", name="Beacon Dental Ltd").click()
    page.wait_for_url(f"**{reverse('tenant_endpoints', args=[run.tenant.pk])}")
    assert csp_errors == []
