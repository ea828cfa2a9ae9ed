"""The policy drift pages: baseline form, check results, accept and realign."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from sophos.models import Job, JobItem, Tenant
from sophos.models_fleet import DriftAcceptance, DriftCheck, PolicyTemplate
from sophos.services import policies
from sophos.services.fleet_ops import drift
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes

pytestmark = pytest.mark.django_db

TYPE = "threat-protection"
MALWARE = "endpoint.malware.enabled"
DRIFT_URL = reverse("fleet_ops:drift")
START_URL = reverse("fleet_ops:drift_start")
TEMPLATES_URL = reverse("fleet_ops:drift_templates")


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    settings.SOPHOS_CALLS_PER_MINUTE = 0


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def post(client, url, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {})

    return post


@pytest.fixture
def drifted(owner, tenants):
    """Tenant 1's base policy has malware protection off."""
    base_policy = policies.base_policy_get(tenant=tenants[1], policy_type=TYPE)
    policies.policy_update(
        user=owner,
        tenant=tenants[1],
        policy_id=base_policy.id,
        settings={MALWARE: False},
    )
    return tenants[1]


def _start(client, post, tenants, **fields):
    data = {"source": "policy", "tenant": str(tenants[0].pk), "policy_type": TYPE}
    data.update(fields)
    response = post(client, START_URL, data)
    return response, DriftCheck.objects.order_by("-pk").first()


def _base_value(tenant, key):
    return policies.base_policy_get(tenant=tenant, policy_type=TYPE).setting(key).value


def test_drift_page_full_and_partial(owner_client, tenants):
    full = owner_client.get(DRIFT_URL)
    partial = owner_client.get(DRIFT_URL, headers={"HX-Request": "true"})

    assert full.status_code == 200
    assert b"<html" in full.content
    assert b"Compare every tenant" in full.content
    assert b"<html" not in partial.content
    assert b'id="drift-checks"' in partial.content


def test_policy_choice_lists_named_policies(owner_client, owner, tenants):
    policies.policy_create(user=owner, tenant=tenants[0], name="Kiosks", type=TYPE)
    query = {"tenant": str(tenants[0].pk), "policy_type": TYPE}

    response = owner_client.get(
        reverse("fleet_ops:drift_policies"), query, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kiosks" in html
    assert "Base policy" in html
    assert "<html" not in html


def test_start_compares_and_shows_deviations(owner_client, tenants, drifted, post):
    response, check = _start(owner_client, post, tenants)

    assert response.status_code == 302
    assert response["Location"] == reverse("fleet_ops:drift_check", args=[check.pk])
    check.job.refresh_from_db()
    assert check.job.status == Job.Status.SUCCEEDED
    url = reverse("fleet_ops:drift_check", args=[check.pk])
    full = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})
    html = full.content.decode()
    assert b"<html" in full.content
    assert drifted.display_name in html
    assert MALWARE in html
    assert "Open" in html
    assert "1 with open deviations" in html
    assert b"<html" not in partial.content


def test_start_without_tenant_is_invalid(owner_client, tenants, post):
    response = post(owner_client, START_URL, {"source": "policy", "policy_type": TYPE})

    assert response.status_code == 400
    assert b"Choose the baseline tenant." in response.content
    assert not DriftCheck.objects.exists()


def test_accept_marks_deviation(owner_client, tenants, drifted, post):
    _, check = _start(owner_client, post, tenants)
    url = reverse("fleet_ops:drift_accept", args=[check.pk])
    query = f"?tenant={drifted.pk}&key={MALWARE}"
    day = (timezone.localdate() + dt.timedelta(days=10)).isoformat()

    form = owner_client.get(url + query)
    response = owner_client.post(
        url,
        {
            "tenant": str(drifted.pk),
            "key": MALWARE,
            "reason": "Lab tenant",
            "expires_on": day,
        },
    )

    assert form.status_code == 200
    assert b"Accept the deviation" in form.content
    assert response.status_code == 302
    acceptance = DriftAcceptance.objects.get()
    assert acceptance.reason == "Lab tenant"
    assert acceptance.expires_at.date().isoformat() == day
    page = owner_client.get(reverse("fleet_ops:drift_check", args=[check.pk]))
    assert "Accepted" in page.content.decode()
    assert "Lab tenant" in page.content.decode()


def test_accept_rejects_past_expiry(owner_client, tenants, drifted, post):
    _, check = _start(owner_client, post, tenants)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()

    response = owner_client.post(
        reverse("fleet_ops:drift_accept", args=[check.pk]),
        {
            "tenant": str(drifted.pk),
            "key": MALWARE,
            "reason": "Late",
            "expires_on": yesterday,
        },
    )

    assert response.status_code == 400
    assert b"The expiry must be in the future." in response.content
    assert not DriftAcceptance.objects.exists()


def test_realign_preview_sends_nothing(
    owner_client, tenants, drifted, post, monkeypatch
):
    _, check = _start(owner_client, post, tenants)
    writes = record_writes(monkeypatch)

    response = post(
        owner_client,
        reverse("fleet_ops:drift_realign", args=[check.pk]),
        {"tenants": [str(drifted.pk)], "action": "preview"},
    )

    job = Job.objects.get(kind="drift.realign")
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    assert job.dry_run is True
    assert writes == []
    assert job.items.get().status == JobItem.Status.SKIPPED
    assert _base_value(drifted, MALWARE) is False


