"""The fleet-wide pages: search, tamper protection, isolation, hygiene, jobs."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from sophos.models import (
    AllowedBlockedItem,
    AuditEntry,
    Endpoint,
    Job,
    JobItem,
    Notification,
    Tenant,
)
from sophos.services import mirror_items
from sophos.services.endpoints import endpoint_tamper_protection_set
from tests.portal.factories import make_job, make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
SHA = "ab" * 32


@pytest.fixture
def tenants(synced_fleet):
    first, second = Tenant.objects.filter(endpoints_total__gte=2).order_by("name")[:2]
    return first, second


@pytest.fixture
def endpoint(tenants):
    return (
        tenants[0]
        .endpoints.filter(
            isolation_status="notIsolated", tamper_protection_enabled=True
        )
        .order_by("hostname")
        .first()
    )


@pytest.fixture
def technician(client, tenants):
    """A technician assigned only the first tenant, logged in."""
    user = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(user)
    return user


@pytest.fixture
def reader(client, tenants):
    user = make_user(roles=[Role.READ_ONLY], tenants=[tenants[0]])
    client.force_login(user)
    return user


def _start(client, capture, url, data):
    with capture(execute=True):
        response = client.post(url, data)
    return response


# -- search -------------------------------------------------------------------------


def test_search_full_page_and_partial(owner_client, endpoint):
    url = reverse("fleet_ops:search")

    page = owner_client.get(url, {"q": endpoint.hostname})
    partial = owner_client.get(url, {"q": endpoint.hostname}, headers=HTMX)

    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert endpoint.hostname in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'id="search-results"' in partial.content.decode()


@pytest.mark.parametrize("field", ["hostname", "ip", "mac", "user"])
def test_search_finds_endpoint_by(owner_client, endpoint, field):
    values = {
        "hostname": endpoint.hostname.upper(),
        "ip": endpoint.ipv4_addresses[0] if endpoint.ipv4_addresses else "",
        "mac": endpoint.mac_addresses[0] if endpoint.mac_addresses else "",
        "user": endpoint.associated_person,
    }
    query = values[field]
    if not query:
        pytest.skip(f"the seeded endpoint has no {field}")

    response = owner_client.get(reverse("fleet_ops:search"), {"q": query})

    results = response.context["results"]
    found = [e.pk for group in results.groups for e in group.endpoints]
    assert endpoint.pk in found


def test_search_mac_with_dashes(owner_client, endpoint):
    mac = endpoint.mac_addresses[0]
    dashed = mac.replace(":", "-").lower()

    response = owner_client.get(reverse("fleet_ops:search"), {"q": dashed})

    found = [e.pk for g in response.context["results"].groups for e in g.endpoints]
    assert endpoint.pk in found


def test_search_finds_sha256_item(owner_client, tenants):
    AllowedBlockedItem.objects.create(
        tenant=tenants[1],
        kind=AllowedBlockedItem.Kind.BLOCKED,
        item_id="item-1",
        sha256=SHA,
        comment="Ransomware dropper",
        synced_at=timezone.now(),
    )

    response = owner_client.get(reverse("fleet_ops:search"), {"q": SHA.upper()})

    (group,) = response.context["results"].groups
    assert group.tenant == tenants[1]
    assert [item.item_id for item in group.items] == ["item-1"]
    assert "Ransomware dropper" in response.content.decode()


def test_search_finds_alert_text(owner_client, tenants):
    alert = tenants[0].alerts.exclude(description="").first()
    words = alert.description.split()
    query = " ".join(words[:2]) if len(words) > 1 else words[0]

    response = owner_client.get(reverse("fleet_ops:search"), {"q": query})

    found = [a.pk for g in response.context["results"].groups for a in g.alerts]
    assert alert.pk in found


def test_search_groups_by_tenant(owner_client, tenants):
    query = tenants[0].endpoints.order_by("hostname").first().hostname[:2]

    response = owner_client.get(reverse("fleet_ops:search"), {"q": query})

    names = [group.tenant.display_name for group in response.context["results"].groups]
    assert names == sorted(names, key=str.lower)
    assert len(set(names)) == len(names)


def test_search_scoped_to_technician(client, technician, tenants):
    other = tenants[1].endpoints.order_by("hostname").first()

    response = client.get(reverse("fleet_ops:search"), {"q": other.hostname})

    tenant_ids = {g.tenant.pk for g in response.context["results"].groups}
    assert tenant_ids <= {tenants[0].pk}
    assert str(tenants[1].pk) not in response.content.decode()


def test_search_labels_health_and_severity(owner_client, tenants, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(health="notReporting")
    alert = tenants[0].alerts.exclude(description="").first()
    tenants[0].alerts.filter(pk=alert.pk).update(severity="veryHigh")
    url = reverse("fleet_ops:search")

    found_endpoint = owner_client.get(url, {"q": endpoint.hostname})
    found_alert = owner_client.get(url, {"q": alert.description})

    endpoint_html = found_endpoint.content.decode()
    alert_html = found_alert.content.decode()
    assert '<span class="health health-notReporting">Not reporting</span>' in (
        endpoint_html
    )
    assert ">NotReporting<" not in endpoint_html
    assert '<span class="severity severity-veryHigh">Very high</span>' in alert_html
    assert ">VeryHigh<" not in alert_html


def test_search_too_short_query(owner_client, synced_fleet):
    response = owner_client.get(reverse("fleet_ops:search"), {"q": "a"})

    assert response.status_code == 400
    assert "at least 2 characters" in response.content.decode()


def test_header_has_search_box(owner_client, synced_fleet):
    html = owner_client.get(reverse("fleet")).content.decode()

    assert f'action="{reverse("fleet_ops:search")}"' in html


def test_billing_user_has_no_search_box(client, synced_fleet):
    client.force_login(make_user(roles=[Role.BILLING]))

    html = client.get(reverse("jobs")).content.decode()

    assert reverse("fleet_ops:search") not in html


# -- tamper protection ----------------------------------------------------------------


@pytest.fixture
def tamper_off(tenants, endpoint):
    endpoint_tamper_protection_set(
        user=None, tenant=tenants[0], endpoint_id=endpoint.pk, enabled=False
    )
    since = timezone.now() - dt.timedelta(days=2)
    mirror_items.endpoint_tamper_since_update(tenant=tenants[0], now=since)
    mirror_items.global_tamper_state_set(tenant=tenants[1], enabled=False)
    return endpoint


def test_tamper_board_lists_off(owner_client, tamper_off, tenants):
    response = owner_client.get(reverse("fleet_ops:tamper"))

    html = response.content.decode()
    assert tamper_off.hostname in html
    assert "2\xa0days" in html
    assert tenants[1].display_name in html
    assert "central.sophos.com" in html
    assert f'value="{tamper_off.pk}"' in html


def test_tamper_board_partial(owner_client, tamper_off):
    response = owner_client.get(reverse("fleet_ops:tamper"), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="tamper-endpoints"' in html


def test_tamper_board_hides_controls_from_reader(client, reader, tamper_off):
    html = client.get(reverse("fleet_ops:tamper")).content.decode()

    assert tamper_off.hostname in html
    assert 'name="endpoint_ids"' not in html
    assert reverse("fleet_ops:tamper_enable") not in html


def test_tamper_enable_runs_job(
    owner_client, tamper_off, django_capture_on_commit_callbacks
):
    response = _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:tamper_enable"),
        {"endpoint_ids": [str(tamper_off.pk)]},
    )

    job = Job.objects.get(kind="tamper.enable")
    assert response.status_code == 302
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    item = job.items.get()
    assert item.status == JobItem.Status.SUCCEEDED
    tamper_off.refresh_from_db()
    assert tamper_off.tamper_protection_enabled is True
    assert tamper_off.tamper_protection_off_since is None


def test_tamper_enable_forged_by_reader(client, reader, tamper_off, monkeypatch):
    writes = record_writes(monkeypatch)

    response = client.post(
        reverse("fleet_ops:tamper_enable"), {"endpoint_ids": [str(tamper_off.pk)]}
    )

    assert response.status_code == 403
    assert writes == []
    assert not Job.objects.filter(kind="tamper.enable").exists()


def test_tamper_enable_out_of_scope(client, technician, tenants, monkeypatch):
    other = tenants[1].endpoints.first()
    writes = record_writes(monkeypatch)

    response = client.post(
        reverse("fleet_ops:tamper_enable"), {"endpoint_ids": [str(other.pk)]}
    )

    assert response.status_code == 403
    assert writes == []
    assert not Job.objects.filter(kind="tamper.enable").exists()


def test_tamper_enable_without_choice(owner_client, tamper_off):
    response = owner_client.post(reverse("fleet_ops:tamper_enable"), {})

    assert response.status_code == 400
    assert "Choose at least one endpoint." in response.content.decode()


# -- isolation ------------------------------------------------------------------------


def test_isolation_page_filters(owner_client, endpoint):
    url = reverse("fleet_ops:isolation")

    response = owner_client.get(url, {"q": endpoint.hostname}, headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="isolation-picker"' in html
    assert endpoint.hostname in html
    assert html.count('name="endpoint_ids"') == 1


def test_isolation_page_labels_health(owner_client, endpoint):
    Endpoint.objects.filter(pk=endpoint.pk).update(health="notReporting")

    response = owner_client.get(
        reverse("fleet_ops:isolation"), {"q": endpoint.hostname}, headers=HTMX
    )

    html = response.content.decode()
    assert '<span class="health health-notReporting">Not reporting</span>' in html
    assert ">NotReporting<" not in html


def test_isolation_page_full(owner_client, endpoint):
    html = owner_client.get(reverse("fleet_ops:isolation")).content.decode()

    assert "<html" in html
    assert 'name="reason"' in html


def test_isolation_preview_lists_exclusions(owner_client, tenants, endpoint):
    from sophos.services.exclusions import NetworkRule, isolation_exclusion_create

    isolation_exclusion_create(
        user=None,
        tenant=tenants[0],
        rule=NetworkRule(
            direction="outbound",
            remote_addresses=("10.9.9.9",),
            comment="Backup server",
        ),
    )

    response = owner_client.post(
        reverse("fleet_ops:isolation_preview"),
        {
            "endpoint_ids": [str(endpoint.pk)],
            "action": "isolate",
            "reason": "Ransomware",
        },
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "10.9.9.9" in html
    assert "Backup server" in html
    assert endpoint.hostname in html
    assert 'name="reason" value="Ransomware"' in html


def test_isolation_preview_shows_sophos_error(
    owner_client, tenants, endpoint, monkeypatch
):
    rejection = reject(
        monkeypatch, "GET", r"/exclusions/isolation$", 403, "Not allowed here."
    )

    response = owner_client.post(
        reverse("fleet_ops:isolation_preview"),
        {"endpoint_ids": [str(endpoint.pk)], "action": "isolate", "reason": "R"},
    )

    html = response.content.decode()
    assert "Not allowed here." in html
    assert rejection.correlation_id in html


def test_isolation_requires_reason(owner_client, endpoint):
    response = owner_client.post(
        reverse("fleet_ops:isolation_preview"),
        {"endpoint_ids": [str(endpoint.pk)], "action": "isolate", "reason": "  "},
    )

    assert response.status_code == 400
    assert "reason" in response.content.decode().lower()


def test_isolation_start_runs_job(
    owner_client, endpoint, django_capture_on_commit_callbacks
):
    response = _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:isolation_start"),
        {"endpoint_ids": [str(endpoint.pk)], "action": "isolate", "reason": "R1"},
    )

    job = Job.objects.get(kind="isolation.isolate")
    assert response.status_code == 302
    item = job.items.get()
    assert item.status == JobItem.Status.SUCCEEDED
    assert item.stage == "isolated"
    endpoint.refresh_from_db()
    assert endpoint.isolation_status == "isolated"
    entry = AuditEntry.objects.get(operation="endpoints_isolation_update")
    assert entry.parameters["comment"] == "R1"
    assert entry.job_id == job.pk


def test_isolation_forged_by_reader(client, reader, endpoint, monkeypatch):
    writes = record_writes(monkeypatch)

    response = client.post(
        reverse("fleet_ops:isolation_start"),
        {"endpoint_ids": [str(endpoint.pk)], "action": "isolate", "reason": "R"},
    )

    assert response.status_code == 403
    assert writes == []


# -- hygiene --------------------------------------------------------------------------


@pytest.fixture
def stale_and_duplicate(tenants):
    tenant = tenants[0]
    old = timezone.now() - dt.timedelta(days=90)
    stale = tenant.endpoints.order_by("hostname")[0]
    Endpoint.objects.filter(pk=stale.pk).update(last_seen_at=old)
    twin = Endpoint.objects.create(
        id=uuid.uuid4(),
        tenant=tenant,
        hostname=stale.hostname.upper(),
        type="computer",
        last_seen_at=old - dt.timedelta(days=30),
        synced_at=timezone.now(),
    )
    return stale, twin


def test_hygiene_lists_stale_and_duplicates(owner_client, stale_and_duplicate):
    stale, twin = stale_and_duplicate

    response = owner_client.get(reverse("fleet_ops:hygiene"), {"days": "60"})

    assert stale in response.context["stale"]
    assert twin in response.context["stale"]
    (group,) = [g for g in response.context["duplicates"] if twin in g.endpoints]
    assert group.endpoints == [stale, twin]
    assert group.older == [twin]


def test_hygiene_partial(owner_client, stale_and_duplicate):
    response = owner_client.get(
        reverse("fleet_ops:hygiene"), {"days": "60"}, headers=HTMX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="hygiene-lists"' in html


def test_hygiene_dry_run_is_default(owner_client, stale_and_duplicate):
    html = owner_client.get(reverse("fleet_ops:hygiene")).content.decode()

    assert 'name="dry_run" value="on" checked' in html


def test_hygiene_delete_dry_run_then_real(
    owner_client, stale_and_duplicate, django_capture_on_commit_callbacks
):
    stale, twin = stale_and_duplicate
    data = {"endpoint_ids": [str(stale.pk)], "dry_run": "on", "days": "60"}

    _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:hygiene_delete"),
        data,
    )
    dry = Job.objects.get(kind="hygiene.delete")
    repeat = _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:job_repeat", args=[dry.pk]),
        {},
    )

    assert dry.dry_run is True
    assert dry.items.get().message == f"Would delete {stale.hostname}"
    real = Job.objects.exclude(pk=dry.pk).get(kind="hygiene.delete")
    assert repeat["Location"] == reverse("job_detail", args=[real.pk])
    assert real.dry_run is False
    assert real.items.get().status == JobItem.Status.SUCCEEDED
    assert not Endpoint.objects.filter(pk=stale.pk).exists()


# -- jobs -----------------------------------------------------------------------------


def test_job_page_shows_summary(owner_client, owner):
    job = make_job(items=0, status=Job.Status.PARTIAL, requested_by=owner)
    for status in ("succeeded", "succeeded", "failed", "skipped"):
        JobItem.objects.create(job=job, target=status, status=status)

    response = owner_client.get(reverse("job_detail", args=[job.pk]))

    summary = response.context["summary"]
    assert (summary.succeeded, summary.failed, summary.skipped) == (2, 1, 1)
    assert "<strong>2</strong>succeeded" in response.content.decode()


def test_job_page_offers_cancel_while_running(owner_client, owner):
    job = make_job(items=2, status=Job.Status.RUNNING, requested_by=owner)

    html = owner_client.get(reverse("job_detail", args=[job.pk])).content.decode()

    assert reverse("fleet_ops:job_cancel", args=[job.pk]) in html


def test_job_cancel_post(owner_client, owner):
    job = make_job(items=2, status=Job.Status.QUEUED, requested_by=owner)

    response = owner_client.post(reverse("fleet_ops:job_cancel", args=[job.pk]))

    job.refresh_from_db()
    assert response.status_code == 302
    assert job.status == Job.Status.CANCELLED
    assert set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_job_retry_post(
    owner_client, endpoint, tenants, django_capture_on_commit_callbacks
):
    ghost = Endpoint.objects.create(
        id=uuid.uuid4(),
        tenant=tenants[0],
        hostname="ghost-02",
        type="computer",
        synced_at=timezone.now(),
    )
    data = {"endpoint_ids": [str(endpoint.pk), str(ghost.pk)]}
    _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:tamper_enable"),
        data,
    )
    job = Job.objects.get(kind="tamper.enable")
    page = owner_client.get(reverse("job_detail", args=[job.pk])).content.decode()

    response = _start(
        owner_client,
        django_capture_on_commit_callbacks,
        reverse("fleet_ops:job_retry", args=[job.pk]),
        {},
    )

    assert "Retry the 1 failed item" in page
    retry = Job.objects.get(retry_of=job)
    assert response["Location"] == reverse("job_detail", args=[retry.pk])
    assert [item.target for item in retry.items.all()] == [str(ghost.pk)]


def test_job_cancel_other_users_job(client, technician, owner):
    job = make_job(items=1, status=Job.Status.RUNNING, requested_by=owner)

    response = client.post(reverse("fleet_ops:job_cancel", args=[job.pk]))

    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


# -- notifications ------------------------------------------------------------------


def test_header_counts_unread_notifications(owner_client, tenants):
    Notification.objects.create(kind="x", title="One", tenant=tenants[0])
    Notification.objects.create(kind="x", title="Two", tenant=tenants[1])

    html = owner_client.get(reverse("jobs")).content.decode()

    assert 'aria-label="2 unread"' in html


def test_notifications_scoped_and_marked_read(client, technician, tenants):
    Notification.objects.create(kind="x", title="Mine", tenant=tenants[0])
    Notification.objects.create(kind="x", title="Theirs", tenant=tenants[1])
    url = reverse("fleet_ops:notifications")

    html = client.get(url).content.decode()
    client.post(reverse("fleet_ops:notifications_read"))
    after = client.get(reverse("jobs")).content.decode()

    assert "Mine" in html
    assert "Theirs" not in html
    assert "unread" not in after


def test_notifications_partial(owner_client, tenants):
    Notification.objects.create(kind="x", title="One", tenant=tenants[0])

    response = owner_client.get(reverse("fleet_ops:notifications"), headers=HTMX)

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="notifications-list"' in html


@pytest.mark.parametrize(
    ("page", "action"),
    [
        ("fleet_ops:isolation", "fleet_ops:isolation_preview"),
        ("fleet_ops:hygiene", "fleet_ops:hygiene_delete"),
    ],
)
def test_reader_sees_no_action_form(client, reader, page, action):
    html = client.get(reverse(page)).content.decode()

    assert reverse(action) not in html
    assert 'name="endpoint_ids"' not in html
