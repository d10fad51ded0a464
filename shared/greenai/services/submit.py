"""Submitting a training job: validate everything first, then store it once (a repeated submit is a no-op)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from greenai.domain.jobs import Job, new_job
from greenai.ports import JobStore


def store_job(job: Job, jobs: JobStore) -> tuple[Job, bool]:
    """Store a validated job; returns the stored job and whether it is new (False: that job_id was submitted before)."""
    if jobs.put_new(job):
        return job, True
    existing = jobs.get(job.job_id)
    return (existing or job), False


def submit_job(request: dict[str, Any], *, now: datetime, jobs: JobStore, default_policy: str = "replan") -> tuple[Job, bool]:
    return store_job(new_job(request, now=now, default_policy=default_policy), jobs)
