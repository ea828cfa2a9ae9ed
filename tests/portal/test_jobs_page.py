import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from sophos.models import Job, JobItem
from tests.portal.factories import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_job():
    job = make_job(items=3, status=Job.Status.RUNNING, done=1)
    item = job.items.first()
    item.status = JobItem.Status.FAILED
    item.message = "Sophos Central denied access (403)"
    item.correlation_id = "corr-403"
    item.save()
    return job


def _detail_url(job):
    return reverse("job_detail", args=[job.pk])


@pytest.mark.parametrize("name", ["jobs", "job_detail"])
def test_jobs_pages_require_login(client, running_job, name):
    url = reverse(name, args=[running_job.pk] if name == "job_detail" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_jobs_list_full_page(owner_client, running_job):
    response = owner_client.get(reverse("jobs"))

    html = response.content.decode()
    assert "<html" in html
    assert running_job.title in html
    assert "1 / 3" in html


def test_jobs_list_polls_while_running(owner_client, running_job):
    response = owner_client.get(reverse("jobs"), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="jobs-table"' in html
    assert 'hx-trigger="every 2s"' in html


def test_jobs_list_stops_polling(owner_client):
    make_job(status=Job.Status.SUCCEEDED)

    html = owner_client.get(reverse("jobs")).content.decode()

    assert "hx-trigger" not in html.split('id="jobs-table"')[1].split(">")[0]


def test_job_detail_full_page_lists_items(owner_client, running_job):
    response = owner_client.get(_detail_url(running_job))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "Sophos Central denied access (403)" in html
    assert "corr-403" in html
    assert '<progress max="3" value="1"' in html


def test_job_detail_labels_kind_and_stage(owner_client):
    job = make_job(items=1, kind="alerts_bulk_action", status=Job.Status.SUCCEEDED)
    job.items.update(stage="notIsolated")

    html = owner_client.get(_detail_url(job)).content.decode()

    assert "Alerts bulk action · requested by" in html
    assert "<td>Not isolated</td>" in html
    assert "alerts_bulk_action" not in html


def test_job_detail_htmx_polls_progress(owner_client, running_job):
    response = owner_client.get(
        _detail_url(running_job), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert f'id="job-{running_job.pk}-progress"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "corr-403" not in html
    assert "HX-Trigger" not in response.headers


def test_job_detail_htmx_signals_end(owner_client, running_job):
    running_job.status = Job.Status.PARTIAL
    running_job.done = 3
    running_job.finished_at = timezone.now()
    running_job.save()

    response = owner_client.get(
        _detail_url(running_job), headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Finished with failures" in html
    assert json.loads(response["HX-Trigger"]) == {"jobFinished": {"id": running_job.pk}}


def test_job_detail_region_has_items(owner_client, running_job):
    response = owner_client.get(
        _detail_url(running_job),
        headers={"HX-Request": "true", "HX-Target": "job-detail"},
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="job-detail"')
    assert "corr-403" in html


def test_job_detail_unknown_job_is_404(owner_client):
    response = owner_client.get(reverse("job_detail", args=[999999]))

    assert response.status_code == 404


# -- stalled jobs ---------------------------------------------------------------------


def _quiet(job, minutes):
    moment = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(started_at=moment)
    job.items.update(updated_at=moment)


@pytest.fixture
def stalled_job(owner):
    job = make_job(items=2, status=Job.Status.RUNNING, requested_by=owner, done=0)
    first = job.items.first()
    JobItem.objects.filter(pk=first.pk).update(status=JobItem.Status.RUNNING)
    _quiet(job, minutes=20)
    return job


def test_job_detail_shows_stalled_job(owner_client, stalled_job):
    response = owner_client.get(_detail_url(stalled_job))

    html = response.content.decode()
    assert response.context["stalled"] is True
    assert "This job has stalled." in html
    assert "None of its items has changed for 15 minutes" in html
    assert "then start it again" in html
    assert reverse("fleet_ops:job_cancel", args=[stalled_job.pk]) in html


def test_job_detail_region_shows_stall(owner_client, stalled_job):
    response = owner_client.get(
        _detail_url(stalled_job),
        headers={"HX-Request": "true", "HX-Target": "job-detail"},
    )

    assert "This job has stalled." in response.content.decode()


def test_busy_running_job_is_not_stalled(owner_client, running_job):
    response = owner_client.get(_detail_url(running_job))

    assert response.context["stalled"] is False
    assert "has stalled" not in response.content.decode()


def test_cancelled_stalled_job_offers_cancel(owner_client, stalled_job):
    Job.objects.filter(pk=stalled_job.pk).update(status=Job.Status.CANCELLED)

    response = owner_client.get(_detail_url(stalled_job))

    html = response.content.decode()
    assert "This job has stalled." in html
    assert reverse("fleet_ops:job_cancel", args=[stalled_job.pk]) in html


def test_cancelled_busy_job_says_cancelling(owner_client, running_job):
    Job.objects.filter(pk=running_job.pk).update(status=Job.Status.CANCELLED)

    response = owner_client.get(_detail_url(running_job))

    html = response.content.decode()
    assert "Cancelling: the queued items are cancelled" in html
    assert reverse("fleet_ops:job_cancel", args=[running_job.pk]) not in html


def test_cancel_stalled_job_ends_it(owner_client, stalled_job):
    response = owner_client.post(
        reverse("fleet_ops:job_cancel", args=[stalled_job.pk]), follow=True
    )

    stalled_job.refresh_from_db()
    html = response.content.decode()
    assert stalled_job.status == Job.Status.CANCELLED
    assert stalled_job.finished_at is not None
    assert "Job cancelled. Its unfinished items are cancelled." in html
    assert "The worker stopped before this item finished" in html
    assert "has stalled" not in html
    assert set(stalled_job.items.values_list("status", flat=True)) == {"cancelled"}


def test_cancel_busy_job_waits_for_worker(owner_client, running_job):
    last = running_job.items.last()
    JobItem.objects.filter(pk=last.pk).update(status=JobItem.Status.RUNNING)

    response = owner_client.post(
        reverse("fleet_ops:job_cancel", args=[running_job.pk]), follow=True
    )

    running_job.refresh_from_db()
    html = response.content.decode()
    assert "the item running now ends when its worker finishes it" in html
    assert running_job.finished_at is None


def test_retry_button_counts_cancelled_items(owner_client, owner):
    job = make_job(
        kind="tamper.enable",
        status=Job.Status.CANCELLED,
        finished_at=timezone.now(),
        requested_by=owner,
    )
    for status in ("failed", "cancelled", "cancelled", "succeeded"):
        JobItem.objects.create(job=job, target=status, status=status)

    html = owner_client.get(_detail_url(job)).content.decode()

    assert "Retry the 3 failed or cancelled items" in html
    assert "<strong>2</strong>cancelled" in html


# -- stalled and waiting jobs outside the job page ------------------------------------


def _progress(owner_client, job):
    """Return the progress box that pages other than the job page poll."""
    response = owner_client.get(
        _detail_url(job),
        headers={"HX-Request": "true", "HX-Target": f"job-{job.pk}-progress"},
    )
    return response.content.decode()


def test_jobs_list_shows_stalled_job(owner_client, stalled_job):
    html = owner_client.get(reverse("jobs")).content.decode()

    assert '<span class="status status-stalled">Stalled</span>' in html
    assert ">Running</span>" not in html


def test_jobs_list_partial_shows_stalled_job(owner_client, stalled_job):
    response = owner_client.get(reverse("jobs"), headers={"HX-Request": "true"})

    assert '<span class="status status-stalled">Stalled</span>' in (
        response.content.decode()
    )


def test_jobs_list_keeps_busy_job_running(owner_client, running_job):
    html = owner_client.get(reverse("jobs")).content.decode()

    assert '<span class="status status-running">Running</span>' in html
    assert "Stalled" not in html


def test_progress_box_shows_stalled_job(owner_client, owner):
    job = make_job(
        kind="tamper.enable", items=1, status=Job.Status.RUNNING, requested_by=owner
    )
    _quiet(job, minutes=20)

    html = _progress(owner_client, job)

    assert '<span class="status status-stalled">Stalled</span>' in html
    assert "This job has stalled." in html
    assert "None of its items has changed for 15 minutes" in html
    assert f'<a href="{_detail_url(job)}">Open the job</a> to cancel it.' in html


def test_progress_box_says_next_sync_closes_stall(owner_client, stalled_job):
    html = _progress(owner_client, stalled_job)

    assert "This job has stalled." in html
    assert "The next sync, scheduled or started with Sync now, closes it" in html


def test_fleet_overview_shows_stalled_sync(owner_client, stalled_job):
    html = owner_client.get(reverse("fleet")).content.decode()

    assert '<span class="status status-stalled">Stalled</span>' in html
    assert "This job has stalled." in html


def test_job_page_shows_stall_once(owner_client, stalled_job):
    html = owner_client.get(_detail_url(stalled_job)).content.decode()

    assert '<span class="status status-stalled">Stalled</span>' in html
    assert html.count("This job has stalled.") == 1


@pytest.fixture
def waiting_job(owner):
    job = make_job(items=2, status=Job.Status.QUEUED, requested_by=owner)
    moment = timezone.now() - dt.timedelta(seconds=90)
    Job.objects.filter(pk=job.pk).update(created_at=moment)
    return job


WAITING_TEXT = "No worker has started this job."


def test_job_page_warns_when_no_worker_starts(owner_client, waiting_job):
    html = owner_client.get(_detail_url(waiting_job)).content.decode()

    assert WAITING_TEXT in html
    assert "It has been queued for 1\xa0minute." in html
    assert "<code>manage.py qcluster</code>, may not be running" in html
    assert "<code>make run</code> starts the worker together with" in html
    assert "<code>.venv/bin/python manage.py qcluster</code>" in html
    assert html.count(WAITING_TEXT) == 1


def test_job_region_warns_when_no_worker_starts(owner_client, waiting_job):
    response = owner_client.get(
        _detail_url(waiting_job),
        headers={"HX-Request": "true", "HX-Target": "job-detail"},
    )

    assert WAITING_TEXT in response.content.decode()


def test_progress_box_warns_when_no_worker_starts(owner_client, waiting_job):
    html = _progress(owner_client, waiting_job)

    assert WAITING_TEXT in html
    assert 'hx-trigger="every 1s"' in html


def test_jobs_list_notes_job_without_worker(owner_client, waiting_job):
    html = owner_client.get(reverse("jobs")).content.decode()

    assert '<span class="status status-queued">Queued</span>' in html
    assert "No worker has started it." in html


def test_recently_queued_job_has_no_warning(owner_client, owner):
    job = make_job(items=1, status=Job.Status.QUEUED, requested_by=owner)

    html = owner_client.get(_detail_url(job)).content.decode()

    assert WAITING_TEXT not in html


def test_queued_warning_follows_the_setting(owner_client, waiting_job, settings):
    settings.PORTAL_JOB_QUEUED_WARNING_SECONDS = 120

    html = owner_client.get(_detail_url(waiting_job)).content.decode()

    assert WAITING_TEXT not in html


def test_running_job_has_no_queued_warning(owner_client, waiting_job):
    Job.objects.filter(pk=waiting_job.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )

    html = owner_client.get(_detail_url(waiting_job)).content.decode()

    assert WAITING_TEXT not in html


def test_sync_now_replaces_stalled_sync(owner_client, stalled_job):
    response = owner_client.post(reverse("sync_start"), headers={"HX-Request": "true"})

    stalled_job.refresh_from_db()
    new = Job.objects.filter(kind="sync").exclude(pk=stalled_job.pk).get()
    html = response.content.decode()
    assert stalled_job.status == Job.Status.CANCELLED
    assert stalled_job.finished_at is not None
    assert f'id="job-{new.pk}-progress"' in html
    assert "Stalled" not in html


# -- retries --------------------------------------------------------------------------


@pytest.fixture
def failed_fleet_job(owner, monkeypatch):
    """A finished fleet job with one failed item, whose retries stay queued."""
    monkeypatch.setattr(
        "sophos.services.fleet_ops.base.async_task", lambda *args, **options: None
    )
    job = make_job(
        kind="tamper.enable",
        status=Job.Status.FAILED,
        finished_at=timezone.now(),
        requested_by=owner,
    )
    JobItem.objects.create(job=job, target="failed", status=JobItem.Status.FAILED)
    return job


def test_second_retry_post_names_first_retry(owner_client, failed_fleet_job):
    url = reverse("fleet_ops:job_retry", args=[failed_fleet_job.pk])

    owner_client.post(url)
    response = owner_client.post(url, follow=True)

    retries = list(failed_fleet_job.retries.all())
    shown = [str(message) for message in response.context["messages"]]
    assert len(retries) == 1
    # The first request's "Job queued" message is shown on this page too.
    assert shown[-1:] == [
        f"Job {retries[0].pk} is already retrying this job's failed items. "
        "Once it has finished, retry its failed items from its page."
    ]


def test_job_page_links_open_retry(owner_client, failed_fleet_job):
    owner_client.post(reverse("fleet_ops:job_retry", args=[failed_fleet_job.pk]))
    retry = failed_fleet_job.retries.get()

    response = owner_client.get(_detail_url(failed_fleet_job))

    html = response.content.decode()
    assert response.context["can_retry"] is False
    assert response.context["open_retry"] == retry
    assert f'href="{_detail_url(retry)}">Job #{retry.pk}</a> is retrying' in html
    assert "Retry the 1 failed item" not in html


def test_retry_post_while_cancelling_waits(owner_client, owner, monkeypatch):
    monkeypatch.setattr(
        "sophos.services.fleet_ops.base.async_task", lambda *args, **options: None
    )
    job = make_job(
        kind="tamper.enable", status=Job.Status.CANCELLED, requested_by=owner
    )
    JobItem.objects.create(job=job, target="busy", status=JobItem.Status.RUNNING)
    JobItem.objects.create(job=job, target="cut", status=JobItem.Status.CANCELLED)

    response = owner_client.post(
        reverse("fleet_ops:job_retry", args=[job.pk]), follow=True
    )

    html = response.content.decode()
    assert not job.retries.exists()
    assert "This job has not finished yet" in html
    assert "Retry the 1" not in html


# -- cancelling jobs ------------------------------------------------------------------


@pytest.fixture
def cancelling_job(running_job):
    """A cancelled job whose worker is still ending its running item."""
    last = running_job.items.last()
    JobItem.objects.filter(pk=last.pk).update(status=JobItem.Status.RUNNING)
    Job.objects.filter(pk=running_job.pk).update(status=Job.Status.CANCELLED)
    return running_job


def test_cancelling_job_page_keeps_polling(owner_client, cancelling_job):
    response = owner_client.get(_detail_url(cancelling_job))

    html = response.content.decode()
    assert "Cancelling: the queued items are cancelled" in html
    assert 'id="job-detail" hx-get=' in html


def _progress_response(owner_client, job):
    return owner_client.get(
        _detail_url(job),
        headers={"HX-Request": "true", "HX-Target": f"job-{job.pk}-progress"},
    )


def test_cancelling_job_progress_keeps_polling(owner_client, cancelling_job):
    response = _progress_response(owner_client, cancelling_job)

    html = response.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert "HX-Trigger" not in response.headers


def test_cancelling_job_keeps_jobs_list_polling(owner_client, cancelling_job):
    response = owner_client.get(reverse("jobs"))

    assert response.context["polling"] is True


def test_cancelled_job_signals_end_once_closed(owner_client, cancelling_job):
    JobItem.objects.filter(job=cancelling_job, status=JobItem.Status.RUNNING).update(
        status=JobItem.Status.SUCCEEDED
    )
    Job.objects.filter(pk=cancelling_job.pk).update(finished_at=timezone.now())

    response = _progress_response(owner_client, cancelling_job)

    assert 'hx-trigger="every 1s"' not in response.content.decode()
    assert json.loads(response["HX-Trigger"]) == {
        "jobFinished": {"id": cancelling_job.pk}
    }


def test_jobs_pages_show_kind_labels(owner_client):
    job = make_job(kind="isolation.isolate", title="Isolate endpoints")

    listing = owner_client.get(reverse("jobs")).content.decode()
    detail = owner_client.get(_detail_url(job)).content.decode()

    assert "<td>Isolation: isolate</td>" in listing
    assert "Isolation: isolate · requested by" in detail
    assert "Isolation.isolate" not in detail
