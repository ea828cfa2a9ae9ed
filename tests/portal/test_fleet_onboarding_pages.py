"""The customer onboarding pages: form, CSV checks, run page, resume."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.accounts.models import Role
from sophos.models import Job, JobItem, Tenant
from sophos.models_fleet import ExclusionTemplate, OnboardingRun
from sophos.services import directory
from sophos.services.fleet_ops import exclusion_templates
from sophos.simulator.transport import SimulatorTransport
from tests.portal.factories import make_user
from tests.portal.simulator_calls import record_writes, reject

pytestmark = pytest.mark.django_db

LIST_URL = reverse("fleet_ops:onboarding")
CREATE_URL = reverse("fleet_ops:onboarding_create")
TEMPLATES_URL = reverse("fleet_ops:onboarding_templates")


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


def _form(action="run", **fields):
    data = {
        "customer_name": "Beacon Dental",
        "tenant_mode": "new",
        "tenant_name": "Beacon Dental Ltd",
        "billing_type": "trial",
        "data_geography": "IE",
        "contact_first_name": "Grace",
        "contact_last_name": "Hopper",
        "contact_email": "grace@beacon.example",
        "users_text": "Ann Smith, ann@beacon.example, Front desk",
        "computer_groups": "Reception\nSurgery",
        "action": action,
    }
    data.update(fields)
    return data


def _csv(text):
    return SimpleUploadedFile("users.csv", text.encode(), content_type="text/csv")


def test_list_page_full_and_partial(owner_client, tenants):
    full = owner_client.get(LIST_URL)
    partial = owner_client.get(LIST_URL, headers={"HX-Request": "true"})

    assert full.status_code == 200
    assert b"<html" in full.content
    assert b"Onboard a customer" in full.content
    assert b"<html" not in partial.content
    assert b'id="onboarding-table"' in partial.content


def test_form_page_full_and_partial(owner_client, tenants):
    full = owner_client.get(CREATE_URL)
    partial = owner_client.get(CREATE_URL, headers={"HX-Request": "true"})

    assert b"<html" in full.content
    assert b"Create a tenant under the partner" in full.content
    assert b"<html" not in partial.content
    assert b'id="onboarding-form"' in partial.content


def test_bad_csv_names_lines_and_creates_nothing(owner_client, tenants, monkeypatch):
    writes = record_writes(monkeypatch)
    upload = _csv(
        "name,email,group\nBob,bob@beacon.example,\nCarl,carl-at-beacon,\n,dan@x.example,\n"
    )

    response = owner_client.post(CREATE_URL, {**_form(), "users_csv": upload})

    html = response.content.decode()
    assert response.status_code == 400
    assert "Line 3: the email address &#x27;carl-at-beacon&#x27; is invalid." in html
    assert "Line 4: the name is missing." in html
    assert writes == []
    assert not OnboardingRun.objects.exists()


def test_csv_duplicates_typed_user(owner_client, tenants):
    upload = _csv("Ann Again,ANN@beacon.example,\n")

    response = owner_client.post(CREATE_URL, {**_form(), "users_csv": upload})

    assert response.status_code == 400
    assert b"Line 1: the email ANN@beacon.example is also in the typed" in (
        response.content
    )


def test_new_tenant_needs_contact(owner_client, tenants):
    response = owner_client.post(CREATE_URL, _form(contact_email=""))

    assert response.status_code == 400
    assert b"This field is required for a new tenant." in response.content


def test_new_tenant_fields_labelled_required(owner_client, tenants):
    html = owner_client.get(CREATE_URL).content.decode()

    for name in ("tenant_name", "contact_first_name", "contact_email"):
        label = html.split(f'for="id_{name}">', 1)[1].split("</label>", 1)[0]
        assert "(required for a new tenant)" in label
        assert "(optional)" not in label
    geography = html.split('for="id_data_geography">', 1)[1].split("</label>", 1)[0]
    assert "required for a new tenant unless you choose a region" in geography
    phone = html.split('for="id_contact_phone">', 1)[1].split("</label>", 1)[0]
    assert "(optional)" in phone


def test_new_tenant_reports_every_missing_field(owner_client, tenants):
    response = owner_client.post(
        CREATE_URL,
        _form(
            tenant_name="",
            data_geography="",
            contact_first_name="",
            contact_last_name="",
            contact_email="",
        ),
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose a data geography or a data region." in html
    assert html.count("This field is required for a new tenant.") == 4


def test_preview_is_a_dry_run(owner_client, tenants, post, monkeypatch):
    writes = record_writes(monkeypatch)

    response = post(owner_client, CREATE_URL, _form(action="preview"))

    run = OnboardingRun.objects.get()
    assert response["Location"] == reverse("fleet_ops:onboarding_run", args=[run.pk])
    assert run.dry_run is True
    assert writes == []
    page = owner_client.get(response["Location"]).content.decode()
    assert "Would create the tenant Beacon Dental Ltd" in page
    assert "Onboard now" in page


def test_onboarding_with_csv_creates_users(owner_client, tenants, post):
    upload = _csv("name,email,group\nBob Stone,bob@beacon.example,Surgeons\n")

    post(owner_client, CREATE_URL, {**_form(), "users_csv": upload})

    run = OnboardingRun.objects.get()
    assert run.job.status == Job.Status.SUCCEEDED
    tenant = run.tenant
    assert tenant.customer_name == "Beacon Dental"
    emails = {u.email for u in directory.users_list(tenant=tenant).items}
    assert emails == {"ann@beacon.example", "bob@beacon.example"}
    url = reverse("fleet_ops:onboarding_run", args=[run.pk])
    full = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})
    html = full.content.decode()
    assert "Installer links" in html
    assert "Download" in html
    assert "<td>Windows</td>" in html
    assert "<td>windows</td>" not in html
    assert "<td>Computer</td>" in html
    assert "Resume the onboarding" not in html
    assert b"<html" not in partial.content
    assert b'id="onboarding-run"' in partial.content


def test_repeat_runs_the_preview(owner_client, tenants, post):
    post(owner_client, CREATE_URL, _form(action="preview"))
    preview = OnboardingRun.objects.get()

    response = post(
        owner_client, reverse("fleet_ops:onboarding_repeat", args=[preview.pk])
    )

    run = OnboardingRun.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == reverse("fleet_ops:onboarding_run", args=[run.pk])
    assert run.job.status == Job.Status.SUCCEEDED


def test_resume_after_failure(owner_client, tenants, post, monkeypatch):
    real_handle = SimulatorTransport.handle_request
    reject(monkeypatch, "POST", r"/endpoint/v1/endpoint-groups$", 400, "Busy.")
    post(owner_client, CREATE_URL, _form())
    run = OnboardingRun.objects.get()
    url = reverse("fleet_ops:onboarding_run", args=[run.pk])
    assert run.job.status == Job.Status.PARTIAL
    assert "Resume the onboarding" in owner_client.get(url).content.decode()
    monkeypatch.setattr(SimulatorTransport, "handle_request", real_handle)
    writes = record_writes(monkeypatch)

    post(owner_client, reverse("fleet_ops:onboarding_resume", args=[run.pk]))

    run.refresh_from_db()
    assert run.job.status == Job.Status.SUCCEEDED
    assert writes == ["POST /endpoint/v1/endpoint-groups"] * 2
    skipped = run.job.items.filter(status=JobItem.Status.SKIPPED)
    assert skipped.filter(target="tenant").exists()


def test_templates_page_and_create(owner_client, tenants, post):
    full = owner_client.get(TEMPLATES_URL)
    partial = owner_client.get(TEMPLATES_URL, headers={"HX-Request": "true"})

    response = post(
        owner_client,
        reverse("fleet_ops:onboarding_template_create"),
        {"name": "Dental standard", "tenant": str(tenants[0].pk)},
    )

    assert b"<html" in full.content
    assert b"<html" not in partial.content
    assert response.status_code == 302
    template = ExclusionTemplate.objects.get()
    assert template.source_tenant == tenants[0]
    assert "Dental standard" in owner_client.get(TEMPLATES_URL).content.decode()


def test_template_create_rejects_taken_name(owner_client, owner, tenants, post):
    exclusion_templates.exclusion_template_create(
        user=owner, name="Dental standard", tenant=tenants[0]
    )

    response = post(
        owner_client,
        reverse("fleet_ops:onboarding_template_create"),
        {"name": "Dental standard", "tenant": str(tenants[0].pk)},
    )

    assert response.status_code == 400
    assert "A template named &#x27;Dental standard&#x27; exists already." in (
        response.content.decode()
    )
    assert ExclusionTemplate.objects.count() == 1


def test_template_delete_by_creator_only(client, owner, tenants, post):
    theirs = exclusion_templates.exclusion_template_create(
        user=owner, name="Owner's", tenant=tenants[0]
    )
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    mine = exclusion_templates.exclusion_template_create(
        user=technician, name="Mine", tenant=tenants[0]
    )
    client.force_login(technician)
    url = "fleet_ops:onboarding_template_delete"

    rejected = post(client, reverse(url, args=[theirs.pk]))
    deleted = post(client, reverse(url, args=[mine.pk]))
    missing = post(client, reverse(url, args=[mine.pk]))

    assert rejected.status_code == 403
    assert deleted.status_code == 302
    assert missing.status_code == 404
    names = list(ExclusionTemplate.objects.values_list("name", flat=True))
    assert names == ["Owner's"]


def test_technician_sees_existing_tenant_only(client, tenants):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    html = client.get(CREATE_URL).content.decode()

    assert "Create a tenant under the partner" not in html
    assert tenants[0].name in html
    assert tenants[1].name not in html


def test_technician_cannot_create_tenant(client, tenants, monkeypatch):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)
    writes = record_writes(monkeypatch)

    response = client.post(CREATE_URL, _form())

    assert response.status_code == 400
    assert writes == []
    assert not OnboardingRun.objects.exists()


def test_technician_cannot_onboard_other_tenant(client, tenants, monkeypatch):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)
    writes = record_writes(monkeypatch)

    response = client.post(
        CREATE_URL,
        _form(tenant_mode="existing", existing_tenant=str(tenants[1].pk)),
    )

    assert response.status_code == 400
    assert writes == []
    assert not OnboardingRun.objects.exists()


def test_technician_onboards_own_tenant(client, tenants, post):
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    post(
        client,
        CREATE_URL,
        _form(tenant_mode="existing", existing_tenant=str(tenants[0].pk)),
    )

    run = OnboardingRun.objects.get()
    assert run.job.status == Job.Status.SUCCEEDED
    tenants[0].refresh_from_db()
    assert tenants[0].customer_name == "Beacon Dental"


def test_read_only_cannot_onboard(client, tenants, monkeypatch):
    reader = make_user(roles=[Role.READ_ONLY], tenants=[tenants[0]])
    client.force_login(reader)
    writes = record_writes(monkeypatch)

    form = client.get(CREATE_URL)
    response = client.post(
        CREATE_URL,
        _form(tenant_mode="existing", existing_tenant=str(tenants[0].pk)),
    )

    assert form.status_code == 403
    assert response.status_code == 403
    assert writes == []
    assert b"Onboard a customer</a>" not in client.get(LIST_URL).content


def test_other_users_run_is_hidden(client, owner_client, tenants, post):
    post(owner_client, CREATE_URL, _form(action="preview"))
    run = OnboardingRun.objects.get()
    technician = make_user(roles=[Role.TECHNICIAN], tenants=[tenants[0]])
    client.force_login(technician)

    page = client.get(reverse("fleet_ops:onboarding_run", args=[run.pk]))
    resume = client.post(reverse("fleet_ops:onboarding_resume", args=[run.pk]))

    assert page.status_code == 404
    assert resume.status_code == 404
