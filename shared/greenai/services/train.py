"""The training run: claim the job, train (and predict) under measurement, price the energy at the intensity of the
half-hours it ran, record the evidence.

Evidence is written S3-first (immutable, keyed by run id), then indexed in DynamoDB, then the job is marked done: a
crash at any point leaves either nothing counted or records that a retry completes, never two of the same run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from greenai.adapters.http_json import ProviderError
from greenai.domain.evidence import EvidenceRecord
from greenai.domain.footprint import (
    MachineShape,
    embodied_kgco2e,
    operational_kgco2e,
    sci_kgco2e_per_unit,
    water_litres,
)
from greenai.domain.intensity import window_mean
from greenai.domain.jobs import Job, JobState, ValidationError
from greenai.domain.timeutil import format_utc, parse_utc
from greenai.measurement.tracker import Measurement, MeasurementError
from greenai.ports import ArtifactStore, EvidenceStore, IntensityProvider, JobStore
from greenai.training.datasets import Dataset
from greenai.training.pipelines import (
    TrainingOutcome,
    check_predictable,
    check_trainable,
    load_estimators,
    predict,
    train_and_score,
)

EVIDENCE_PREFIX = "evidence/runs/"
PREDICTIONS_PREFIX = "predictions/"
PREDICTIONS_PER_UNIT = 1000


def run_id_for(job_id: str, task: str = "train") -> str:
    """One run per job and task: a retried or duplicated invoke maps to the same run id and is recorded once."""
    return f"run-{job_id}" if task == "train" else f"run-{job_id}-{task}"


def evidence_key(run_id: str) -> str:
    return f"{EVIDENCE_PREFIX}{run_id}.json"


@dataclass(frozen=True)
class TrainResult:
    job_id: str
    status: str  # succeeded | failed | already-done
    run_id: str | None = None
    reason: str = ""
    evidence: EvidenceRecord | None = None
    predictions_uri: str | None = None


@dataclass(frozen=True)
class MeasuredWork:
    """What one measured block produced, before it is priced."""

    task: str
    measurement: Measurement
    started: datetime
    units: float
    functional_unit: str

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "measurement": asdict(self.measurement), "started": self.started.isoformat(),
                "units": self.units, "functional_unit": self.functional_unit}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeasuredWork:
        return cls(data["task"], Measurement(**data["measurement"]), parse_utc(data["started"]), float(data["units"]),
                   data["functional_unit"])


@dataclass(frozen=True)
class DatasetSummary:
    """What the evidence says of the data a run trained on."""

    name: str
    source: str
    rows: int
    columns: tuple[str, ...]

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetSummary:
        return cls(dataset.name, dataset.source, int(len(dataset.frame)), tuple(str(c) for c in dataset.frame.columns))


@dataclass(frozen=True)
class UnpricedRun:
    """A measured run whose pricing failed where it ran (no grid source answered): priced later, by whoever can."""

    job: Job
    decision_id: str
    dataset: DatasetSummary
    outcome: TrainingOutcome
    work: tuple[MeasuredWork, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job.to_dict(), "decision_id": self.decision_id, "dataset": asdict(self.dataset),
                "outcome": asdict(self.outcome), "work": [w.to_dict() for w in self.work], "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UnpricedRun:
        outcome = dict(data["outcome"])
        for name in ("numeric_features", "categorical_features"):
            outcome[name] = tuple(outcome[name])
        summary = dict(data["dataset"], columns=tuple(data["dataset"]["columns"]))
        return cls(Job.from_dict(data["job"]), data["decision_id"], DatasetSummary(**summary),
                   TrainingOutcome(**outcome), tuple(MeasuredWork.from_dict(w) for w in data["work"]), data["reason"])


Measure = Callable[..., tuple[Any, Measurement]]


@dataclass
class TrainService:
    jobs: JobStore
    evidence: EvidenceStore
    artifacts: ArtifactStore
    provider: IntensityProvider
    load_dataset: Callable[[str, str], Dataset]
    measure: Measure
    shape: MachineShape  # Lambda's memory share, or the SageMaker instances the job ran on
    energy_source: str = "codecarbon"
    keep_model: Callable[[Job, Any], None] | None = None  # the SageMaker runner saves the fitted model
    # Where a run that no grid source could price goes (the SageMaker runner: into the job's output, priced by the
    # completion handler); without it the ProviderError propagates and the invocation's retry tries again.
    defer_pricing: Callable[[UnpricedRun], None] | None = None

    @property
    def pricer(self) -> RunPricer:
        return RunPricer(self.provider, self.shape, self.energy_source)

    def run(self, job_id: str, decision_id: str, now: Callable[[], datetime]) -> TrainResult:
        job = self.jobs.get(job_id)
        if job is None:
            raise ValidationError("job_id", f"no job {job_id!r}")
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return TrainResult(job_id, "already-done", run_id_for(job_id), f"job is {job.state.value}")
        keys = [evidence_key(run_id_for(job_id, task)) for task in self._tasks(job)]
        if job.state == JobState.RUNNING and all(self.artifacts.exists(key) for key in keys):
            # A previous attempt wrote its evidence to S3 but died before the index: finish its bookkeeping.
            records = [EvidenceRecord.from_dict(json.loads(self.artifacts.get_bytes(key))) for key in keys]
            return self._complete(job, records, now())
        if job.state not in (JobState.DISPATCHED, JobState.RUNNING):
            return TrainResult(job_id, "already-done", run_id_for(job_id), f"job is {job.state.value}, not dispatched")
        started = now()
        running = job.moved_to(JobState.RUNNING, started, "train", f"training started (decision {decision_id})")
        if not self.jobs.transition(job, (JobState.DISPATCHED, JobState.RUNNING), running):
            return TrainResult(job_id, "already-done", run_id_for(job_id), "another invocation claimed this job")
        job = running

        try:
            train, test = self._load(job)
            work, outcome, predictions_uri = self._measured_work(job, train, test, started)
        except (ValidationError, MeasurementError) as exc:
            failed = job.moved_to(JobState.FAILED, now(), "train", str(exc))
            self.jobs.transition(job, (JobState.RUNNING,), failed)
            return TrainResult(job_id, "failed", None, str(exc))

        try:
            records = self.pricer.evidence(job, decision_id, DatasetSummary.of(train), outcome, work)
        except ProviderError as exc:
            if self.defer_pricing is None:
                raise
            self.defer_pricing(UnpricedRun(job, decision_id, DatasetSummary.of(train), outcome, tuple(work), str(exc)))
            return TrainResult(job_id, "measured", run_id_for(job_id), f"measured; pricing deferred: {exc}")
        for record in records:
            self.artifacts.put_json_once(evidence_key(record.run_id), record.to_dict())
        result = self._complete(job, records, started + timedelta(seconds=sum(w.measurement.runtime_s for w in work)))
        return TrainResult(result.job_id, result.status, result.run_id, result.reason, result.evidence, predictions_uri)

    @staticmethod
    def _tasks(job: Job) -> tuple[str, ...]:
        return ("train", "predict") if job.test_dataset else ("train",)

    def _load(self, job: Job) -> tuple[Dataset, Dataset | None]:
        """Load and check everything before any tracker starts: a refused job is neither measured nor recorded."""
        train = self.load_dataset(job.dataset, "dataset")
        check_trainable(train.frame, job.target)
        test = self.load_dataset(job.test_dataset, "test_dataset") if job.test_dataset else None
        if test is not None:
            check_predictable(train.frame, test.frame, job.target)
        load_estimators()
        return train, test

    def _measured_work(self, job: Job, train: Dataset, test: Dataset | None,
                       started: datetime) -> tuple[list[MeasuredWork], TrainingOutcome, str | None]:
        intensity_now = self._intensity_now(job, started)
        (outcome, pipeline), trained = self.measure(lambda: train_and_score(train.frame, job.target, job.mode),
                                                    intensity_gco2_kwh=intensity_now)
        work = [MeasuredWork("train", trained, started, 1.0, "one training run")]
        if self.keep_model is not None:
            self.keep_model(job, pipeline)  # outside the measured block: saving is not training
        if test is None:
            return work, outcome, None
        predicted_at = started + timedelta(seconds=trained.runtime_s)
        predictions, measured = self.measure(lambda: predict(pipeline, train.frame, test.frame, job.target),
                                             intensity_gco2_kwh=intensity_now)
        uri = self._write_predictions(job, predictions.frame)
        rows = len(predictions.frame)
        work.append(MeasuredWork("predict", measured, predicted_at, rows / PREDICTIONS_PER_UNIT,
                          f"{PREDICTIONS_PER_UNIT:,} predictions ({rows} made)"))
        return work, outcome, uri

    def _write_predictions(self, job: Job, frame: Any) -> str:
        key = f"{PREDICTIONS_PREFIX}{job.job_id}/submission.csv"
        self.artifacts.put_bytes(key, frame.to_csv(index=False).encode(), "text/csv")
        return f"s3://{self.artifacts.bucket}/{key}"

    def _intensity_now(self, job: Job, at: datetime) -> float | None:
        """The live intensity handed to CodeCarbon, so its own figure uses the grid of this half-hour."""
        try:
            point = self.provider.forecast(job.region, at).point_at(at)
        except ProviderError:
            return None
        return point.best_gco2_kwh if point else None

    def _complete(self, job: Job, records: list[EvidenceRecord], at: datetime) -> TrainResult:
        return record_success(self.jobs, self.evidence, job, records, at, "train", (JobState.RUNNING,))


def settle(jobs: JobStore, job_id: str, expected: tuple[JobState, ...], move: Callable[[Job], Job],
           tries: int = 5) -> Job | None:
    """Move the job while it is in `expected`, re-reading it on every try: a concurrent change to it (another event
    for the same job) means trying again, not giving up. None when it has left `expected` (someone settled it)."""
    for _ in range(tries):
        job = jobs.get(job_id)
        if job is None or job.state not in expected:
            return None
        moved = move(job)
        if jobs.transition(job, expected, moved):
            return moved
    raise RuntimeError(f"job {job_id} kept changing under {tries} tries; the event's retry will try again")


@dataclass(frozen=True)
class RunPricer:
    """Energy × the intensity of the half-hours a run spanned, the run-now counterfactual, embodied carbon and SCI:
    a measured run becomes evidence. Used where the run happened, or later from an UnpricedRun."""

    provider: IntensityProvider
    shape: MachineShape
    energy_source: str = "codecarbon"

    def _run_time_intensity(self, job: Job, started: datetime, finished: datetime) -> tuple[float, str]:
        """Mean intensity over the half-hours the run spanned: the actual where the source has it, else its forecast."""
        span = max(finished - started, timedelta(seconds=1))
        try:
            series = self.provider.actuals(job.region, started, started + span)
        except ProviderError:
            series = self.provider.forecast(job.region, started)
        mean = window_mean(series.points, started, span, use_actual=True)
        if mean is None:
            raise ProviderError(f"{series.provider}: no intensity covers {format_utc(started)}..{format_utc(finished)}")
        kind = "actual" if all(p.actual_gco2_kwh is not None for p in series.points) else "forecast (nowcast)"
        return mean, f"{series.provider} {kind}"

    def _run_now_intensity(self, job: Job) -> tuple[float | None, str]:
        """The counterfactual: mean actual intensity had the job started at submission; the decision's forecast if unknown."""
        try:
            series = self.provider.actuals(job.region, job.submitted_at, job.submitted_at + job.duration)
            actual = window_mean(series.points, job.submitted_at, job.duration, use_actual=True)
        except ProviderError:
            actual = None
        if actual is not None:
            return actual, "actual"
        return job.run_now_intensity_gco2_kwh, "forecast at decision time"

    def evidence(self, job: Job, decision_id: str, dataset: DatasetSummary, outcome: TrainingOutcome,
                 work: Sequence[MeasuredWork]) -> list[EvidenceRecord]:
        """Every measured block of the run, priced at the intensity of the half-hours it ran."""
        return [self._record(job, decision_id, dataset, outcome, w) for w in work]

    def _record(self, job: Job, decision_id: str, dataset: DatasetSummary, outcome: TrainingOutcome,
                work: MeasuredWork) -> EvidenceRecord:
        measurement = work.measurement
        finished = work.started + timedelta(seconds=measurement.runtime_s)
        intensity, intensity_source = self._run_time_intensity(job, work.started, finished)
        run_now, run_now_basis = self._run_now_intensity(job)
        ccf_kwh = self.shape.ccf_kwh(measurement.runtime_s, measurement.cpu_utilisation)
        kwh = ccf_kwh if self.energy_source == "ccf" else measurement.kwh
        method = self.shape.ccf_model if self.energy_source == "ccf" else measurement.energy_method
        embodied = embodied_kgco2e(measurement.runtime_s, self.shape.vcpus)
        notes = (f"kWh from {self.energy_source}; PUE {measurement.pue}; water from AWS WUE (estimate); "
                 f"run-now intensity is the {run_now_basis}; intensity priced at run time {format_utc(work.started)}")
        return EvidenceRecord(
            run_id=run_id_for(job.job_id, work.task),
            phase=job.mode,
            task=work.task,
            dataset=dataset.name,
            hardware=f"{self.shape.describe()}; measured on CPU {measurement.cpu_model}",
            region=job.region,
            timestamp_utc=format_utc(work.started),
            kWh=kwh,
            kgCO2e=operational_kgco2e(kwh, intensity),
            water_L=water_litres(kwh),
            runtime_s=measurement.runtime_s,
            quality_metric_name="MAE" if work.task == "train" else "MAE (hold-out, of the model used)",
            quality_metric_value=outcome.mae,
            notes=notes,
            job_id=job.job_id,
            finished_utc=format_utc(finished),
            energy_method=method,
            kWh_ccf_model=ccf_kwh,
            intensity_gco2_kwh=intensity,
            intensity_source=intensity_source,
            embodied_kgCO2e=embodied,
            sci_kgCO2e_per_unit=sci_kgco2e_per_unit(kwh, intensity, embodied, work.units),
            functional_unit=work.functional_unit,
            submitted_utc=format_utc(job.submitted_at),
            deadline_utc=format_utc(job.deadline),
            run_now_intensity_gco2_kwh=run_now,
            deferred_s=(work.started - job.submitted_at).total_seconds(),
            decision_id=decision_id,
            details={
                "target": job.target,
                "dataset_source": dataset.source,
                "rows": dataset.rows,
                "columns": list(dataset.columns),
                "rows_train": outcome.rows_train,
                "rows_test": outcome.rows_test,
                "numeric_features": list(outcome.numeric_features),
                "categorical_features": list(outcome.categorical_features),
                "hyperparameters": outcome.hyperparameters,
                "preprocessing": outcome.preprocessing,
                "target_mean": outcome.target_mean,
                "cv_mae": outcome.cv_mae,
                "cv_folds": outcome.cv_folds,
                "functional_units": work.units,
                "codecarbon_kwh": measurement.kwh,
                "codecarbon_cpu_kwh": measurement.cpu_kwh,
                "codecarbon_ram_kwh": measurement.ram_kwh,
                "codecarbon_gpu_kwh": measurement.gpu_kwh,
                "codecarbon_method": measurement.energy_method,
                "cpu_model": measurement.cpu_model,
                "cpu_utilisation": measurement.cpu_utilisation,
                "pue": measurement.pue,
                "memory_mb": self.shape.memory_mb,
                "vcpus": self.shape.vcpus,
                "ccf_model": self.shape.ccf_model,
                "runner": job.runner.to_dict(),
                "expected_minutes": job.expected_minutes,
                "policy": job.policy,
                "run_now_basis": run_now_basis,
            },
        )


def record_success(jobs: JobStore, evidence: EvidenceStore, job: Job, records: list[EvidenceRecord], at: datetime,
                   by: str, expected: tuple[JobState, ...]) -> TrainResult:
    """Index the run's evidence (already in S3) and mark the job done; both writes are conditional, so a second
    completion of the same run adds nothing. Shared by the Lambda runner and SageMaker's completion handler."""
    for record in records:
        evidence.put_run(record)
    trained = records[0]
    summary = (f"run {trained.run_id}: MAE {trained.quality_metric_value:.2f}, "
               f"{sum(r.kWh for r in records):.3g} kWh, {sum(r.kgCO2e for r in records):.3g} kgCO2e")
    if settle(jobs, job.job_id, expected, lambda current: current.moved_to(JobState.SUCCEEDED, at, by, summary)) is None:
        return TrainResult(job.job_id, "already-done", trained.run_id, "another delivery recorded this run")
    return TrainResult(job.job_id, "succeeded", trained.run_id, "", trained)
