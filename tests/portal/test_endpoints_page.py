import re
import uuid
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.portal.factories import make_endpoint, make_tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant():
    tenant = make_tenant(name="Contoso", last_synced_at=timezone.now())
    make_endpoint(
        tenant,
        hostname="ws-alice",
        ipv4_addresses=["10.0.3.14"],
        associated_person="CONTOSO\\alice",
        health="good",
    )
    make_endpoint(
        tenant,
        hostname="ws-bob",
        ipv4_addresses=["10.0.4.20", "192.168.1.7"],
        associated_person="CONTOSO\\bob",
        health="bad",
    )
    make_endpoint(tenant, hostname="srv-files", type="server", health="suspicious")
    return tenant


def _hostnames(response):
    return [endpoint.hostname for endpoint in response.context["page"]]


def _url(tenant):
    return reverse("tenant_endpoints", args=[tenant.pk])


def test_endpoints_requires_login(client, tenant):
    response = client.get(_url(tenant))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_endpoints_header_and_tabs(owner_client, tenant):
    response = owner_client.get(_url(tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "<h1>Contoso</h1>" in html
    assert reverse("tenant_alerts", args=[tenant.pk]) in html
    assert "Synced <time" in html
    assert _hostnames(response) == ["srv-files", "ws-alice", "ws-bob"]


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        ("ok", None),
        ("never", None),
        ("failed", "Sync failed"),
        ("forbidden", "Access denied"),
    ],
)
def test_header_sync_status_word(owner_client, tenant, status, shown):
    tenant.sync_status = status
    tenant.save(update_fields=["sync_status"])

    html = owner_client.get(_url(tenant)).content.decode()

    assert html.count("Synced <time") == 1
    assert ">Synced</span>" not in html
    assert ">Never synced</span>" not in html
    if shown is not None:
        assert f'status-{status}">{shown}</span>' in html


def test_endpoints_htmx_returns_table_only(owner_client, tenant):
    response = owner_client.get(_url(tenant), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert "<h1>" not in html
    assert 'id="endpoints-table"' in html
    assert "ws-alice" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"q": "alice"}, ["ws-alice"]),
        ({"q": "192.168.1"}, ["ws-bob"]),
        ({"q": "contoso\\bob"}, ["ws-bob"]),
        ({"health": "bad"}, ["ws-bob"]),
        ({"type": "server"}, ["srv-files"]),
        ({"type": "computer", "health": "good"}, ["ws-alice"]),
        ({"health": "nonsense"}, ["srv-files", "ws-alice", "ws-bob"]),
    ],
)
def test_endpoints_search_and_filters(owner_client, tenant, query, expected):
    response = owner_client.get(_url(tenant), query)

    assert _hostnames(response) == expected


def test_endpoints_hide_other_tenants(owner_client, tenant):
    other = make_tenant(name="Fabrikam")
    make_endpoint(other, hostname="ws-fabrikam")

    response = owner_client.get(_url(tenant))

    assert "ws-fabrikam" not in _hostnames(response)


def test_endpoints_paginates_50_per_page(owner_client):
    tenant = make_tenant()
    for number in range(55):
        make_endpoint(tenant, hostname=f"host-{number:03d}")

    response = owner_client.get(_url(tenant), {"page": 2})

    assert _hostnames(response) == [f"host-{number:03d}" for number in range(50, 55)]


def test_endpoints_empty_state(owner_client):
    tenant = make_tenant()

    html = owner_client.get(_url(tenant)).content.decode()

    assert "No endpoints synced for this tenant." in html


def test_endpoints_unknown_tenant_is_404(owner_client):
    response = owner_client.get(reverse("tenant_endpoints", args=[uuid.uuid4()]))

    assert response.status_code == 404


def _link(html, rel):
    found = re.search(rf'<a href="([^"]+)"[^>]*rel="{rel}"', html)
    assert found, f'no rel="{rel}" link'
    return unescape(found.group(1))


def test_endpoints_keyset_next_and_previous(owner_client):
    tenant = make_tenant()
    for number in range(120):
        make_endpoint(tenant, hostname=f"host-{number:03d}")
    first = owner_client.get(_url(tenant))

    second = owner_client.get(_url(tenant) + _link(first.content.decode(), "next"))
    third = owner_client.get(_url(tenant) + _link(second.content.decode(), "next"))
    back = owner_client.get(_url(tenant) + _link(third.content.decode(), "prev"))

    assert _hostnames(second) == [f"host-{n:03d}" for n in range(50, 100)]
    assert _hostnames(third) == [f"host-{n:03d}" for n in range(100, 120)]
    assert _hostnames(back) == _hostnames(second)
    assert "after=host-049%7C" in _link(first.content.decode(), "next")
    assert "Page 3 of 3" in third.content.decode()
    assert 'rel="next"' not in third.content.decode()
    assert "showing 101–120" in third.content.decode()


def test_endpoints_previous_to_first_page(owner_client):
    tenant = make_tenant()
    for number in range(60):
        make_endpoint(tenant, hostname=f"host-{number:03d}")
    first = owner_client.get(_url(tenant))
    second = owner_client.get(_url(tenant) + _link(first.content.decode(), "next"))

    back = owner_client.get(_url(tenant) + _link(second.content.decode(), "prev"))

    assert _hostnames(back) == [f"host-{n:03d}" for n in range(50)]
    assert "Page 1 of 2" in back.content.decode()
    assert 'rel="prev"' not in back.content.decode()


def test_endpoints_cursor_breaks_hostname_ties_by_id(owner_client):
    tenant = make_tenant()
    for _ in range(55):
        make_endpoint(tenant, hostname="same-name")
    first = owner_client.get(_url(tenant))

    second = owner_client.get(_url(tenant) + _link(first.content.decode(), "next"))

    ids = [e.pk for e in first.context["page"]] + [e.pk for e in second.context["page"]]
    assert len(set(ids)) == 55


def test_endpoints_invalid_cursor_shows_the_first_page(owner_client, tenant):
    response = owner_client.get(_url(tenant), {"after": "no-separator"})

    assert response.status_code == 200
    assert _hostnames(response) == ["srv-files", "ws-alice", "ws-bob"]
