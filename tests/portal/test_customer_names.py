from unittest import mock

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos import catalog
from sophos.client import ApiResponse
from sophos.errors import Forbidden
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.services import tenants as tenant_names
from tests.portal.factories import make_tenant, make_user

pytestmark = pytest.mark.django_db

PAGE_URL = reverse("customer_names")
RENAME_URL = reverse("tenants_rename")


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(roles=[Role.ADMINISTRATOR], username="admin"))
    return client


@pytest.fixture
def tenant():
    return make_tenant(name="CONTOSO-EU-01", show_as="Contoso EU")


def _set_url(tenant):
    return reverse("customer_name_set", args=[tenant.pk])


def _rename_operation():
    """A stand-in partner operation that renames a tenant."""
    return catalog.Operation(
        name=tenant_names.RENAME_OPERATION,
        category="tenants",
        category_label="Tenants",
        title="Update a tenant",
        method="PATCH",
        path="/partner/v1/tenants/{tenantId}",
        host="global",
        scope="partner",
        paging="none",
        success_status=200,
        query_params=(),
        body_required=(),
        body_optional=("name",),
        max_page_size=None,
        bodiless_post=False,
        description="Changes a tenant.",
    )


def test_page_lists_sophos_and_customer_names(admin_client, tenant):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    html = admin_client.get(PAGE_URL).content.decode()

    assert "CONTOSO-EU-01" in html
    assert "Contoso EU" in html
    assert 'value="Contoso Ltd"' in html


@pytest.mark.parametrize(
    "role", [Role.TECHNICIAN, Role.READ_ONLY, Role.BILLING, None], ids=str
)
def test_page_rejects_other_roles(client, tenant, role):
    client.force_login(make_user(roles=[role] if role else [], tenants=[tenant]))

    page = client.get(PAGE_URL)
    save = client.post(_set_url(tenant), {"customer_name": "Hijacked"})
    rename = client.post(RENAME_URL, {"tenants": [tenant.pk]})

    tenant.refresh_from_db()
    assert page.status_code == 403
    assert save.status_code == 403
    assert rename.status_code == 403
    assert tenant.customer_name == ""
    assert not Job.objects.exists()


def test_it_sets_a_customer_name(admin_client, tenant):
    response = admin_client.post(_set_url(tenant), {"customer_name": " Contoso Ltd "})

    tenant.refresh_from_db()
    assert response.status_code == 302
    assert tenant.customer_name == "Contoso Ltd"
    assert tenant.display_name == "Contoso Ltd"
    [entry] = AuditEntry.objects.filter(operation="tenant_customer_name_set")
    assert entry.tenant_id == tenant.pk
    assert entry.username == "admin"
    assert entry.parameters == {
        "customer_name": "Contoso Ltd",
        "previous_customer_name": "",
    }


