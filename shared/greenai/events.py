"""Typed entry-point events: what each handler accepts, parsed and validated before any work starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from greenai.domain.jobs import ValidationError
from greenai.domain.timeutil import parse_utc
from greenai.sagemaker.entry import decode_hyperparameter


@dataclass(frozen=True)
class CheckRequest:
    """A scheduled check (EventBridge), a one-time wake-up for one job (Scheduler), or a submission."""

    kind: str  # scheduled | wakeup | submit
    job_id: str | None = None
    job: dict[str, Any] | None = None
    # When the Scheduler meant to deliver it: the same for every redelivery of one event, so their decisions share ids.
    scheduled_time: datetime | None = None


@dataclass(frozen=True)
class TrainRequest:
    job_id: str
    decision_id: str


@dataclass(frozen=True)
class ReportRequest:
    reason: str


def _scheduled_time(event: dict[str, Any]) -> datetime | None:
    raw = event.get("scheduled_time") or event.get("time")  # ours, or an EventBridge rule's event time
    if raw is None:
        return None
    try:
        return parse_utc(str(raw))
    except ValueError:
        raise ValidationError("scheduled_time", f"not an ISO-8601 time: {raw!r}") from None


def parse_check_event(event: Any) -> CheckRequest:
    if not isinstance(event, dict):
        raise ValidationError("event", "must be a JSON object")
    source = event.get("source")
    if source == "greenai.wakeup":
        job_id = event.get("job_id")
        if not isinstance(job_id, str) or not job_id:
            raise ValidationError("job_id", "a wake-up event must name the job")
        return CheckRequest("wakeup", job_id=job_id, scheduled_time=_scheduled_time(event))
    if source == "greenai.submit":
        job = event.get("job")
        if not isinstance(job, dict):
            raise ValidationError("job", "a submit event carries the job as an object")
        return CheckRequest("submit", job=job)
    # EventBridge / Scheduler recurring events ("Scheduled Event", or the scheduler's own payload).
    return CheckRequest("scheduled", scheduled_time=_scheduled_time(event))


def parse_train_event(event: Any) -> TrainRequest:
    if not isinstance(event, dict):
        raise ValidationError("event", "must be a JSON object")
    job_id, decision_id = event.get("job_id"), event.get("decision_id", "")
    if not isinstance(job_id, str) or not job_id:
        raise ValidationError("job_id", "is required")
    if not isinstance(decision_id, str):
        raise ValidationError("decision_id", "must be a string")
    return TrainRequest(job_id, decision_id)


def parse_report_event(event: Any) -> ReportRequest:
    if event is None:
        return ReportRequest("on demand")
    if not isinstance(event, dict):
        raise ValidationError("event", "must be a JSON object")
    return ReportRequest(str(event.get("detail-type") or event.get("reason") or "on demand"))


TRAINING_STATES = ("InProgress", "Completed", "Failed", "Stopped", "Stopping")


@dataclass(frozen=True)
class TrainingStateChange:
    """EventBridge's "SageMaker Training Job State Change" for one of our training jobs."""

    training_job: str
    status: str
    job_id: str
    output_path: str  # the job's S3OutputPath (s3://bucket/prefix)
    failure_reason: str
    at: datetime | None
    billable_s: float | None = None  # what SageMaker billed: provisioning, installs and transfers as well as training


def _hyperparameter(detail: dict[str, Any], name: str) -> str:
    raw = (detail.get("HyperParameters") or {}).get(name)
    if not isinstance(raw, str):
        return ""
    decoded = decode_hyperparameter(raw)  # SageMaker's SDK convention: every value JSON-encoded
    return decoded if isinstance(decoded, str) else raw


def parse_training_state_event(event: Any) -> TrainingStateChange:
    if not isinstance(event, dict) or not isinstance(event.get("detail"), dict):
        raise ValidationError("detail", "a SageMaker state-change event carries the training job in `detail`")
    detail = event["detail"]
    name = detail.get("TrainingJobName")
    if not isinstance(name, str) or not name:
        raise ValidationError("detail.TrainingJobName", "is required")
    status = detail.get("TrainingJobStatus")
    if status not in TRAINING_STATES:
        raise ValidationError("detail.TrainingJobStatus", f"must be one of {', '.join(TRAINING_STATES)}, got {status!r}")
    job_id = _hyperparameter(detail, "greenai_job_id") or str((detail.get("Tags") or {}).get("greenai:job_id") or "")
    if not job_id:
        raise ValidationError("detail.HyperParameters.greenai_job_id", f"training job {name} names no greenai job")
    output_path = str((detail.get("OutputDataConfig") or {}).get("S3OutputPath") or "")
    if status == "Completed" and not output_path.startswith("s3://"):
        raise ValidationError("detail.OutputDataConfig.S3OutputPath", f"not an s3:// path: {output_path!r}")
    return TrainingStateChange(name, status, job_id, output_path.rstrip("/"), str(detail.get("FailureReason") or ""),
                               _scheduled_time(event), _billable_seconds(detail))


def _billable_seconds(detail: dict[str, Any]) -> float | None:
    billed = detail.get("BillableTimeInSeconds")
    if isinstance(billed, (int, float)) and billed > 0:
        return float(billed)
    start, end = detail.get("TrainingStartTime"), detail.get("TrainingEndTime")
    if isinstance(start, (int, float)) and isinstance(end, (int, float)) and end > start:
        return (end - start) / 1000.0  # EventBridge carries these as epoch milliseconds
    return None
