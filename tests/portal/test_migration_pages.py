import pytest
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import AuditEntry, Job, JobItem, Tenant
from sophos.services import jobs, migrations
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants(synced_fleet):
    sending, receiving = Tenant.objects.order_by("name")[:2]
    return sending, receiving


@pytest.fixture
def reader_client(client, tenants):
    client.force_login(make_user(roles=[Role.READ_ONLY], tenants=tenants))
    return client


def _url(name, tenant, *args):
    return reverse(f"tenants:{name}", args=[tenant.pk, *args])


def _endpoint_ids(tenant, count=2):
    return [str(pk) for pk in tenant.endpoints.values_list("pk", flat=True)[:count]]


def _receiving_job(sending, receiving):
    return migrations.migration_create(
        user=None,
        receiving_tenant=receiving,
        sending_tenant_id=str(sending.pk),
        endpoint_ids=_endpoint_ids(sending),
    )


def test_migrations_list_by_mode(owner_client, tenants):
    sending, receiving = tenants
    job = _receiving_job(sending, receiving)

    page = owner_client.get(_url("migrations_list", receiving))
    filtered = owner_client.get(
        _url("migrations_list", receiving),
        {"mode": "sending"},
        headers={"HX-Request": "true"},
    )

    assert job.id in page.content.decode()
    assert "Receiving" in page.content.decode()
    assert "<html" not in filtered.content.decode()
    assert job.id not in filtered.content.decode()


def test_migrations_list_shows_sophos_error(owner_client, tenants, monkeypatch):
    sending, _ = tenants
    rejection = reject(
        monkeypatch, "GET", r"/endpoint/v1/migrations$", 400, "Invalid mode."
    )

    html = owner_client.get(_url("migrations_list", sending)).content.decode()

    assert "Invalid mode." in html
    assert rejection.correlation_id in html


def test_migration_create_runs_job(
    owner_client, tenants, django_capture_on_commit_callbacks
):
    sending, receiving = tenants
    endpoint_ids = _endpoint_ids(sending)

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            _url("migrations_create", sending),
            {"receiving_tenant": str(receiving.pk), "endpoints": endpoint_ids},
        )

    job = Job.objects.get(kind=migrations.MIGRATION_JOB_KIND)
    assert response.status_code == 200
    assert f'id="job-{job.pk}-progress"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert sorted(job.items.values_list("target", flat=True)) == sorted(endpoint_ids)
    operations = list(
        AuditEntry.objects.order_by("pk").values_list("operation", "tenant_id")
    )
    assert operations == [
        ("migration_create", receiving.pk),
        ("migration_start", sending.pk),
    ]
    sent = migrations.migrations_list(tenant=sending, mode="sending").items
    assert [item.id for item in sent] == [job.parameters["migration_id"]]


def test_migration_create_job_fails_items_on_rejection(
    owner_client, tenants, monkeypatch, django_capture_on_commit_callbacks
):
    sending, receiving = tenants
    reject(monkeypatch, "POST", r"/endpoint/v1/migrations$", 400, "Bad request.")

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            _url("migrations_create", sending),
            {
                "receiving_tenant": str(receiving.pk),
                "endpoints": _endpoint_ids(sending),
            },
        )

    job = Job.objects.get(kind=migrations.MIGRATION_JOB_KIND)
    assert job.status == Job.Status.FAILED
    item = job.items.first()
    assert item.status == JobItem.Status.FAILED
    assert "Bad request." in item.message
    assert item.correlation_id


def test_cancelled_migration_job_is_not_run(tenants, monkeypatch):
    sending, receiving = tenants
    owner = make_user(roles=[Role.OWNER])
    job = migrations.migration_job_start(
        user=owner,
        sending_tenant=sending,
        receiving_tenant=receiving,
        endpoint_ids=_endpoint_ids(sending),
    )
    jobs.job_cancel(job=job, user=owner)
    writes = record_writes(monkeypatch)

    migrations.migration_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert writes == []
    assert job.status == Job.Status.CANCELLED
    assert set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_migration_create_needs_endpoints(owner_client, tenants, monkeypatch):
    sending, receiving = tenants
    writes = record_writes(monkeypatch)

    response = owner_client.post(
        _url("migrations_create", sending), {"receiving_tenant": str(receiving.pk)}
    )

    assert response.status_code == 400
    assert "Choose at least one endpoint." in response.content.decode()
    assert writes == []


