"""A policy cloned and its clone edited through the pages, in headless Chromium."""

import pytest
from django.urls import reverse

from sophos.services import policies
from sophos.services.connections import demo_connection_ensure
from tests.e2e.test_browser import browser_page  # noqa: F401
from tests.portal.tenant_pages import simulator_tenant

pytestmark = pytest.mark.browser

SCHEDULED = "endpoint.scans.scheduled.enabled"


def test_it_clones_a_policy_and_edits_the_clone(
    committed_db,
    live_server,
    browser_page,  # noqa: F811
    django_user_model,
):
    tenant = simulator_tenant(demo_connection_ensure())
    owner = django_user_model.objects.create_superuser(
        "tech", password="Browser-pass-42"
    )
    source = policies.policy_create(
        user=owner, tenant=tenant, name="Office scanning", type="threat-protection"
    )
    page = browser_page

    page.goto(live_server.url + reverse("tenants:policies", args=[tenant.pk]))
    page.fill("input[name=username]", "tech")
    page.fill("input[name=password]", "Browser-pass-42")
    page.click("button[type=submit]")
    page.get_by_role("link", name="Office scanning").click()
    page.get_by_role("link", name="Clone").click()
    page.get_by_label("Name of the copy").fill("Night shift scanning")
    page.get_by_role("button", name="Clone policy").click()

    page.get_by_text("Cloned Office scanning as Night shift scanning.").wait_for()
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Night shift scans")
    page.locator(f"input[name='setting-{SCHEDULED}']").check()
    page.get_by_role("button", name="Save").click()

    page.get_by_text("Saved the policy Night shift scans.").wait_for()
    assert page.locator("#policy-name").inner_text() == "Night shift scans"
    row = page.locator(f"tr[data-setting='{SCHEDULED}']")
    assert row.locator(".setting-value").inner_text() == "On"
    clones = [
        p
        for p in policies.policies_list(tenant=tenant)
        if p.name == "Night shift scans"
    ]
    assert len(clones) == 1
    assert clones[0].id != source.id
    detail = policies.policy_get(tenant=tenant, policy_id=clones[0].id)
    assert detail.setting(SCHEDULED).value is True
    original = policies.policy_get(tenant=tenant, policy_id=source.id)
    assert original.setting(SCHEDULED).value is False