def test_realign_sets_baseline(owner_client, tenants, drifted, post):
    _, check = _start(owner_client, post, tenants)

    post(
        owner_client,
        reverse("fleet_ops:drift_realign", args=[check.pk]),
        {"tenants": [str(drifted.pk)], "action": "realign"},
    )

    job = Job.objects.get(kind="drift.realign")
    assert job.status == Job.Status.SUCCEEDED
    assert _base_value(drifted, MALWARE) is True


def test_templates_page_and_create(owner_client, tenants, post):
    full = owner_client.get(TEMPLATES_URL)
    partial = owner_client.get(TEMPLATES_URL, headers={"HX-Request": "true"})

    response = post(
        owner_client,
        reverse("fleet_ops:drift_template_create"),
        {"name": "Standard", "tenant": str(tenants[0].pk), "policy_type": TYPE},
    )

    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert response.status_code == 302
    template = PolicyTemplate.objects.get()
    assert template.settings[MALWARE] is True
    listed = owner_client.get(TEMPLATES_URL).content.decode()
    assert "Standard" in listed
    assert tenants[0].display_name in listed


def test_drift_pages_label_policy_types(owner_client, tenants):
    PolicyTemplate.objects.create(name="DNS", policy_type="endpoint-dns-protection")
    DriftCheck.objects.create(
        policy_type="server-windows-firewall", baseline_label="Template DNS"
    )

    templates_html = owner_client.get(TEMPLATES_URL).content.decode()
    checks_html = owner_client.get(DRIFT_URL).content.decode()

    assert "<td>DNS protection</td>" in templates_html
    assert "<td>endpoint-dns-protection</td>" not in templates_html
    assert "<td>Server Windows firewall</td>" in checks_html
    assert "<td>server-windows-firewall</td>" not in checks_html


def test_template_baseline_check(owner_client, tenants, drifted, post):
    post(
        owner_client,
        reverse("fleet_ops:drift_template_create"),
        {"name": "Standard", "tenant": str(tenants[0].pk), "policy_type": TYPE},
    )
    template = PolicyTemplate.objects.get()

    _, check = _start(
        owner_client, post, tenants, source="template", template=str(template.pk)
    )

    assert check.template == template
    assert check.baseline_label == "Template Standard"


def test_template_create_rejects_taken_name(owner_client, owner, tenants, post):
    drift.policy_template_create(
        user=owner, name="Standard", tenant=tenants[0], policy_type=TYPE
    )

    response = post(
        owner_client,
        reverse("fleet_ops:drift_template_create"),
        {"name": "Standard", "tenant": str(tenants[0].pk), "policy_type": TYPE},
    )

    assert response.status_code == 400
    assert "A template named &#x27;Standard&#x27; exists already." in (
        response.content.decode()
    )
    assert PolicyTemplate.objects.count() == 1


def test_template_delete_by_creator_only(client, owner, tenants, post):
    theirs = drift.policy_template_create(
        user=owner, name="Owner's", tenant=tenants[0], policy_type=TYPE
    )
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    mine = drift.policy_template_create(
        user=technician, name="Mine", tenant=tenants[0], policy_type=TYPE
    )
    client.force_login(technician)

    rejected = post(
        client, reverse("fleet_ops:drift_template_delete", args=[theirs.pk])
    )
    deleted = post(client, reverse("fleet_ops:drift_template_delete", args=[mine.pk]))
    missing = post(client, reverse("fleet_ops:drift_template_delete", args=[mine.pk]))

    assert rejected.status_code == 403
    assert deleted.status_code == 302
    assert missing.status_code == 404
    assert list(PolicyTemplate.objects.values_list("name", flat=True)) == ["Owner's"]


def test_template_source_hidden_outside_scope(client, owner, tenants, post):
    drift.policy_template_create(
        user=owner, name="From B", tenant=tenants[1], policy_type=TYPE
    )
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    html = client.get(TEMPLATES_URL).content.decode()

    assert "From B" in html
    assert tenants[1].display_name not in html
    assert "Delete" not in html


def test_read_only_sees_no_controls(client, tenants, monkeypatch):
    reader = make_user(roles=[Role.READ_ONLY], tenants=[tenants[0]])
    client.force_login(reader)
    writes = record_writes(monkeypatch)

    page = client.get(DRIFT_URL)
    start = client.post(
        START_URL,
        {"source": "policy", "tenant": str(tenants[0].pk), "policy_type": TYPE},
    )

    assert page.status_code == 200
    assert START_URL.encode() not in page.content
    assert start.status_code == 403
    assert writes == []
    assert not DriftCheck.objects.exists()


def test_technician_check_covers_own_tenants(client, tenants, drifted, post):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0], tenants[2]])
    client.force_login(technician)

    _, check = _start(client, post, tenants)

    compared = set(check.results.values_list("tenant_id", flat=True))
    assert compared == {tenants[0].pk, tenants[2].pk}
    html = client.get(reverse("fleet_ops:drift_check", args=[check.pk])).content
    assert drifted.display_name.encode() not in html


def test_technician_cannot_realign_other_tenant(
    client, owner_client, tenants, drifted, post, monkeypatch
):
    _, check = _start(owner_client, post, tenants)
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)
    writes = record_writes(monkeypatch)

    response = post(
        client,
        reverse("fleet_ops:drift_realign", args=[check.pk]),
        {"tenants": [str(drifted.pk)], "action": "realign"},
    )

    assert response.status_code == 404
    assert writes == []
    assert _base_value(drifted, MALWARE) is False
