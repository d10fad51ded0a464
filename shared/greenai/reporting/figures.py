"""The headline figures derived from evidence records: per-mode means, timing and efficiency savings (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean as mean  # float arithmetic: statistics.mean is exact and ~50x slower

from greenai.domain.evidence import EvidenceRecord


@dataclass(frozen=True)
class ModeFigures:
    mode: str
    runs: int
    mean_kwh: float
    mean_kwh_ccf: float
    mean_kgco2e: float
    mean_run_now_kgco2e: float | None  # the same energy at the run-now intensity
    mean_mae: float
    mean_runtime_s: float
    mean_intensity: float
    mean_run_now_intensity: float | None
    mean_embodied_kg: float
    mean_sci_kg: float


@dataclass(frozen=True)
class Savings:
    """Savings split by cause: timing (same run, run-now vs actual intensity) and efficiency (optimized vs baseline energy)."""

    timing_kg: float
    timing_runs: int
    efficiency_kg: float
    efficiency_runs: int
    actual_total_kg: float
    run_now_total_kg: float

    @property
    def timing_pct(self) -> float | None:
        return 100.0 * self.timing_kg / self.run_now_total_kg if self.run_now_total_kg > 0 else None


def timing_saving_kg(record: EvidenceRecord) -> float | None:
    """kWh × (run-now intensity − actual intensity) / 1000; None where the counterfactual is unknown."""
    if record.run_now_intensity_gco2_kwh is None:
        return None
    return record.kWh * (record.run_now_intensity_gco2_kwh - record.intensity_gco2_kwh) / 1000.0


def by_mode(records: Sequence[EvidenceRecord]) -> dict[str, ModeFigures]:
    figures: dict[str, ModeFigures] = {}
    for mode in sorted({r.phase for r in records}):
        runs = [r for r in records if r.phase == mode]
        run_now = [(r.kWh, r.run_now_intensity_gco2_kwh) for r in runs if r.run_now_intensity_gco2_kwh is not None]
        figures[mode] = ModeFigures(
            mode=mode,
            runs=len(runs),
            mean_kwh=mean(r.kWh for r in runs),
            mean_kwh_ccf=mean(r.kWh_ccf_model for r in runs),
            mean_kgco2e=mean(r.kgCO2e for r in runs),
            mean_run_now_kgco2e=mean(kwh * intensity / 1000.0 for kwh, intensity in run_now) if run_now else None,
            mean_mae=mean(r.quality_metric_value for r in runs),
            mean_runtime_s=mean(r.runtime_s for r in runs),
            mean_intensity=mean(r.intensity_gco2_kwh for r in runs),
            mean_run_now_intensity=mean(intensity for _, intensity in run_now) if run_now else None,
            mean_embodied_kg=mean(r.embodied_kgCO2e for r in runs),
            mean_sci_kg=mean(r.sci_kgCO2e_per_unit for r in runs),
        )
    return figures


def savings(records: Sequence[EvidenceRecord]) -> Savings:
    timing = [s for s in (timing_saving_kg(r) for r in records) if s is not None]
    modes = by_mode(records)
    efficiency_kg = 0.0
    efficiency_runs = 0
    if "baseline" in modes:
        baseline_kwh = modes["baseline"].mean_kwh
        for r in records:
            if r.phase == "optimized":
                efficiency_kg += (baseline_kwh - r.kWh) * r.intensity_gco2_kwh / 1000.0
                efficiency_runs += 1
    actual_total = sum(r.kgCO2e for r in records)
    run_now_total = sum(r.kWh * (r.run_now_intensity_gco2_kwh if r.run_now_intensity_gco2_kwh is not None
                                 else r.intensity_gco2_kwh) / 1000.0 for r in records)
    return Savings(sum(timing), len(timing), efficiency_kg, efficiency_runs, actual_total, run_now_total)
