"""SageMaker's outcome recorded once even when another event for the same job changes it in between."""

from __future__ import annotations

from greenai.adapters.memory import MemoryArtifactStore, MemoryEvidenceStore, MemoryJobStore
from greenai.domain.jobs import JobState, new_job
from greenai.domain.timeutil import parse_utc
from greenai.events import parse_training_state_event
from greenai.services.training_done import TrainingDoneService
from tests.conftest import load_event

NOW = parse_utc("2023-03-16T04:10Z")


class RacingJobs(MemoryJobStore):
    """The first transition loses to a concurrent InProgress event that moved the job to RUNNING."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def transition(self, job, expected, updated):  # type: ignore[no-untyped-def]
        if not self.raced:
            self.raced = True
            current = self.get(job.job_id)
            assert super().transition(current, (JobState.DISPATCHED,), current.moved_to(
                JobState.RUNNING, NOW, "sagemaker", "training job started"))
        return super().transition(job, expected, updated)


def test_a_failure_that_races_the_started_event_is_still_recorded_not_dropped():
    jobs = RacingJobs()
    job = new_job({"dataset": "diabetes", "target": "disease_progression", "mode": "baseline", "expected_minutes": 60,
                   "deadline": "2023-03-17T08:00Z", "runner": "sagemaker", "instance_type": "ml.m5.xlarge"},
                  now=parse_utc("2023-03-16T00:00Z"), job_id="event-sagemaker-job")
    jobs.put_new(job.moved_to(JobState.DISPATCHED, NOW, "check", "run"))
    service = TrainingDoneService(jobs, MemoryEvidenceStore(), MemoryArtifactStore(), fetch=lambda uri: b"")
    result = service.handle(parse_training_state_event(load_event("training_done_failed.json")), NOW)
    assert result.status == "failed"
    history = [t.state for t in jobs.get("event-sagemaker-job").history]
    assert history[-3:] == [JobState.DISPATCHED, JobState.RUNNING, JobState.FAILED]
