from unittest import mock

import pytest
from django.urls import reverse

from sophos.errors import BadRequest
from sophos.models import AuditEntry
from sophos.services import web_control
from sophos.simulator.faults import set_faults
from tests.portal.tenant_pages import (
    last_audit,
    login_reader,
    shown_correlation_ids,
    simulator_tenant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenant(demo_connection):
    return simulator_tenant(demo_connection)


@pytest.fixture
def categories(tenant):
    return web_control.web_categories_list(tenant=tenant).items


@pytest.fixture
def site(tenant, owner, categories):
    return web_control.local_site_create(
        user=owner,
        tenant=tenant,
        url="intranet.example.com",
        category_id=categories[0].id,
        tags=["internal", "hr"],
        comment="Staff portal",
    )


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


# -- local sites ---------------------------------------------------------------------


def test_local_sites_list_full_and_partial(owner_client, tenant, site, categories):
    url = _url("local_sites_list", tenant)

    page = owner_client.get(url)
    partial = owner_client.get(url + "?q=HR", headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert "<html" in page.content.decode()
    assert "intranet.example.com" in page.content.decode()
    assert categories[0].name in page.content.decode()
    assert 'aria-current="page">Local sites' in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert "intranet.example.com" in partial.content.decode()


def test_local_site_create_form_offers_categories(owner_client, tenant, categories):
    response = owner_client.get(_url("local_sites_create", tenant))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{categories[0].id}">{categories[0].name}</option>' in html


def test_local_site_create(owner_client, tenant, categories):
    response = owner_client.post(
        _url("local_sites_create", tenant),
        {
            "url": "wiki.example.com",
            "category_id": str(categories[1].id),
            "tags": "docs, docs, internal",
            "comment": "",
        },
    )

    created = [
        item
        for item in web_control.local_sites_list(tenant=tenant).items
        if item.url == "wiki.example.com"
    ]
    assert response.status_code == 302
    assert created[0].category_id == categories[1].id
    assert created[0].tags == ("docs", "internal")
    assert last_audit("local_site_create").status_code == 201


def test_local_site_needs_category_or_tag(owner_client, tenant):
    response = owner_client.post(
        _url("local_sites_create", tenant), {"url": "a.example.com"}
    )

    assert response.status_code == 400
    assert "Choose a category or enter a tag." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_local_site_create_rejected_by_sophos(owner_client, tenant):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.post(
        _url("local_sites_create", tenant), {"url": "a.example.com", "tags": "x"}
    )

    html = response.content.decode()
    audit = last_audit("local_site_create")
    assert response.status_code == 400
    assert audit.correlation_id in html.split('id="field-url"')[1]
    assert "did not return the web categories" in html


def test_local_site_edit(owner_client, tenant, site, categories):
    response = owner_client.post(
        _url("local_sites_detail", tenant, site.id),
        {
            "url": "intranet.example.com",
            "category_id": str(categories[3].id),
            "tags": "staff",
        },
    )

    updated = web_control.local_site_get(tenant=tenant, site_id=site.id)
    assert response.status_code == 302
    assert updated.tags == ("staff",)
    assert updated.category_id == categories[3].id


def test_local_site_edit_rejected_by_sophos(owner_client, tenant, site):
    rejected = BadRequest("Invalid URL.", status=400, correlation_id="cid-url")
    with mock.patch(
        "sophos.services.web_control.local_site_update",
        autospec=True,
        side_effect=rejected,
    ):
        response = owner_client.post(
            _url("local_sites_detail", tenant, site.id),
            {"url": "bad..example", "tags": "x"},
        )

    field = response.content.decode().split('id="field-url"')[1].split("</div>")[0]
    assert response.status_code == 400
    assert "Invalid URL. (correlation id cid-url)" in field


def test_local_site_delete_with_confirmation(owner_client, tenant, site):
    url = _url("local_sites_delete", tenant, site.id)

    confirm = owner_client.get(url)
    deleted = owner_client.post(url, headers={"HX-Request": "true"})

    listed = web_control.local_sites_list(tenant=tenant).items
    assert "intranet.example.com goes back to the category" in confirm.content.decode()
    assert deleted.status_code == 200
    assert "Deleted the local site intranet.example.com." in deleted.content.decode()
    assert site.id not in [item.id for item in listed]


# -- web categories ------------------------------------------------------------------


def test_web_categories_list(owner_client, tenant, categories):
    url = _url("web_categories_list", tenant)

    page = owner_client.get(url + "?sort=-id")
    export = owner_client.get(url + "?format=csv")

    assert page.status_code == 200
    assert categories[0].name in page.content.decode()
    assert export.content.decode().splitlines()[0] == "Category,Name,Id"
    assert len(export.content.decode().splitlines()) == len(categories) + 1


def test_web_categories_list_plural(owner_client, tenant, categories):
    html = owner_client.get(_url("web_categories_list", tenant)).content.decode()

    assert "categorys" not in html
    assert f"{len(categories)} web categories, showing" in html


# -- SSL/TLS decryption --------------------------------------------------------------


def test_tls_decryption_page(owner_client, tenant, categories):
    url = _url("tls_decryption", tenant)

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200
    assert f'name="category_{categories[0].id}"' in html
    assert "Save decryption settings" in html
    assert "<html" not in partial.content.decode()
    assert 'id="tls-settings"' in partial.content.decode()


def test_tls_decryption_update(owner_client, tenant, categories):
    chosen = categories[2].id

    response = owner_client.post(
        _url("tls_decryption", tenant), {f"category_{chosen}": "on"}
    )

    settings = web_control.tls_decryption_settings_get(tenant=tenant)
    assert response.status_code == 302
    assert settings.decryption[chosen] is True
    assert settings.decryption[categories[0].id] is False
    assert last_audit("tls_decryption_settings_update").status_code == 200


def test_tls_decryption_unticking_every_category(owner_client, tenant, categories):
    response = owner_client.post(_url("tls_decryption", tenant), {})

    settings = web_control.tls_decryption_settings_get(tenant=tenant)
    assert response.status_code == 302
    assert set(settings.decryption.values()) == {False}
    assert len(settings.decryption) == len(categories)


def test_tls_decryption_reader_cannot_save(client, tenant):
    login_reader(client, tenant)

    page = client.get(_url("tls_decryption", tenant))
    forged = client.post(_url("tls_decryption", tenant), {"category_1": "on"})

    assert page.status_code == 200
    assert "Save decryption settings" not in page.content.decode()
    assert forged.status_code == 403
    assert not AuditEntry.objects.exists()


def test_tls_decryption_shows_sophos_error(owner_client, tenant):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.get(_url("tls_decryption", tenant))

    assert response.status_code == 200
    assert len(shown_correlation_ids(response.content.decode())) == 1


# -- SSL/TLS excluded websites -------------------------------------------------------


def test_tls_excluded_websites_error_logged(owner_client, tenant, caplog):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.get(_url("tls_excluded_websites_list", tenant))

    assert response.status_code == 200
    assert len(shown_correlation_ids(response.content.decode())) == 1
    assert f"TLS excluded websites of tenant {tenant.pk} failed" in caplog.text


def test_tls_excluded_websites_page(owner_client, tenant):
    url = _url("tls_excluded_websites_list", tenant)

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert "Exclude a website" in page.content.decode()
    assert "<html" not in partial.content.decode()
    assert 'id="excluded-table"' in partial.content.decode()


def test_tls_excluded_website_add_checks_input(owner_client, tenant):
    response = owner_client.post(
        _url("tls_excluded_websites_add", tenant), {"value": "bad site"}
    )

    assert response.status_code == 400
    assert "Enter a website without spaces." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_tls_excluded_website_add_and_remove(owner_client, tenant):
    added = owner_client.post(
        _url("tls_excluded_websites_add", tenant),
        {"value": "bank.example.com", "comment": "Pinned certificate"},
    )
    listed = owner_client.get(_url("tls_excluded_websites_list", tenant))
    removed = owner_client.post(
        _url("tls_excluded_websites_remove", tenant) + "?value=bank.example.com"
    )
    after = web_control.tls_excluded_websites_list(tenant=tenant).items

    assert added.status_code == 302
    assert "bank.example.com" in listed.content.decode()
    assert "Pinned certificate" in listed.content.decode()
    assert removed.status_code == 302
    assert [site.value for site in after] == []


def test_tls_excluded_website_remove_confirmation(owner_client, tenant):
    response = owner_client.get(
        _url("tls_excluded_websites_remove", tenant) + "?value=bank.example.com"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Decrypt bank.example.com again?" in html
    assert "value=bank.example.com" in html


def test_tls_excluded_websites_clear(owner_client, tenant):
    confirm = owner_client.get(_url("tls_excluded_websites_clear", tenant))
    cleared = owner_client.post(_url("tls_excluded_websites_clear", tenant))

    assert "Remove every excluded website?" in confirm.content.decode()
    assert cleared.status_code == 302
    assert last_audit("tls_excluded_websites_clear").status_code == 200


def test_tls_excluded_websites_clear_error(owner_client, tenant):
    set_faults(forbidden_tenant_ids=[tenant.pk])

    response = owner_client.post(_url("tls_excluded_websites_clear", tenant))

    html = response.content.decode()
    assert response.status_code == 403
    assert "Remove every excluded website?" in html
    assert len(shown_correlation_ids(html)) == 1
    assert "SSL/TLS excluded websites</a>" in html
    assert 'aria-current="page">Excluded websites</a>' in html
    assert last_audit("tls_excluded_websites_clear").status_code == 403


def test_tls_excluded_websites_reader_forged_clear(client, tenant):
    login_reader(client, tenant)

    page = client.get(_url("tls_excluded_websites_list", tenant))
    forged = client.post(_url("tls_excluded_websites_clear", tenant))

    assert "Exclude a website" not in page.content.decode()
    assert forged.status_code == 403
    assert not AuditEntry.objects.exists()