def test_migration_create_form_offers_other_tenants(owner_client, tenants):
    sending, receiving = tenants

    html = owner_client.get(_url("migrations_create", sending)).content.decode()

    assert receiving.display_name in html
    assert f'value="{sending.pk}"' not in html


def test_migration_create_rejects_tenant_outside_scope(client, tenants, monkeypatch):
    sending, receiving = tenants
    client.force_login(make_user(roles=[Role.TECHNICIAN], tenants=[sending]))
    writes = record_writes(monkeypatch)

    response = client.post(
        _url("migrations_create", sending),
        {"receiving_tenant": str(receiving.pk), "endpoints": _endpoint_ids(sending)},
    )

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert writes == []
    assert not Job.objects.filter(kind=migrations.MIGRATION_JOB_KIND).exists()


def test_migration_detail_lists_endpoint_statuses(owner_client, tenants):
    sending, receiving = tenants
    job = _receiving_job(sending, receiving)
    hostname = sending.endpoints.get(pk=_endpoint_ids(sending)[0]).hostname

    page = owner_client.get(_url("migrations_detail", receiving, job.id))
    partial = owner_client.get(
        _url("migrations_detail", receiving, job.id), headers={"HX-Request": "true"}
    )

    html = page.content.decode()
    assert hostname in html
    assert ">Pending</td>" in html
    assert ">pending</td>" not in html
    assert "Token for the sending tenant" in html
    assert "<html" not in partial.content.decode()
    assert 'id="endpoints-table"' in partial.content.decode()


def test_migration_detail_unknown_is_404(owner_client, tenants):
    sending, _ = tenants

    response = owner_client.get(
        _url("migrations_detail", sending, "00000000-0000-4000-8000-000000000000")
    )

    assert response.status_code == 404


def test_migration_start_with_token(owner_client, tenants):
    sending, receiving = tenants
    job = _receiving_job(sending, receiving)

    response = owner_client.post(
        _url("migrations_start", sending),
        {
            "migration_id": job.id,
            "token": job.token,
            "endpoints": _endpoint_ids(sending),
        },
    )

    assert response.status_code == 302
    assert response["Location"] == _url("migrations_detail", sending, job.id)
    entry = AuditEntry.objects.get(operation="migration_start")
    assert entry.parameters["body"]["token"] == "[redacted]"


def test_migration_start_bad_token_shows_error(owner_client, tenants):
    sending, receiving = tenants
    job = _receiving_job(sending, receiving)

    response = owner_client.post(
        _url("migrations_start", sending),
        {
            "migration_id": job.id,
            "token": "not-the-token",
            "endpoints": _endpoint_ids(sending),
        },
    )

    html = response.content.decode()
    entry = AuditEntry.objects.get(operation="migration_start")
    assert response.status_code == 400
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert "token" in entry.message
    assert f"correlation id {entry.correlation_id}" in html


def test_read_only_user_sees_no_migration_controls(reader_client, tenants):
    sending, receiving = tenants
    job = _receiving_job(sending, receiving)

    listing = reader_client.get(_url("migrations_list", receiving)).content.decode()
    detail = reader_client.get(
        _url("migrations_detail", receiving, job.id)
    ).content.decode()

    assert "Move endpoints to another tenant" not in listing
    assert "Start with a token" not in listing
    assert job.token not in detail


def test_read_only_user_forged_posts_are_403(reader_client, tenants, monkeypatch):
    sending, receiving = tenants
    writes = record_writes(monkeypatch)

    responses = [
        reader_client.post(
            _url("migrations_create", sending),
            {
                "receiving_tenant": str(receiving.pk),
                "endpoints": _endpoint_ids(sending),
            },
        ),
        reader_client.post(_url("migrations_start", sending), {}),
    ]

    assert [response.status_code for response in responses] == [403, 403]
    assert writes == []
