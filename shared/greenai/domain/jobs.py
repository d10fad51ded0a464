"""Training jobs: the request a user submits, its validation, and the states a job moves through."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from greenai.domain.errors import ValidationError
from greenai.domain.runners import Runner, parse_runner
from greenai.domain.timeutil import format_utc, parse_utc

BUILTIN_DATASETS = ("diabetes",)
MODES = ("baseline", "optimized")
POLICIES = ("replan", "forecast-window", "threshold")
_ZONE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,10})*$")
_OUTWARD_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_WATTTIME_REGION = re.compile(r"^[A-Z0-9][A-Z0-9_]{1,40}$")


class JobState(str, Enum):  # noqa: UP042 - StrEnum is 3.11+; the SageMaker entry point runs on Python 3.10
    PENDING = "PENDING"
    SCHEDULED = "SCHEDULED"
    DISPATCHED = "DISPATCHED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


# Jobs the check function still plans.
PLANNABLE_STATES = (JobState.PENDING, JobState.SCHEDULED)


@dataclass(frozen=True)
class Transition:
    """One state change, with who made it, when and why."""

    state: JobState
    at: datetime
    by: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"state": self.state.value, "at": format_utc(self.at), "by": self.by, "why": self.why}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transition:
        return cls(JobState(data["state"]), parse_utc(data["at"]), data["by"], data["why"])


@dataclass(frozen=True)
class Job:
    """A training job and where it stands."""

    job_id: str
    dataset: str
    target: str
    mode: str
    expected_minutes: float
    deadline: datetime
    region: str
    submitted_at: datetime
    policy: str = "replan"
    state: JobState = JobState.PENDING
    planned_start: datetime | None = None
    run_now_intensity_gco2_kwh: float | None = None
    history: tuple[Transition, ...] = field(default=())
    test_dataset: str | None = None  # predict mode: an s3:// CSV to predict for, written back as a submission CSV
    runner: Runner = Runner()  # Lambda unless the job asks for a SageMaker training job

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.expected_minutes)

    @property
    def latest_start(self) -> datetime:
        """The last moment the job can start and still finish by its deadline."""
        return self.deadline - self.duration

    def moved_to(self, state: JobState, at: datetime, by: str, why: str, **changes: Any) -> Job:
        return replace(self, state=state, history=(*self.history, Transition(state, at, by, why)), **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "dataset": self.dataset,
            "target": self.target,
            "mode": self.mode,
            "expected_minutes": self.expected_minutes,
            "deadline_utc": format_utc(self.deadline),
            "region": self.region,
            "submitted_utc": format_utc(self.submitted_at),
            "policy": self.policy,
            "state": self.state.value,
            "planned_start_utc": format_utc(self.planned_start) if self.planned_start else None,
            "run_now_intensity_gco2_kwh": self.run_now_intensity_gco2_kwh,
            "history": [t.to_dict() for t in self.history],
            "test_dataset": self.test_dataset,
            "runner": self.runner.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        planned = data.get("planned_start_utc")
        run_now = data.get("run_now_intensity_gco2_kwh")
        return cls(
            job_id=data["job_id"],
            dataset=data["dataset"],
            target=data["target"],
            mode=data["mode"],
            expected_minutes=float(data["expected_minutes"]),
            deadline=parse_utc(data["deadline_utc"]),
            region=data["region"],
            submitted_at=parse_utc(data["submitted_utc"]),
            policy=data.get("policy", "replan"),
            state=JobState(data["state"]),
            planned_start=parse_utc(planned) if planned else None,
            run_now_intensity_gco2_kwh=float(run_now) if run_now is not None else None,
            history=tuple(Transition.from_dict(t) for t in data.get("history", [])),
            test_dataset=data.get("test_dataset"),
            runner=Runner.from_dict(data.get("runner")),
        )


def normalise_region(raw: Any) -> str:
    """GB, a GB outward postcode ('RG10'), a GB region id ('1'..'17'), an Electricity Maps zone ('DE',
    'US-CAL-CISO') or a WattTime region ('watttime:CAISO_NORTH')."""
    if raw is None or str(raw).strip() == "":
        raise ValidationError("region", "is required (GB, a GB outward postcode such as RG10, a region id 1-17, or a zone)")
    if str(raw).strip().lower().startswith("watttime:"):
        native = str(raw).strip().split(":", 1)[1].upper()
        if not _WATTTIME_REGION.match(native):
            raise ValidationError("region", f"not a WattTime region id: {native!r}")
        return f"watttime:{native}"
    text = str(raw).strip().upper()
    if text.isdigit():
        if 1 <= int(text) <= 17:
            return str(int(text))
        raise ValidationError("region", f"GB region ids run from 1 to 17, got {text}")
    if text == "GB" or _OUTWARD_POSTCODE.match(text) or _ZONE.match(text):
        return text
    raise ValidationError("region", f"unknown region {raw!r}")


def new_job(
    request: dict[str, Any], *, now: datetime, default_policy: str = "replan", job_id: str | None = None
) -> Job:
    """Validate a submission and make a PENDING job; raises ValidationError naming the first bad field."""
    if not isinstance(request, dict):
        raise ValidationError("request", "must be a JSON object")

    dataset = str(request.get("dataset") or "").strip()
    if not dataset:
        raise ValidationError("dataset", "is required (an s3:// CSV or one of " + ", ".join(BUILTIN_DATASETS) + ")")
    if not (dataset.startswith("s3://") or dataset in BUILTIN_DATASETS):
        raise ValidationError(
            "dataset", f"unsupported dataset {dataset!r}: use s3://bucket/key.csv or one of {', '.join(BUILTIN_DATASETS)}"
        )
    if dataset.startswith("s3://"):
        _check_s3_csv(dataset, "dataset")
    test_dataset = str(request.get("test_dataset") or "").strip() or None
    if test_dataset is not None:
        _check_s3_csv(test_dataset, "test_dataset")

    target = str(request.get("target") or "").strip()
    if not target:
        raise ValidationError("target", "is required (the column to predict)")

    mode = str(request.get("mode") or "").strip()
    if mode not in MODES:
        raise ValidationError("mode", f"must be one of {', '.join(MODES)}, got {mode!r}")

    raw_minutes = request.get("expected_minutes")
    try:
        expected_minutes = float(raw_minutes)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("expected_minutes", f"must be a number of minutes, got {raw_minutes!r}") from None
    if not expected_minutes > 0:
        raise ValidationError("expected_minutes", f"must be positive, got {raw_minutes!r}")
    runner = parse_runner(request, expected_minutes)
    if runner.is_sagemaker and test_dataset is not None:
        raise ValidationError("test_dataset", "predict mode runs on the Lambda runner; leave runner unset for it")

    raw_deadline = request.get("deadline") or request.get("deadline_utc")
    try:
        deadline = parse_utc(str(raw_deadline)) if raw_deadline else None
    except ValueError:
        deadline = None
        raise ValidationError("deadline", f"not an ISO-8601 time: {raw_deadline!r}") from None
    if deadline is None:
        raise ValidationError("deadline", "is required (ISO-8601, UTC, the time by which the job must have finished)")
    if deadline <= now:
        raise ValidationError("deadline", f"{format_utc(deadline)} is in the past (now {format_utc(now)})")
    if deadline < now + timedelta(minutes=expected_minutes):
        raise ValidationError(
            "deadline", f"{format_utc(deadline)} is too soon for a {expected_minutes:g}-minute job started now"
        )

    region = normalise_region(request.get("region", "GB"))

    policy = str(request.get("policy") or default_policy)
    if policy not in POLICIES:
        raise ValidationError("policy", f"must be one of {', '.join(POLICIES)}, got {policy!r}")

    job = Job(
        job_id=job_id or str(request.get("job_id") or f"job-{uuid.uuid4().hex[:12]}"),
        dataset=dataset,
        target=target,
        mode=mode,
        expected_minutes=expected_minutes,
        deadline=deadline,
        region=region,
        submitted_at=now,
        policy=policy,
        test_dataset=test_dataset,
        runner=runner,
    )
    return job.moved_to(JobState.PENDING, now, "submit", "submitted")


def _check_s3_csv(uri: str, field: str) -> None:
    bucket, _, key = uri[5:].partition("/") if uri.startswith("s3://") else ("", "", "")
    if not bucket or not key or not key.lower().endswith(".csv"):
        raise ValidationError(field, f"must be s3://bucket/key.csv, got {uri!r}")
