"""`greenai experiment` and `greenai predict` on a laptop: the train service's own code, with in-memory stores and one
grid intensity for the whole session (the live UK figure, or the one the user gives, labelled as such)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from greenai.adapters.http_json import ProviderError
from greenai.adapters.memory import MemoryArtifactStore, MemoryEvidenceStore, MemoryJobStore
from greenai.domain.evidence import EvidenceRecord
from greenai.domain.footprint import LambdaShape
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.jobs import JobState, ValidationError, new_job
from greenai.domain.timeutil import HALF_HOUR, floor_half_hour
from greenai.services.report import build_artifacts
from greenai.services.train import TrainResult, TrainService

LOCAL_BUCKET = "local"


class SteadyIntensity:
    """One intensity for every slot: what a laptop session knows when it cannot follow the grid half-hour by half-hour."""

    def __init__(self, gco2_kwh: float, label: str) -> None:
        if not 0 <= gco2_kwh < 2000:
            raise ValidationError("intensity", f"{gco2_kwh} is not a plausible gCO2/kWh")
        self.value = gco2_kwh
        self.name = label

    def _series(self, start: datetime, hours: int, actual: bool) -> Forecast:
        first = floor_half_hour(start)
        points = tuple(IntensityPoint(first + i * HALF_HOUR, first + (i + 1) * HALF_HOUR, self.value,
                                      self.value if actual else None) for i in range(hours * 2))
        return Forecast("local", self.name, start, points)

    def forecast(self, region: str, now: datetime) -> Forecast:
        return self._series(now, 48, actual=False)

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        return self._series(start, max(1, int((end - start) / timedelta(hours=1)) + 1), actual=True)


def session_intensity(given: float | None, live: Callable[[], float]) -> SteadyIntensity:
    if given is not None:
        return SteadyIntensity(given, f"user-supplied {given:g} gCO2/kWh")
    try:
        value = live()
    except ProviderError as exc:
        raise ValidationError("intensity", f"the UK Carbon Intensity API is not reachable ({exc}); "
                                           "pass --intensity G (gCO2/kWh)") from None
    return SteadyIntensity(value, "uk-carbon-intensity live (GB, at start)")


@dataclass
class LocalTrainer:
    intensity: SteadyIntensity
    now: Callable[[], datetime]
    memory_mb: int = 1769

    def __post_init__(self) -> None:
        from greenai.measurement.tracker import measure
        from greenai.wiring import dataset_loader

        self.store = MemoryArtifactStore(LOCAL_BUCKET)
        self.jobs = MemoryJobStore()
        self.evidence = MemoryEvidenceStore()
        self.service = TrainService(self.jobs, self.evidence, self.store, self.intensity,
                                    dataset_loader(self.store, self.memory_mb),  # type: ignore[arg-type]
                                    measure, LambdaShape(self.memory_mb, "x86_64"))

    def add_file(self, path: Path) -> str:
        if not path.is_file():
            raise ValidationError("dataset", f"no such file {path}")
        key = f"files/{len(self.store.objects)}/{path.name}"
        self.store.put_bytes(key, path.read_bytes(), "text/csv")
        return f"s3://{LOCAL_BUCKET}/{key}"

    def run(self, job_id: str, dataset: str, target: str, mode: str, test_dataset: str | None = None) -> TrainResult:
        now = self.now()
        request = {"dataset": dataset, "target": target, "mode": mode, "expected_minutes": 15,
                   "deadline": (now + timedelta(hours=1)).isoformat(), "region": "GB", "test_dataset": test_dataset}
        job = new_job(request, now=now, job_id=job_id)
        self.jobs.put_new(job)
        self.jobs.transition(job, (JobState.PENDING,), job.moved_to(JobState.DISPATCHED, now, "local", "run now",
                                                                    run_now_intensity_gco2_kwh=self.intensity.value))
        result = self.service.run(job_id, "local", self.now)
        if result.status == "failed":
            field, _, message = result.reason.partition(": ")
            raise ValidationError(field, message)
        return result


def run_experiment(trainer: LocalTrainer, runs: int, dataset: str, target: str, out: Path,
                   say: Callable[[str], None] = print) -> list[EvidenceRecord]:
    """`runs` measured runs alternating baseline and optimized, then the report's artifacts into `out`."""
    if runs < 2:
        raise ValidationError("runs", "at least 2, so that both pipelines are measured")
    for index in range(runs):
        mode = ("baseline", "optimized")[index % 2]
        result = trainer.run(f"experiment-{index + 1:03d}-{mode}", dataset, target, mode)
        record = result.evidence
        assert record is not None
        say(f"run {index + 1}/{runs} {mode:<9} MAE {record.quality_metric_value:.2f}  {record.kWh:.3g} kWh  "
            f"{record.kgCO2e * 1000:.3g} gCO2e  {record.runtime_s:.2f} s")
    records = list(trainer.evidence.list_runs())
    out.mkdir(parents=True, exist_ok=True)
    for name, body in build_artifacts(records, [], trainer.now()).items():
        (out / name).write_bytes(body)
    return records
