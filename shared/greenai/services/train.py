"""The training run: claim the job, train under measurement, price the energy at the intensity of the hours it ran.

Evidence is written S3-first (immutable, keyed by run id), then indexed in DynamoDB, then the job is marked done: a
crash at any point leaves either nothing counted or a record that a retry completes, never two records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from greenai.adapters.http_json import ProviderError
from greenai.domain.evidence import EvidenceRecord
from greenai.domain.footprint import (
    LambdaShape,
    ccf_lambda_kwh,
    embodied_kgco2e,
    operational_kgco2e,
    sci_kgco2e_per_unit,
    water_litres,
)
from greenai.domain.intensity import window_mean
from greenai.domain.jobs import Job, JobState, ValidationError
from greenai.domain.timeutil import format_utc
from greenai.measurement.tracker import Measurement, MeasurementError
from greenai.ports import ArtifactStore, EvidenceStore, IntensityProvider, JobStore
from greenai.training.datasets import Dataset
from greenai.training.pipelines import TrainingOutcome, train_and_score

EVIDENCE_PREFIX = "evidence/runs/"


def run_id_for(job_id: str) -> str:
    """One run per job: a retried or duplicated train invoke maps to the same run id and is recorded once."""
    return f"run-{job_id}"


@dataclass(frozen=True)
class TrainResult:
    job_id: str
    status: str  # succeeded | failed | already-done
    run_id: str | None = None
    reason: str = ""
    evidence: EvidenceRecord | None = None


Measure = Callable[..., tuple[Any, Measurement]]


@dataclass
class TrainService:
    jobs: JobStore
    evidence: EvidenceStore
    artifacts: ArtifactStore
    provider: IntensityProvider
    load_dataset: Callable[[Job], Dataset]
    measure: Measure
    shape: LambdaShape
    energy_source: str = "codecarbon"

    def run(self, job_id: str, decision_id: str, now: Callable[[], datetime]) -> TrainResult:
        job = self.jobs.get(job_id)
        if job is None:
            raise ValidationError("job_id", f"no job {job_id!r}")
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            return TrainResult(job_id, "already-done", run_id_for(job_id), f"job is {job.state.value}")
        run_id = run_id_for(job_id)
        evidence_key = f"{EVIDENCE_PREFIX}{run_id}.json"
        if job.state == JobState.RUNNING and self._exists(evidence_key):
            # A previous attempt trained and wrote S3 but died before the index: finish its bookkeeping.
            record = EvidenceRecord.from_dict(json.loads(self.artifacts.get_bytes(evidence_key)))
            return self._complete(job, record, now())
        if job.state not in (JobState.DISPATCHED, JobState.RUNNING):
            return TrainResult(job_id, "already-done", run_id, f"job is {job.state.value}, not dispatched")
        started = now()
        running = job.moved_to(JobState.RUNNING, started, "train", f"training started (decision {decision_id})")
        if not self.jobs.transition(job, (JobState.DISPATCHED, JobState.RUNNING), running):
            return TrainResult(job_id, "already-done", run_id, "another invocation claimed this job")
        job = running

        try:
            dataset = self.load_dataset(job)
            outcome, measurement = self._measured_training(dataset, job)
        except (ValidationError, MeasurementError) as exc:
            failed = job.moved_to(JobState.FAILED, now(), "train", str(exc))
            self.jobs.transition(job, (JobState.RUNNING,), failed)
            return TrainResult(job_id, "failed", None, str(exc))

        finished = started + timedelta(seconds=measurement.runtime_s)
        record = self._evidence(job, run_id, decision_id, dataset, outcome, measurement, started, finished)
        self.artifacts.put_json_once(evidence_key, record.to_dict())
        return self._complete(job, record, finished)

    def _exists(self, key: str) -> bool:
        return any(k == key for k in self.artifacts.list_keys(key))

    def _measured_training(self, dataset: Dataset, job: Job) -> tuple[TrainingOutcome, Measurement]:
        # Refuse bad data before the tracker starts: nothing is measured or recorded for a refused job.
        from greenai.training.pipelines import check_trainable

        check_trainable(dataset.frame, job.target)
        (outcome, _pipeline), measurement = self.measure(lambda: train_and_score(dataset.frame, job.target, job.mode))
        return outcome, measurement

    def _run_time_intensity(self, job: Job, started: datetime, finished: datetime) -> tuple[float, str]:
        """Mean intensity over the half-hours the run spanned: the actual where the source has it, else its forecast."""
        try:
            series = self.provider.actuals(job.region, started, max(finished, started + timedelta(seconds=1)))
        except ProviderError:
            series = self.provider.forecast(job.region, started)
        mean = window_mean(series.points, started, max(finished - started, timedelta(seconds=1)), use_actual=True)
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

    def _evidence(self, job: Job, run_id: str, decision_id: str, dataset: Dataset, outcome: TrainingOutcome,
                  measurement: Measurement, started: datetime, finished: datetime) -> EvidenceRecord:
        intensity, intensity_source = self._run_time_intensity(job, started, finished)
        run_now, run_now_basis = self._run_now_intensity(job)
        ccf_kwh = ccf_lambda_kwh(self.shape, measurement.runtime_s, measurement.cpu_utilisation)
        kwh = ccf_kwh if self.energy_source == "ccf" else measurement.kwh
        method = "Cloud Carbon Footprint Lambda model (estimated)" if self.energy_source == "ccf" else measurement.energy_method
        embodied = embodied_kgco2e(measurement.runtime_s, self.shape.vcpus)
        notes = (f"kWh from {self.energy_source}; PUE {measurement.pue}; water from AWS WUE (estimate); "
                 f"run-now intensity is the {run_now_basis}; intensity priced at simulated/run time {format_utc(started)}")
        return EvidenceRecord(
            run_id=run_id,
            phase=job.mode,
            task="train",
            dataset=dataset.name,
            hardware=f"{self.shape.describe()}; measured on CPU {measurement.cpu_model}",
            region=job.region,
            timestamp_utc=format_utc(started),
            kWh=kwh,
            kgCO2e=operational_kgco2e(kwh, intensity),
            water_L=water_litres(kwh),
            runtime_s=measurement.runtime_s,
            quality_metric_name="MAE",
            quality_metric_value=outcome.mae,
            notes=notes,
            job_id=job.job_id,
            finished_utc=format_utc(finished),
            energy_method=method,
            kWh_ccf_model=ccf_kwh,
            intensity_gco2_kwh=intensity,
            intensity_source=intensity_source,
            embodied_kgCO2e=embodied,
            sci_kgCO2e_per_unit=sci_kgco2e_per_unit(kwh, intensity, embodied),
            functional_unit="one training run",
            submitted_utc=format_utc(job.submitted_at),
            deadline_utc=format_utc(job.deadline),
            run_now_intensity_gco2_kwh=run_now,
            deferred_s=(started - job.submitted_at).total_seconds(),
            decision_id=decision_id,
            details={
                "target": job.target,
                "dataset_source": dataset.source,
                "rows": int(len(dataset.frame)),
                "columns": [str(c) for c in dataset.frame.columns],
                "rows_train": outcome.rows_train,
                "rows_test": outcome.rows_test,
                "numeric_features": list(outcome.numeric_features),
                "categorical_features": list(outcome.categorical_features),
                "hyperparameters": outcome.hyperparameters,
                "preprocessing": outcome.preprocessing,
                "target_mean": outcome.target_mean,
                "cv_mae": outcome.cv_mae,
                "cv_folds": outcome.cv_folds,
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
                "expected_minutes": job.expected_minutes,
                "policy": job.policy,
                "run_now_basis": run_now_basis,
            },
        )

    def _complete(self, job: Job, record: EvidenceRecord, at: datetime) -> TrainResult:
        self.evidence.put_run(record)  # conditional: a second completion adds nothing
        done = job.moved_to(JobState.SUCCEEDED, at, "train", f"run {record.run_id}: MAE {record.quality_metric_value:.2f}, "
                            f"{record.kWh:.3g} kWh, {record.kgCO2e:.3g} kgCO2e")
        self.jobs.transition(job, (JobState.RUNNING,), done)
        return TrainResult(job.job_id, "succeeded", record.run_id, "", record)
