"""Evidence of one training run and of one planning decision: the records the report is built from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

# DESIGN.md's evidence.csv columns, in order: the seed's first, then ours.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "run_id", "phase", "task", "dataset", "hardware", "region", "timestamp_utc", "kWh", "kgCO2e", "water_L",
    "runtime_s", "quality_metric_name", "quality_metric_value", "notes", "job_id", "finished_utc", "energy_method",
    "kWh_ccf_model", "intensity_gco2_kwh", "intensity_source", "embodied_kgCO2e", "sci_kgCO2e_per_unit",
    "functional_unit", "submitted_utc", "deadline_utc", "run_now_intensity_gco2_kwh", "deferred_s", "decision_id",
)  # fmt: skip

DECISION_FIELDS: tuple[str, ...] = (
    "decision_id", "job_id", "at_utc", "region", "provider", "action", "reason", "intensity_now",
    "planned_start_utc", "planned_mean_intensity", "run_now_mean_intensity", "deadline_utc", "forecast",
)  # fmt: skip


@dataclass(frozen=True)
class EvidenceRecord:
    """One measured run; field names are evidence.csv's columns."""

    run_id: str
    phase: str
    task: str
    dataset: str
    hardware: str
    region: str
    timestamp_utc: str
    kWh: float
    kgCO2e: float
    water_L: float
    runtime_s: float
    quality_metric_name: str
    quality_metric_value: float
    notes: str
    job_id: str
    finished_utc: str
    energy_method: str
    kWh_ccf_model: float
    intensity_gco2_kwh: float
    intensity_source: str
    embodied_kgCO2e: float
    sci_kgCO2e_per_unit: float
    functional_unit: str
    submitted_utc: str
    deadline_utc: str
    run_now_intensity_gco2_kwh: float | None
    deferred_s: float
    decision_id: str
    # Beyond the CSV columns: what the cards and the footprint are filled from.
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def csv_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in EVIDENCE_COLUMNS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class DecisionRecord:
    """One planning decision with the forecast it was made on (DESIGN.md's carbon_aware_decision.json entry)."""

    decision_id: str
    job_id: str
    at_utc: str
    region: str
    provider: str
    action: str
    reason: str
    intensity_now: float | None
    planned_start_utc: str
    planned_mean_intensity: float | None
    run_now_mean_intensity: float | None
    deadline_utc: str
    forecast: list[dict[str, Any]]
    policy: str = "replan"
    forecast_key: str = ""  # where the audit trail in S3 keeps the forecast (shared by the check's decisions)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
