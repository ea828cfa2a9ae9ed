import datetime as dt
import re
import uuid
from html import unescape
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.accounts.models import Role
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.services import firewalls
from sophos.services.jobs import job_create
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(synced_fleet):
    """A tenant whose seeded fleet has firewalls in a group."""
    for candidate in Tenant.objects.order_by("name"):
        if firewalls.firewalls_list(tenant=candidate, with_sync=False).items:
            return candidate
    raise AssertionError("no seeded tenant has firewalls")


@pytest.fixture
def reader_client(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _firewalls(tenant):
    return firewalls.firewalls_list(tenant=tenant, with_sync=False).items


def _upgrade_data(tenant, items, **extra):
    check = firewalls.firewalls_firmware_check(
        tenant=tenant, firewall_ids=[fw.id for fw in items]
    )
    data = {"ids": [fw.id for fw in items], **extra}
    for candidate in check.firewalls:
        data[f"version_{candidate.firewall_id}"] = candidate.upgrade_to[0]
    return data


# List and detail


def test_firewalls_list_full_page(owner_client, tenant):
    firewall = _firewalls(tenant)[0]

    response = owner_client.get(_url("firewalls_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert firewall.name in html
    assert firewall.serial_number in html
    assert "Configuration sync" in html


def test_firewalls_list_partial_and_filter(owner_client, tenant):
    response = owner_client.get(
        _url("firewalls_list", tenant),
        {"connected": "Connected"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="firewalls-table"' in html


def test_firewalls_list_csv(owner_client, tenant):
    response = owner_client.get(_url("firewalls_list", tenant), {"format": "csv"})

    lines = response.content.decode().splitlines()
    assert lines[0].startswith("Label,Hostname,Serial number")
    assert len(lines) == len(_firewalls(tenant)) + 1


def test_firewalls_list_shows_sophos_error(owner_client, tenant, monkeypatch):
    rejection = reject(
        monkeypatch, "GET", r"/firewall/v1/firewalls$", 503, "Service unavailable."
    )

    response = owner_client.get(_url("firewalls_list", tenant))

    html = response.content.decode()
    assert "Service unavailable." in html
    assert rejection.correlation_id in html


def test_firewall_detail_full_and_partial(owner_client, tenant):
    firewall = _firewalls(tenant)[0]
    url = _url("firewalls_detail", tenant, firewall.id)

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    assert firewall.hostname in page.content.decode()
    assert "Save label" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'id="firewall-detail"' in partial.content.decode()


def test_firewall_detail_labels_states(owner_client, tenant):
    firewall = next(fw for fw in _firewalls(tenant) if fw.cluster_mode)

    response = owner_client.get(_url("firewalls_detail", tenant, firewall.id))

    html = response.content.decode()
    assert "<dt>Management</dt><dd>Approved</dd>" in html
    assert "<dt>Reporting</dt><dd>Approved</dd>" in html
    assert "Active-passive, " in html
    assert "activePassive" not in html


def test_firewall_detail_unknown_is_404(owner_client, tenant):
    response = owner_client.get(
        _url("firewalls_detail", tenant, "00000000-0000-4000-8000-000000000000")
    )

    assert response.status_code == 404


def test_firewall_label_update(owner_client, tenant):
    firewall = _firewalls(tenant)[0]

    response = owner_client.post(
        _url("firewalls_detail", tenant, firewall.id), {"label": "Edge one"}
    )

    assert response.status_code == 302
    labels = [fw.label for fw in _firewalls(tenant)]
    assert "Edge one" in labels
    assert AuditEntry.objects.get(operation="firewall_update").status_code == 200


def test_firewall_label_conflict_beside_field(owner_client, tenant, monkeypatch):
    firewall = _firewalls(tenant)[0]
    rejection = reject(
        monkeypatch, "PATCH", r"/firewall/v1/firewalls/", 409, "Firewall name in use."
    )

    response = owner_client.post(
        _url("firewalls_detail", tenant, firewall.id), {"label": "Taken"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Firewall name in use." in html
    assert rejection.correlation_id in html


def test_firewall_move_to_new_group(owner_client, tenant):
    firewall = _firewalls(tenant)[0]
    group = firewalls.firewall_group_create(user=None, tenant=tenant, name="Branch")

    response = owner_client.post(
        _url("firewalls_group", tenant, firewall.id), {"group": group.id}
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(operation="firewall_group_update")
    assert entry.parameters["body"] == {"assignFirewalls": [firewall.id]}


def test_firewall_delete_confirms_then_deletes(owner_client, tenant):
    firewall = _firewalls(tenant)[0]
    url = _url("firewalls_delete", tenant, firewall.id)

    confirm = owner_client.get(url)
    response = owner_client.post(url)

    assert "Sophos Central stops managing" in confirm.content.decode()
    assert response.status_code == 302
    assert firewall.id not in [fw.id for fw in _firewalls(tenant)]


def test_firewall_delete_error_keeps_firewall(owner_client, tenant, monkeypatch):
    firewall = _firewalls(tenant)[0]
    rejected = reject(monkeypatch, "DELETE", r"/firewalls/", 409, "Firewall busy")

    response = owner_client.post(_url("firewalls_delete", tenant, firewall.id))

    html = response.content.decode()
    assert response.status_code == 409
    assert "Firewall busy" in html
    assert rejected.correlation_id in html
    assert "Sophos Central stops managing" in html
    assert firewall.id in [fw.id for fw in _firewalls(tenant)]


# Firmware


def test_firmware_check_shows_upgrades(owner_client, tenant):
    items = _firewalls(tenant)

    response = owner_client.get(
        _url("firewalls_firmware", tenant), {"ids": [fw.id for fw in items]}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Available upgrades" in html
    for firewall in items:
        assert firewall.firmware_version in html
    assert 'name="upgrade_at"' in html


def test_firmware_check_needs_selection(owner_client, tenant):
    response = owner_client.get(_url("firewalls_firmware", tenant))

    assert response.status_code == 400
    assert "Select at least one firewall." in response.content.decode()


def test_firmware_upgrade_one_runs_at_once(owner_client, tenant):
    firewall = _firewalls(tenant)[0]

    response = owner_client.post(
        _url("firewalls_firmware", tenant),
        _upgrade_data(tenant, [firewall]),
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"Upgrade of {firewall.name}" in html
    assert not Job.objects.filter(kind=firewalls.UPGRADE_JOB_KIND).exists()
    entry = AuditEntry.objects.get(operation="firewalls_firmware_upgrade")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED


def test_firmware_upgrade_several_runs_as_job(
    owner_client, tenant, django_capture_on_commit_callbacks
):
    items = _firewalls(tenant)
    assert len(items) > 1
    later = timezone.now() + dt.timedelta(days=2)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _url("firewalls_firmware", tenant),
            _upgrade_data(tenant, items, upgrade_at=later.strftime("%Y-%m-%dT%H:%M")),
        )

    job = Job.objects.get(kind=firewalls.UPGRADE_JOB_KIND)
    assert response.status_code == 200
    assert f'id="job-{job.pk}-progress"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.items.filter(status=JobItem.Status.SUCCEEDED).count() == len(items)
    bodies = [
        entry.parameters["body"]
        for entry in AuditEntry.objects.filter(operation="firewalls_firmware_upgrade")
    ]
    assert all("upgradeAt" in body["firewalls"][0] for body in bodies)


def _panel_tag(html):
    return re.search(r'<section id="firmware-panel"[^>]*>', html).group(0)


def test_firmware_panel_reloads_when_job_finishes(
    owner_client, tenant, django_capture_on_commit_callbacks
):
    items = _firewalls(tenant)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _url("firewalls_firmware", tenant),
            _upgrade_data(tenant, items),
            headers={"HX-Request": "true"},
        )

    job = Job.objects.get(kind=firewalls.UPGRADE_JOB_KIND)
    query = urlencode({"ids": [fw.id for fw in items], "job": job.pk}, doseq=True)
    tag = unescape(_panel_tag(response.content.decode()))
    assert f'hx-get="{_url("firewalls_firmware", tenant)}?{query}"' in tag
    assert 'hx-trigger="jobFinished from:body"' in tag


def test_firmware_panel_shows_finished_job(
    owner_client, tenant, django_capture_on_commit_callbacks
):
    items = _firewalls(tenant)
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            _url("firewalls_firmware", tenant), _upgrade_data(tenant, items)
        )
    job = Job.objects.get(kind=firewalls.UPGRADE_JOB_KIND)

    response = owner_client.get(
        _url("firewalls_firmware", tenant),
        {"ids": [fw.id for fw in items], "job": job.pk},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="job-{job.pk}-progress"' in html
    assert "The upgrade job has finished." in html
    assert "hx-trigger" not in _panel_tag(html)
    assert "Available upgrades" in html
    assert "every 1s" not in html


def test_firmware_panel_waits_for_cancelled_job_to_end(
    owner_client, tenant, django_capture_on_commit_callbacks
):
    items = _firewalls(tenant)
    with django_capture_on_commit_callbacks(execute=False):
        owner_client.post(
            _url("firewalls_firmware", tenant), _upgrade_data(tenant, items)
        )
    job = Job.objects.get(kind=firewalls.UPGRADE_JOB_KIND)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED)

    response = owner_client.get(
        _url("firewalls_firmware", tenant),
        {"ids": [fw.id for fw in items], "job": job.pk},
        headers={"HX-Request": "true"},
    )

    assert 'hx-trigger="jobFinished from:body"' in _panel_tag(response.content.decode())


@pytest.mark.parametrize(
    "job_param", ["abc", "999999", "other-kind", "other-user", "other-tenant"]
)
def test_firmware_panel_ignores_foreign_job(client, tenant, job_param):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenant])
    other = make_user(roles=[Role.TECHNICIAN], tenants=[tenant])
    client.force_login(technician)
    jobs = {
        "other-kind": job_create(kind="sync", title="Sync", user=technician),
        "other-user": job_create(
            kind=firewalls.UPGRADE_JOB_KIND,
            title="Upgrade",
            user=other,
            parameters={"tenant_id": str(tenant.pk)},
        ),
        "other-tenant": job_create(
            kind=firewalls.UPGRADE_JOB_KIND,
            title="Upgrade",
            user=technician,
            parameters={"tenant_id": str(uuid.uuid4())},
        ),
    }
    job_id = jobs[job_param].pk if job_param in jobs else job_param
    firewall = _firewalls(tenant)[0]

    response = client.get(
        _url("firewalls_firmware", tenant), {"ids": [firewall.id], "job": job_id}
    )

    assert response.status_code == 200
    assert "job-progress" not in response.content.decode()


def test_firmware_upgrade_job_reports_failures(
    owner_client, tenant, monkeypatch, django_capture_on_commit_callbacks
):
    items = _firewalls(tenant)
    reject(
        monkeypatch,
        "POST",
        r"/firmware-upgrade$",
        400,
        "Firmware version is not available.",
    )

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            _url("firewalls_firmware", tenant), _upgrade_data(tenant, items)
        )

    job = Job.objects.get(kind=firewalls.UPGRADE_JOB_KIND)
    assert job.status == Job.Status.FAILED
    failed = job.items.filter(status=JobItem.Status.FAILED)
    assert failed.count() == len(items)
    assert "Firmware version is not available." in failed.first().message
    assert failed.first().correlation_id


def test_firmware_upgrade_rejects_past_time(owner_client, tenant, monkeypatch):
    firewall = _firewalls(tenant)[0]
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("firewalls_firmware", tenant),
        _upgrade_data(tenant, [firewall], upgrade_at="2001-01-01T00:00"),
    )

    assert response.status_code == 400
    assert "Choose a time in the future." in response.content.decode()
    assert [w for w in writes if "firmware-upgrade-check" not in w] == []


def test_firmware_upgrade_one_shows_rejection(owner_client, tenant, monkeypatch):
    firewall = _firewalls(tenant)[0]
    data = _upgrade_data(tenant, [firewall])
    rejection = reject(
        monkeypatch, "POST", r"/firmware-upgrade$", 400, "Invalid request."
    )

    response = owner_client.post(_url("firewalls_firmware", tenant), data)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Invalid request." in html
    assert rejection.correlation_id in html


def test_firmware_cancel(owner_client, tenant):
    firewall = _firewalls(tenant)[0]
    check = firewalls.firewalls_firmware_check(
        tenant=tenant, firewall_ids=[firewall.id]
    )
    firewalls.firewalls_firmware_upgrade(
        user=None,
        tenant=tenant,
        requests=[
            firewalls.UpgradeRequest(firewall.id, check.firewalls[0].upgrade_to[0])
        ],
    )

    response = owner_client.post(
        _url("firewalls_firmware_cancel", tenant),
        {"ids": [firewall.id]},
        headers={"HX-Request": "true"},
    )

    assert "Cancelled the scheduled firmware upgrades of 1 firewall" in (
        response.content.decode()
    )
    entry = AuditEntry.objects.get(operation="firewalls_firmware_upgrade_cancel")
    assert entry.parameters["query"] == {"ids": [firewall.id]}


def test_firmware_cancel_without_schedule_shows_error(owner_client, tenant):
    firewall = _firewalls(tenant)[0]

    response = owner_client.post(
        _url("firewalls_firmware_cancel", tenant),
        {"ids": [firewall.id]},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "has no scheduled upgrade" in html
    assert "Correlation id <code>" in html
    entry = AuditEntry.objects.get(operation="firewalls_firmware_upgrade_cancel")
    assert entry.outcome == AuditEntry.Outcome.FAILED


# Groups


def test_firewall_groups_list_full_and_partial(owner_client, tenant):
    group = firewalls.firewall_groups_list(tenant=tenant).items[0]

    page = owner_client.get(_url("firewall_groups_list", tenant))
    partial = owner_client.get(
        _url("firewall_groups_list", tenant), headers={"HX-Request": "true"}
    )

    assert group.name in page.content.decode()
    assert "<html" not in partial.content.decode()


def test_firewall_group_detail_shows_sync(owner_client, tenant):
    group = firewalls.firewall_groups_list(tenant=tenant).items[0]

    response = owner_client.get(_url("firewall_groups_detail", tenant, group.id))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Configuration sync status" in html


def test_firewall_group_create_and_update(owner_client, tenant):
    firewall = _firewalls(tenant)[0]

    created = owner_client.post(
        _url("firewall_groups_create", tenant),
        {
            "name": "Shops",
            "firewalls": [firewall.id],
            "parent": "",
            "config_source": "",
        },
    )
    group = next(
        g
        for g in firewalls.firewall_groups_list(tenant=tenant).items
        if g.name == "Shops"
    )
    updated = owner_client.post(
        _url("firewall_groups_detail", tenant, group.id),
        {"name": "Shops and kiosks", "firewalls": []},
    )

    assert created.status_code == 302
    assert updated.status_code == 302
    entry = AuditEntry.objects.filter(operation="firewall_group_update").get()
    assert entry.parameters["body"]["name"] == "Shops and kiosks"
    assert entry.parameters["body"]["unassignFirewalls"] == [firewall.id]


def test_firewall_group_delete(owner_client, tenant):
    group = firewalls.firewall_group_create(user=None, tenant=tenant, name="Old")

    response = owner_client.post(_url("firewall_groups_delete", tenant, group.id))

    assert response.status_code == 302
    names = [g.name for g in firewalls.firewall_groups_list(tenant=tenant).items]
    assert "Old" not in names


# Read-only users


def test_read_only_user_sees_no_firewall_controls(reader_client, tenant):
    firewall = _firewalls(tenant)[0]

    detail = reader_client.get(_url("firewalls_detail", tenant, firewall.id))
    check = reader_client.get(
        _url("firewalls_firmware", tenant), {"ids": [firewall.id]}
    )

    assert "Save label" not in detail.content.decode()
    assert ">Delete<" not in detail.content.decode()
    assert "Available upgrades" in check.content.decode()
    assert ">Upgrade<" not in check.content.decode()
    assert "Cancel scheduled upgrades" not in check.content.decode()


def test_read_only_user_forged_posts_are_403(reader_client, tenant, monkeypatch):
    firewall = _firewalls(tenant)[0]
    writes = record_writes(monkeypatch)

    responses = [
        reader_client.post(
            _url("firewalls_detail", tenant, firewall.id), {"label": "x"}
        ),
        reader_client.post(
            _url("firewalls_group", tenant, firewall.id), {"group": "x"}
        ),
        reader_client.post(_url("firewalls_delete", tenant, firewall.id)),
        reader_client.post(_url("firewalls_firmware", tenant), {"ids": [firewall.id]}),
        reader_client.post(
            _url("firewalls_firmware_cancel", tenant), {"ids": [firewall.id]}
        ),
        reader_client.post(_url("firewall_groups_create", tenant), {"name": "x"}),
    ]

    assert [response.status_code for response in responses] == [403] * 6
    assert writes == []
