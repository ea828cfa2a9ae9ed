"""An action taken in the portal is seen by a sync that the cluster runs."""

from django.urls import reverse
from django_q.tasks import async_task

from sophos.models import Alert, Job
from sophos.services.connections import demo_connection_ensure
from sophos.services.jobs import job_create
from sophos.services.sync import sync_run
from tests.e2e.conftest import wait_for


def test_cluster_sync_sees_an_alert_action_taken_in_the_portal(
    cluster, client, django_user_model
):
    connection = demo_connection_ensure()
    sync_run(job_id=job_create(kind="sync", title="First", user=None).pk)
    alert = next(a for a in Alert.objects.all() if "acknowledge" in a.allowed_actions)
    owner = django_user_model.objects.create_superuser("boss", password="pw-9x8y7z")
    client.force_login(owner)

    response = client.post(
        reverse("alert_action", args=[alert.tenant_id, alert.pk]),
        {"action": "acknowledge"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    Alert.objects.bulk_create([alert])  # put it back, as a stale mirror would hold it

    job = job_create(kind="sync", title="Cluster sync", user=owner)
    async_task(
        "sophos.tasks.sync_run_task", job.pk, sync=False, task_name="cluster sync"
    )
    finished = wait_for(lambda: Job.objects.get(pk=job.pk).finished, timeout=90)

    assert finished, cluster.stderr.read1(4000) if cluster.poll() is not None else ""
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.parameters == {}
    assert connection.tenants.count() == job.total
    assert not Alert.objects.filter(pk=alert.pk).exists()
