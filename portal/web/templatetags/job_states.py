"""The ``job_state`` tag: a job's status as pages show it, stalled included."""

from __future__ import annotations

from django import template

from sophos.models import Job
from sophos.services import jobs

register = template.Library()


@register.simple_tag
def job_state(job: Job) -> jobs.JobState:
    """Return the job's ``JobState``, such as stalled or waiting for a worker.

    An open job costs one query unless the view passed its page of jobs to
    ``jobs.jobs_activity_load``.
    """
    return jobs.job_state(job=job)