def test_htmx_save_returns_the_row(admin_client, tenant):
    response = admin_client.post(
        _set_url(tenant),
        {"customer_name": "Contoso Ltd"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<tr id="customer-name-{tenant.pk}"')
    assert "Saved" in html
    assert "<html" not in html


def test_htmx_save_rejects_too_long_name(admin_client, tenant):
    response = admin_client.post(
        _set_url(tenant), {"customer_name": "x" * 300}, headers={"HX-Request": "true"}
    )

    tenant.refresh_from_db()
    assert response.status_code == 400
    assert "at most 255" in response.content.decode()
    assert tenant.customer_name == ""


def test_empty_name_removes_the_mapping(admin_client, tenant):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    admin_client.post(_set_url(tenant), {"customer_name": ""})

    tenant.refresh_from_db()
    assert tenant.customer_name == ""
    assert tenant.display_name == "Contoso EU"


def test_unchanged_name_records_nothing(admin_client, tenant):
    admin_client.post(_set_url(tenant), {"customer_name": ""})

    assert not AuditEntry.objects.exists()


def test_unknown_tenant_is_404(admin_client):
    url = reverse("customer_name_set", args=["00000000-0000-4000-8000-000000000000"])

    assert admin_client.post(url, {"customer_name": "x"}).status_code == 404


def test_page_lists_only_mismatched_names_for_rename(admin_client, tenant):
    matching = make_tenant(name="Fabrikam", customer_name="Fabrikam")
    unmapped = make_tenant(name="Northwind")
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    response = admin_client.get(PAGE_URL)

    mismatched = list(response.context["mismatched"])
    assert mismatched == [tenant]
    assert matching not in mismatched
    assert unmapped not in mismatched


def test_page_says_sophos_cannot_rename(admin_client, tenant):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    html = admin_client.get(PAGE_URL).content.decode()

    assert "has no operation that renames a tenant" in html
    assert "Rename in Sophos Central" not in html
    assert 'name="tenants"' not in html


def test_page_offers_rename_when_api_supports_it(admin_client, tenant, monkeypatch):
    monkeypatch.setattr(tenant_names, "tenant_rename_supported", lambda: True)
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    html = admin_client.get(PAGE_URL).content.decode()

    assert "Rename in Sophos Central to the customer name" in html
    assert 'name="tenants"' in html


def test_page_searches_all_names(admin_client, tenant):
    make_tenant(name="Fabrikam")

    response = admin_client.get(PAGE_URL, {"q": "contoso eu"})

    assert list(response.context["page"]) == [tenant]


def test_htmx_search_returns_table_only(admin_client, tenant):
    response = admin_client.get(PAGE_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="customer-names-table"')
    assert "<html" not in html


def test_it_skips_renames_the_api_cannot_make(admin_client, tenant):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    with mock.patch("sophos.client.SophosClient.call", autospec=True) as call:
        response = admin_client.post(RENAME_URL, {"tenants": [tenant.pk]})
        job = Job.objects.get(kind=tenant_names.RENAME_JOB_KIND)
        tenant_names.tenants_rename_run(job_id=job.pk)

    [item] = job.items.all()
    job.refresh_from_db()
    tenant.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("job_detail", args=[job.pk])
    assert item.status == JobItem.Status.SKIPPED
    assert "no tenant rename operation" in item.message
    assert job.status == Job.Status.SUCCEEDED
    assert tenant.name == "CONTOSO-EU-01"
    assert tenant.customer_name == "Contoso Ltd"
    call.assert_not_called()


def test_rename_start_queues_one_task(
    admin_client, tenant, django_capture_on_commit_callbacks
):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()

    with (
        mock.patch("sophos.services.tenants.async_task", autospec=True) as queue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        admin_client.post(RENAME_URL, {"tenants": [tenant.pk]})

    job = Job.objects.get(kind=tenant_names.RENAME_JOB_KIND)
    queue.assert_called_once_with(
        "sophos.tasks_accounts.tenants_rename_run_task",
        job.pk,
        task_name=job.title,
    )
    [entry] = AuditEntry.objects.filter(operation="tenants_rename_start")
    assert entry.outcome == AuditEntry.Outcome.QUEUED
    assert entry.job_id == job.pk
    assert entry.parameters == {"tenants": [str(tenant.pk)]}


def test_rename_task_runs_the_job(admin_client, tenant):
    from sophos.tasks_accounts import tenants_rename_run_task

    tenant.customer_name = "Contoso Ltd"
    tenant.save()
    job = tenant_names.tenants_rename_start(user=None, tenants=[tenant])

    status = tenants_rename_run_task(job.pk)

    assert status == Job.Status.SUCCEEDED


def test_rename_rejects_tenants_whose_names_match(admin_client, tenant):
    response = admin_client.post(RENAME_URL, {"tenants": [tenant.pk]})

    assert response.status_code == 302
    assert response["Location"] == PAGE_URL
    assert not Job.objects.exists()


def test_it_renames_through_the_api_when_available(monkeypatch, tenant):
    user = make_user(roles=[Role.OWNER], username="boss")
    tenant.customer_name = "Contoso Ltd"
    tenant.save()
    broken = make_tenant(name="Broken Inc", customer_name="Broken Ltd")
    operation = _rename_operation()
    real_get = catalog.get
    monkeypatch.setattr(
        catalog,
        "get",
        lambda name: operation if name == operation.name else real_get(name),
    )

    def fake_call(name, *, path_params, json):
        if path_params["tenantId"] == str(broken.pk):
            raise Forbidden(
                "Not allowed.", status=403, correlation_id="corr-403", request_id=""
            )
        return ApiResponse(
            status=200,
            headers={},
            data={"id": path_params["tenantId"], "name": json["name"]},
            duration_ms=1.0,
        )

    client = mock.MagicMock()
    client.__enter__.return_value = client
    client.call.side_effect = fake_call
    monkeypatch.setattr(tenant_names, "client_for", lambda connection: client)
    job = tenant_names.tenants_rename_start(user=user, tenants=[tenant, broken])

    tenant_names.tenants_rename_run(job_id=job.pk)

    job.refresh_from_db()
    tenant.refresh_from_db()
    broken.refresh_from_db()
    items = {item.tenant_id: item for item in job.items.all()}
    assert job.status == Job.Status.PARTIAL
    assert items[tenant.pk].status == JobItem.Status.SUCCEEDED
    assert items[broken.pk].status == JobItem.Status.FAILED
    assert items[broken.pk].correlation_id == "corr-403"
    assert tenant.name == "Contoso Ltd"
    assert broken.name == "Broken Inc"
    renames = AuditEntry.objects.filter(operation="tenant_rename")
    outcomes = {entry.tenant_id: entry.outcome for entry in renames}
    assert outcomes == {
        tenant.pk: AuditEntry.Outcome.SUCCEEDED,
        broken.pk: AuditEntry.Outcome.FAILED,
    }
    assert {entry.username for entry in renames} == {"boss"}
    client.call.assert_any_call(
        operation.name,
        path_params={"tenantId": str(tenant.pk)},
        json={"name": "Contoso Ltd"},
    )


def test_rename_skips_a_tenant_gone_from_the_mirror(tenant):
    tenant.customer_name = "Contoso Ltd"
    tenant.save()
    job = tenant_names.tenants_rename_start(user=None, tenants=[tenant])
    Tenant.objects.filter(pk=tenant.pk).delete()

    tenant_names.tenants_rename_run(job_id=job.pk)

    [item] = job.items.all()
    assert item.status == JobItem.Status.SKIPPED
    assert "no longer in the mirror" in item.message
