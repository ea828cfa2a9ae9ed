import uuid

import pytest
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from sophos.models import Endpoint, Job, Tenant
from tests.portal.factories import make_connection, make_job, make_tenant, make_user

pytestmark = pytest.mark.django_db

FLEET_URL = reverse("fleet")


def _make_tenants(count):
    connection = make_connection()
    return [
        make_tenant(connection, endpoints_total=10, endpoints_good=10)
        for _ in range(count)
    ]


def test_fleet_requires_login(client):
    response = client.get(FLEET_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_fleet_shows_tenant_counters(owner_client):
    tenant = make_tenant(
        name="Contoso",
        endpoints_total=12,
        endpoints_good=7,
        endpoints_suspicious=2,
        endpoints_bad=1,
        endpoints_unknown=2,
        tamper_off=3,
        alerts_high=4,
        alerts_medium=5,
        alerts_low=6,
        sync_status=Tenant.SyncStatus.OK,
        last_synced_at=timezone.now(),
    )

    response = owner_client.get(FLEET_URL)

    assert response.status_code == 200
    assert b"<html" in response.content
    page = response.context["page"]
    row = page.object_list[0]
    assert row.pk == tenant.pk
    assert row.open_alerts == 15
    html = response.content.decode()
    assert "Contoso" in html
    assert reverse("tenant_endpoints", args=[tenant.pk]) in html
    assert "Synced" in html


def test_fleet_htmx_returns_table_only(owner_client):
    make_tenant(name="Contoso")

    response = owner_client.get(FLEET_URL, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="fleet-table"' in html
    assert "Contoso" in html
    assert "HX-Request" in response["Vary"]


def test_fleet_history_restore_returns_full_page(owner_client):
    response = owner_client.get(
        FLEET_URL,
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )

    assert b"<html" in response.content


def test_fleet_shows_failed_and_forbidden_syncs(owner_client):
    make_tenant(
        name="Locked out",
        sync_status=Tenant.SyncStatus.FORBIDDEN,
        sync_error="Sophos Central denied access (403)",
    )
    make_tenant(name="Broken", sync_status=Tenant.SyncStatus.FAILED)

    html = owner_client.get(FLEET_URL).content.decode()

    assert "Access denied" in html
    assert "Sophos Central denied access (403)" in html
    assert "Sync failed" in html


def test_fleet_searches_by_name(owner_client):
    make_tenant(name="Contoso")
    make_tenant(name="Fabrikam")

    response = owner_client.get(FLEET_URL, {"q": "fabri"})

    names = [tenant.name for tenant in response.context["page"]]
    assert names == ["Fabrikam"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("-name", ["Charlie", "Bravo", "Alpha"]),
        ("-bad", ["Bravo", "Charlie", "Alpha"]),
        ("-alerts", ["Charlie", "Alpha", "Bravo"]),
        ("synced", ["Alpha", "Charlie", "Bravo"]),
    ],
)
def test_fleet_sorts_by_column(owner_client, sort, expected):
    now = timezone.now()
    connection = make_connection()
    make_tenant(connection, name="Alpha", endpoints_bad=0, alerts_low=5)
    make_tenant(
        connection,
        name="Bravo",
        endpoints_bad=9,
        alerts_low=1,
        last_synced_at=now,
    )
    make_tenant(
        connection,
        name="Charlie",
        endpoints_bad=3,
        alerts_high=4,
        alerts_medium=4,
        last_synced_at=now - timezone.timedelta(hours=1),
    )

    response = owner_client.get(FLEET_URL, {"sort": sort})

    assert [tenant.name for tenant in response.context["page"]] == expected


def test_fleet_ignores_unknown_sort_key(owner_client):
    make_tenant(name="Contoso")

    response = owner_client.get(FLEET_URL, {"sort": "connection__secret_encrypted"})

    assert response.status_code == 200
    assert response.context["sort"] == "name"


def test_fleet_sort_link_reverses(owner_client):
    make_tenant(name="Contoso")

    html = owner_client.get(FLEET_URL, {"sort": "name", "q": "con"}).content.decode()

    assert 'aria-sort="ascending"' in html
    assert (
        'href="?sort=-name&amp;q=con"' in html or 'href="?q=con&amp;sort=-name"' in html
    )


def test_fleet_paginates_50_per_page(owner_client):
    _make_tenants(51)

    first = owner_client.get(FLEET_URL)
    second = owner_client.get(FLEET_URL, {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 1
    assert "Page 1 of 2" in first.content.decode()


@pytest.mark.parametrize("count", [3, 30])
def test_fleet_query_count_is_constant(owner_client, django_assert_num_queries, count):
    _make_tenants(count)

    # Session, user, the user's roles, tenant count, tenant page, active sync
    # job and the header's unread notification count, then the session save
    # from SESSION_SAVE_EVERY_REQUEST with its savepoint pair.
    with django_assert_num_queries(10):
        response = owner_client.get(FLEET_URL)

    assert len(response.context["page"].object_list) == count


def test_fleet_shows_running_sync_job(owner_client):
    job = make_job(items=2, status=Job.Status.RUNNING)

    html = owner_client.get(FLEET_URL).content.decode()

    assert f'hx-get="{reverse("job_detail", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html


def test_fleet_matches_synced_mirror(synced_fleet, owner_client):
    expected = {
        row["tenant"]: row
        for row in Endpoint.objects.values("tenant").annotate(
            total=Count("id"),
            good=Count("id", filter=Q(health="good")),
            bad=Count("id", filter=Q(health="bad")),
            tamper_off=Count("id", filter=Q(tamper_protection_enabled=False)),
        )
    }

    response = owner_client.get(FLEET_URL)

    rows = list(response.context["page"])
    assert rows
    for tenant in rows:
        counts = expected.get(tenant.pk, {"total": 0, "good": 0, "bad": 0})
        assert tenant.endpoints_total == counts["total"], tenant.name
        assert tenant.endpoints_good == counts["good"], tenant.name
        assert tenant.endpoints_bad == counts["bad"], tenant.name
        assert tenant.alerts_high == tenant.alerts.filter(severity="high").count()
        assert str(tenant.endpoints_total) in response.content.decode()


def test_sync_start_htmx_polls_progress(owner_client):
    response = owner_client.post(reverse("sync_start"), headers={"HX-Request": "true"})

    assert response.status_code == 200
    job = Job.objects.get(kind="sync")
    html = response.content.decode()
    assert "<html" not in html
    assert f'hx-get="{reverse("job_detail", args=[job.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html


def test_sync_start_redirects_to_job(owner_client):
    response = owner_client.post(reverse("sync_start"))

    job = Job.objects.get(kind="sync")
    assert response.status_code == 302
    assert response["Location"] == reverse("job_detail", args=[job.pk])


def test_sync_start_rejects_get(owner_client):
    response = owner_client.get(reverse("sync_start"))

    assert response.status_code == 405


def test_sync_start_requires_csrf(client):
    client.handler.enforce_csrf_checks = True
    client.force_login(make_user())

    response = client.post(reverse("sync_start"))

    assert response.status_code == 403


def test_tenant_root_redirects_to_endpoints(owner_client):
    tenant = make_tenant()

    response = owner_client.get(reverse("tenant_detail", args=[tenant.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_endpoints", args=[tenant.pk])


def test_tenant_root_unknown_tenant_is_404(owner_client):
    response = owner_client.get(reverse("tenant_detail", args=[uuid.uuid4()]))

    assert response.status_code == 404
