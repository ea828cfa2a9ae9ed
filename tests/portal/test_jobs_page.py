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
