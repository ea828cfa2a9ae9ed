"""The push, onboarding and drift pages while a cancelled job is still ending.

After Cancel, a job's status is cancelled at once, but its worker may still
run an item until it sets ``finished_at``. These pages poll until then and
fire ``jobFinished`` only once the job has ended.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sophos.models import Job, JobItem, Tenant
from sophos.models_fleet import DriftCheck, ItemPush, OnboardingRun

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
POLL = 'hx-trigger="every 1s"'
SHA = "e" * 64


@pytest.fixture(autouse=True)
def _no_call_budget(settings):
    settings.SOPHOS_CALLS_PER_MINUTE = 0


@pytest.fixture
def tenants(synced_fleet):
    return list(Tenant.objects.order_by("name"))


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST and run the queued job inline."""

    def post(client, url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


def _push(owner_client, post, tenants, action):
    data = {
        "kind": "blocked",
        "item_type": "sha256",
        "value": SHA,
        "comment": "Ransomware sample",
        "tenants": [str(tenant.pk) for tenant in tenants[:2]],
        "action": action,
    }
    post(owner_client, reverse("fleet_ops:push_create"), data)
    push = ItemPush.objects.get()
    return push.job, reverse("fleet_ops:push_detail", args=[push.pk])


def _onboarding(owner_client, post, tenants, action):
    data = {
        "customer_name": "Beacon Dental",
        "tenant_mode": "new",
        "tenant_name": "Beacon Dental Ltd",
        "billing_type": "trial",
        "data_geography": "IE",
        "contact_first_name": "Grace",
        "contact_last_name": "Hopper",
        "contact_email": "grace@beacon.example",
        "action": action,
    }
    post(owner_client, reverse("fleet_ops:onboarding_create"), data)
    run = OnboardingRun.objects.get()
    return run.job, reverse("fleet_ops:onboarding_run", args=[run.pk])


def _drift(owner_client, post, tenants, action):
    """Start a drift check, which only reads, so it has no dry run."""
    data = {
        "source": "policy",
        "tenant": str(tenants[0].pk),
        "policy_type": "threat-protection",
        "tenants": [str(tenant.pk) for tenant in tenants[1:]],
    }
    post(owner_client, reverse("fleet_ops:drift_start"), data)
    check = DriftCheck.objects.get()
    return check.job, reverse("fleet_ops:drift_check", args=[check.pk])


PAGES = {"push": _push, "onboarding": _onboarding, "drift": _drift}
# The pages that offer a button once a dry run has ended, with its label.
BUTTONS = {"push": "Push now to these tenants", "onboarding": "Onboard now"}


def _started(name, owner_client, post, tenants):
    job, url = PAGES[name](owner_client, post, tenants, "preview")
    assert job.status in {Job.Status.SUCCEEDED, Job.Status.PARTIAL}
    return job, url


@pytest.fixture(params=PAGES)
def page(request, owner_client, post, tenants):
    return _started(request.param, owner_client, post, tenants)


@pytest.fixture(params=BUTTONS)
def page_with_button(request, owner_client, post, tenants):
    job, url = _started(request.param, owner_client, post, tenants)
    return job, url, BUTTONS[request.param]


def _cancelling(job):
    """Set the job cancelled with one item still running, as right after Cancel."""
    item = job.items.order_by("id").last()
    JobItem.objects.filter(pk=item.pk).update(status=JobItem.Status.RUNNING)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=None)


def _ended(job):
    JobItem.objects.filter(job=job, status=JobItem.Status.RUNNING).update(
        status=JobItem.Status.SUCCEEDED
    )
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now())


def test_cancelling_job_page_keeps_polling(owner_client, page):
    job, url = page
    _cancelling(job)

    full = owner_client.get(url)
    partial = owner_client.get(url, headers=HTMX)

    assert POLL in full.content.decode()
    assert POLL in partial.content.decode()
    assert "HX-Trigger" not in partial.headers


def test_cancelling_job_page_hides_its_button(owner_client, page_with_button):
    job, url, button = page_with_button
    _cancelling(job)

    html = owner_client.get(url).content.decode()

    assert button not in html


def test_ended_job_page_shows_its_button(owner_client, page_with_button):
    job, url, button = page_with_button
    _cancelling(job)
    _ended(job)

    html = owner_client.get(url).content.decode()

    assert button in html


def test_cancelled_job_page_signals_end_once_closed(owner_client, page):
    job, url = page
    _cancelling(job)
    _ended(job)

    response = owner_client.get(url, headers=HTMX)

    assert POLL not in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"jobFinished": {"id": job.pk}}


def test_finished_job_page_signals_end(owner_client, page):
    job, url = page

    response = owner_client.get(url, headers=HTMX)

    assert POLL not in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {"jobFinished": {"id": job.pk}}


def test_full_page_sends_no_end_signal(owner_client, page):
    job, url = page

    response = owner_client.get(url)

    assert "HX-Trigger" not in response.headers


def _queries(client, url):
    with CaptureQueriesContext(db_connection) as queries:
        response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    return len(queries)


def test_cancelling_costs_no_extra_query(owner_client, page):
    job, url = page
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, finished_at=None)
    running = _queries(owner_client, url)

    _cancelling(job)

    assert _queries(owner_client, url) == running


def test_push_page_polls_cancelling_undo_job(owner_client, post, tenants):
    job, url = _push(owner_client, post, tenants, "push")
    push = ItemPush.objects.get()
    post(owner_client, reverse("fleet_ops:push_undo", args=[push.pk]), {})
    push.refresh_from_db()
    _cancelling(push.undo_job)

    response = owner_client.get(url, headers=HTMX)

    assert POLL in response.content.decode()
    assert "HX-Trigger" not in response.headers


def test_push_page_signals_end_of_undo_job(owner_client, post, tenants):
    job, url = _push(owner_client, post, tenants, "push")
    push = ItemPush.objects.get()
    post(owner_client, reverse("fleet_ops:push_undo", args=[push.pk]), {})
    push.refresh_from_db()

    response = owner_client.get(url, headers=HTMX)

    assert json.loads(response["HX-Trigger"]) == {
        "jobFinished": {"id": push.undo_job.pk}
    }


def test_resume_waits_for_cancelling_job(owner_client, post, tenants):
    job, url = _onboarding(owner_client, post, tenants, "run")
    _cancelling(job)
    run = OnboardingRun.objects.get()

    response = owner_client.post(
        reverse("fleet_ops:onboarding_resume", args=[run.pk]), follow=True
    )

    run.refresh_from_db()
    assert run.job_id == job.pk
    assert "The onboarding is still running." in response.content.decode()
