"""SageMaker's word on a training job, recorded once: started → RUNNING, completed → its evidence indexed and the
job SUCCEEDED, failed or stopped → FAILED with SageMaker's reason.

EventBridge delivers at least once; every write here is conditional (write-once S3 evidence, conditional DynamoDB
put, conditional state transition), so a second delivery of the same event changes nothing.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from greenai.domain.evidence import EvidenceRecord
from greenai.domain.jobs import Job, JobState, ValidationError
from greenai.events import TrainingStateChange
from greenai.ports import ArtifactStore, EvidenceStore, IntensityProvider, JobStore
from greenai.sagemaker.entry import UNPRICED_PREFIX, output_location
from greenai.services.train import (
    EVIDENCE_PREFIX,
    RunPricer,
    TrainResult,
    UnpricedRun,
    evidence_key,
    record_success,
    settle,
)

# Any state short of done: a dispatch whose answer was lost puts the job back in the queue although SageMaker has it;
# what SageMaker then reports still belongs to the job (the next dispatch finds the same training job name).
NOT_YET_RUNNING = (JobState.PENDING, JobState.SCHEDULED, JobState.DISPATCHED)
IN_FLIGHT = (*NOT_YET_RUNNING, JobState.RUNNING)
BY = "sagemaker"


def _json_members(archive: bytes, prefix: str) -> list[dict[str, Any]]:
    documents = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.lstrip("./")
            if member.isfile() and name.startswith(prefix) and name.endswith(".json"):
                handle = tar.extractfile(member)
                if handle is not None:
                    documents.append(json.loads(handle.read()))
    return documents


def evidence_in_output(archive: bytes) -> list[EvidenceRecord]:
    """The evidence JSON the entry point left in SM_OUTPUT_DATA_DIR, from SageMaker's output.tar.gz."""
    return [EvidenceRecord.from_dict(d) for d in _json_members(archive, EVIDENCE_PREFIX)]


def unpriced_in_output(archive: bytes) -> list[UnpricedRun]:
    """Runs the job measured but could not price (no grid source answered inside it)."""
    return [UnpricedRun.from_dict(d) for d in _json_members(archive, UNPRICED_PREFIX)]


def with_billed_time(record: EvidenceRecord, job: Job, change: TrainingStateChange) -> EvidenceRecord:
    """The whole training job beside the measured run: SageMaker bills (and the instance draws power) from
    provisioning to upload, which CodeCarbon inside the script cannot see. Kept in details and notes, priced with the
    CCF instance model at the run's CPU utilisation; kWh stays the measured run's, as on Lambda."""
    if change.billable_s is None or not job.runner.is_sagemaker:
        return record
    details = dict(record.details or {})
    whole_kwh = job.runner.shape().ccf_kwh(change.billable_s, float(details.get("cpu_utilisation") or 0.0))
    details.update(sagemaker_training_job=change.training_job, sagemaker_billable_s=change.billable_s,
                   ccf_kwh_whole_training_job=whole_kwh)
    note = (f"; SageMaker billed {change.billable_s:.0f} s for the whole training job (start-up, installs, "
            f"transfers): {whole_kwh:.3g} kWh by the CCF instance model (estimate, not in kWh)")
    return replace(record, details=details, notes=record.notes + note)


@dataclass
class TrainingDoneService:
    jobs: JobStore
    evidence: EvidenceStore
    artifacts: ArtifactStore
    fetch: Callable[[str], bytes]  # s3://bucket/key → bytes (the job's output archive)
    make_provider: Callable[[], IntensityProvider] | None = None  # prices a run the job could not price itself
    energy_source: str = "codecarbon"

    def handle(self, change: TrainingStateChange, now: datetime) -> TrainResult:
        job = self.jobs.get(change.job_id)
        if job is None:
            raise ValidationError("job_id", f"no job {change.job_id!r} (training job {change.training_job})")
        at = change.at or now
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return TrainResult(job.job_id, "already-done", None, f"job is {job.state.value}")
        if change.status in ("InProgress", "Stopping"):
            if change.status == "InProgress":
                settle(self.jobs, job.job_id, NOT_YET_RUNNING, lambda current: current.moved_to(
                    JobState.RUNNING, at, BY, f"training job {change.training_job} started"))
            return TrainResult(job.job_id, "running", None, change.status)
        if change.status in ("Failed", "Stopped"):
            return self._fail(job, at, f"SageMaker training job {change.training_job} {change.status.lower()}: "
                                       f"{change.failure_reason or 'no reason given'}")
        archive_uri = output_location(change.output_path, change.training_job)
        try:
            archive = self.fetch(archive_uri)
            found = evidence_in_output(archive) or self._price(unpriced_in_output(archive))
        except (OSError, tarfile.TarError, ValueError, KeyError, TypeError) as exc:
            return self._fail(job, at, f"training job {change.training_job} completed, but its output "
                                       f"{archive_uri} could not be read: {exc}")
        if not found:
            return self._fail(job, at, f"training job {change.training_job} completed without evidence in {archive_uri}")
        # The train run first: record_success summarises the job with it.
        records = [with_billed_time(r, job, change) for r in sorted(found, key=lambda r: (r.task != "train", r.run_id))]
        for record in records:  # S3 first, as the Lambda runner does: the immutable record, then the index
            self.artifacts.put_json_once(evidence_key(record.run_id), record.to_dict())
        return record_success(self.jobs, self.evidence, job, records, at, BY, IN_FLIGHT)

    def _price(self, runs: list[UnpricedRun]) -> list[EvidenceRecord]:
        """Price what the job measured but could not price, with this stack's grid sources (their last good forecast
        included). A ProviderError here propagates: the event is retried, the measurement waits in the output."""
        if not runs or self.make_provider is None:
            return []
        provider = self.make_provider()
        return [r for run in runs for r in RunPricer(provider, run.job.runner.shape(), self.energy_source)
                .evidence(run.job, run.decision_id, run.dataset, run.outcome, run.work)]

    def _fail(self, job: Job, at: datetime, reason: str) -> TrainResult:
        if settle(self.jobs, job.job_id, IN_FLIGHT, lambda current: current.moved_to(JobState.FAILED, at, BY, reason)) is None:
            return TrainResult(job.job_id, "already-done", None, "another delivery recorded the outcome")
        return TrainResult(job.job_id, "failed", None, reason)
