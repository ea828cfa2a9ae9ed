import csv
import io
from types import SimpleNamespace

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Tenant
from sophos.services import packages, tenant_settings
from sophos.simulator.api.reference import SPECIAL_PACKAGES
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_requests, record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(synced_fleet):
    return Tenant.objects.order_by("name").first()


@pytest.fixture
def reader_client(client, tenant):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=[tenant]))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _package(tenant):
    return packages.static_packages_list(tenant=tenant).items[0]


# Packages and comments


def test_packages_list_full_page(owner_client, tenant):
    package = _package(tenant)

    response = owner_client.get(_url("packages_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert package.name in html
    assert "Recommended packages" in html
    assert "Add special package" in html


def test_packages_list_labels_codes(owner_client, tenant):
    response = owner_client.get(_url("packages_list", tenant))
    export = owner_client.get(_url("packages_list", tenant), {"format": "csv"})

    html = response.content.decode()
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert ">Windows</td>" in html
    assert ">windows</td>" not in html
    assert "Core Agent 2024" in html
    assert rows[0][1] == "Platform"
    assert rows[1][1] == "windows"


def test_packages_list_partial(owner_client, tenant):
    response = owner_client.get(
        _url("packages_list", tenant),
        {"platform": "windows"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="packages-table"' in html


def test_packages_list_shows_sophos_error(owner_client, tenant, monkeypatch):
    rejection = reject(
        monkeypatch, "GET", r"/software/packages/static$", 500, "Unexpected error."
    )

    html = owner_client.get(_url("packages_list", tenant)).content.decode()

    assert "Unexpected error." in html
    assert rejection.correlation_id in html


def test_package_comment_set_and_listed(owner_client, tenant):
    package = _package(tenant)

    response = owner_client.post(
        _url("packages_detail", tenant, package.id), {"comment": "Pinned on SQL hosts"}
    )
    listing = owner_client.get(_url("packages_list", tenant)).content.decode()

    assert response.status_code == 302
    assert "Pinned on SQL hosts" in listing
    entry = AuditEntry.objects.get(operation="package_comment_update")
    assert entry.outcome == AuditEntry.Outcome.SUCCEEDED


def test_package_comment_rejection_beside_field(owner_client, tenant, monkeypatch):
    package = _package(tenant)
    rejection = reject(
        monkeypatch, "PUT", r"/software/comments/", 400, "Comment is too long."
    )

    response = owner_client.post(
        _url("packages_detail", tenant, package.id), {"comment": "x"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Comment is too long." in html
    assert rejection.correlation_id in html


def test_package_comment_delete(owner_client, tenant):
    package = _package(tenant)
    packages.package_comment_set(
        user=None, tenant=tenant, package_id=package.id, comment="Old note"
    )

    response = owner_client.post(_url("packages_comment_delete", tenant, package.id))

    assert response.status_code == 302
    assert package.id not in packages.package_comments_by_package(tenant=tenant)


def test_package_detail_partial(owner_client, tenant):
    package = _package(tenant)

    response = owner_client.get(
        _url("packages_detail", tenant, package.id), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="package-comment"' in html


def test_special_package_added_once(owner_client, tenant):
    package = SimpleNamespace(**SPECIAL_PACKAGES[0])
    url = _url("packages_special_add", tenant)

    first = owner_client.post(
        url, {"token": package.id}, headers={"HX-Request": "true"}
    )
    second = owner_client.post(
        url, {"token": package.id}, headers={"HX-Request": "true"}
    )

    assert f"Added the special package {package.name}." in first.content.decode()
    html = second.content.decode()
    assert "already has this special package" in html
    entry = (
        AuditEntry.objects.filter(operation="special_package_add").order_by("pk").last()
    )
    assert entry.status_code == 409
    assert entry.correlation_id in html


def test_special_package_unknown_token(owner_client, tenant):
    response = owner_client.post(
        _url("packages_special_add", tenant),
        {"token": "NO-SUCH-TOKEN"},
        headers={"HX-Request": "true"},
    )

    assert "No released special package matches this token" in (
        response.content.decode()
    )


def test_special_package_token_is_checked(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("packages_special_add", tenant), {"token": "../../admins"}
    )

    assert response.status_code == 400
    assert writes == []


# Installers


def test_installers_list_shows_links(owner_client, tenant):
    installers = packages.installers_list(tenant=tenant).installers

    response = owner_client.get(_url("installers_list", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert installers[0].download_url in html
    assert "readonly" in html


def test_installers_filters_are_sent(owner_client, tenant, monkeypatch):
    urls = record_requests(monkeypatch)

    response = owner_client.get(
        _url("installers_list", tenant),
        {"platforms": ["linux", "macOS"], "products": "interceptX"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    downloads = [url for url in urls if url.path == "/endpoint/v1/downloads"]
    assert "<html" not in html
    assert "SophosSetup.sh" in html
    assert downloads[0].params["platforms"] == "linux,macOS"
    assert downloads[0].params["requestedProducts"] == "interceptX"


def test_installers_reject_unknown_platform(owner_client, tenant):
    response = owner_client.get(_url("installers_list", tenant), {"platforms": "amiga"})

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()


# Peripherals, event journal, tamper protection


def test_peripherals_list(owner_client, tenant):
    response = owner_client.get(_url("peripherals_list", tenant))

    assert response.status_code == 200
    assert "Peripherals" in response.content.decode()


def test_peripheral_detail(owner_client, tenant):
    listed = tenant_settings.peripherals_list(tenant=tenant).items
    if not listed:
        pytest.skip("the seeded tenant has no peripherals")

    response = owner_client.get(_url("peripherals_detail", tenant, listed[0].id))

    assert response.status_code == 200
    assert listed[0].model in response.content.decode()


def test_event_journal_full_and_partial(owner_client, tenant):
    page = owner_client.get(_url("event_journal", tenant))
    partial = owner_client.get(
        _url("event_journal", tenant), headers={"HX-Request": "true"}
    )

    assert "Computers" in page.content.decode()
    assert "Servers" in page.content.decode()
    assert "<html" not in partial.content.decode()


def test_event_journal_update(owner_client, tenant):
    response = owner_client.post(
        _url("event_journal_update", tenant, "server"),
        {"disk_limit_mb": "9000", "disk_limit_percent": "20"},
    )

    settings = tenant_settings.event_journal_settings_get(
        tenant=tenant, endpoint_type="server"
    )
    assert response.status_code == 302
    assert settings.use_recommended is False
    assert settings.disk_limit_mb == 9000


def test_event_journal_needs_a_limit(owner_client, tenant, monkeypatch):
    writes = record_writes(monkeypatch)

    response = owner_client.post(_url("event_journal_update", tenant, "computer"), {})

    assert response.status_code == 400
    assert "Give a limit in MB or as a percentage" in response.content.decode()
    assert writes == []


def test_event_journal_rejection_shown(owner_client, tenant, monkeypatch):
    rejection = reject(
        monkeypatch, "PATCH", r"/event-journal/computer$", 400, "Limit too high."
    )

    response = owner_client.post(
        _url("event_journal_update", tenant, "computer"), {"use_recommended": "on"}
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Limit too high." in html
    assert rejection.correlation_id in html


def test_global_tamper_protection_is_read_only(owner_client, tenant):
    page = owner_client.get(_url("global_tamper_protection", tenant))
    partial = owner_client.get(
        _url("global_tamper_protection", tenant), headers={"HX-Request": "true"}
    )

    html = page.content.decode()
    assert "Tamper protection for the whole tenant is" in html
    assert "Global Settings" in html
    assert "<form" not in html.split('id="tamper-setting"')[1]
    assert "<html" not in partial.content.decode()


def test_global_tamper_protection_error(owner_client, tenant, monkeypatch):
    rejection = reject(
        monkeypatch, "GET", r"/settings/tamper-protection$", 403, "Forbidden."
    )

    html = owner_client.get(_url("global_tamper_protection", tenant)).content.decode()

    assert "Forbidden." in html
    assert rejection.correlation_id in html


# Read-only users


def test_read_only_user_sees_no_package_controls(reader_client, tenant):
    package = _package(tenant)

    listing = reader_client.get(_url("packages_list", tenant)).content.decode()
    detail = reader_client.get(
        _url("packages_detail", tenant, package.id)
    ).content.decode()
    journal = reader_client.get(_url("event_journal", tenant)).content.decode()

    assert "Add special package" not in listing
    assert "Save comment" not in detail
    assert "Save computers" not in journal


def test_read_only_user_forged_posts_are_403(reader_client, tenant, monkeypatch):
    package = _package(tenant)
    writes = record_writes(monkeypatch)

    responses = [
        reader_client.post(_url("packages_special_add", tenant), {"token": package.id}),
        reader_client.post(
            _url("packages_detail", tenant, package.id), {"comment": "x"}
        ),
        reader_client.post(_url("packages_comment_delete", tenant, package.id)),
        reader_client.post(
            _url("event_journal_update", tenant, "computer"), {"use_recommended": "on"}
        ),
    ]

    assert [response.status_code for response in responses] == [403] * 4
    assert writes == []
