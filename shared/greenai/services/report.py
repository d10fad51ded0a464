"""The report: read all evidence and decisions once, render the artifacts, write them to a dated folder and latest/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from greenai.adapters.http_json import ProviderError
from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.timeutil import parse_utc
from greenai.ports import ArtifactStore, DecisionLog, EvidenceStore, IntensityProvider
from greenai.reporting import artifacts as render

REPORTS_PREFIX = "reports/"
TIMELINE_JOBS = 4
CONTENT_TYPES = {".csv": "text/csv", ".json": "application/json", ".md": "text/markdown; charset=utf-8",
                 ".png": "image/png", ".html": "text/html; charset=utf-8"}


@dataclass(frozen=True)
class ReportResult:
    generated: datetime
    prefix: str
    files: tuple[str, ...]
    runs: int
    decisions: int
    month_to_date_kgco2e: float


def month_to_date_kgco2e(records: list[EvidenceRecord], now: datetime) -> float:
    """Operational kgCO2e of the runs that finished in `now`'s calendar month (UTC), for the carbon budget."""
    month = now.strftime("%Y-%m")
    return sum(r.kgCO2e for r in records if r.finished_utc[:7] == month)


class NoEvidenceError(ValueError):
    """Nothing has been measured yet, so there is nothing to report."""


def build_artifacts(records: list[EvidenceRecord], decisions: list[DecisionRecord], generated: datetime,
                    actuals: dict[str, list[tuple[datetime, float]]] | None = None) -> dict[str, bytes]:
    """Every artifact as bytes, by file name (DESIGN.md's eight, and two more plots)."""
    if not records:
        raise NoEvidenceError("no evidence yet: run a training job before building a report")
    files: dict[str, bytes] = {
        "evidence.csv": render.evidence_csv(records),
        "carbon_aware_decision.json": render.decisions_json(decisions),
        "FOOTPRINT.md": render.footprint_md(records, decisions, generated),
        "impact_math.csv": render.impact_math_csv(records),
        "energy_co2_bars.png": render.energy_co2_bars_png(records),
        "intensity_timeline.png": render.intensity_timeline_png(records, decisions, actuals),
        "savings.png": render.savings_png(records),
        "data_card.md": render.data_card_md(records),
        "model_card.md": render.model_card_md(records),
    }
    files["index.html"] = render.index_html(records, decisions, generated, [*files, "index.html"])
    return files


@dataclass
class ReportService:
    evidence: EvidenceStore
    decisions: DecisionLog
    artifacts: ArtifactStore
    provider: IntensityProvider | None = None  # for the actual intensity on the timeline; optional

    def run(self, generated: datetime) -> ReportResult:
        records = list(self.evidence.list_runs())
        decisions = list(self.decisions.list_decisions())
        files = build_artifacts(records, decisions, generated, self._actuals(records))
        dated = f"{REPORTS_PREFIX}{generated:%Y%m%dT%H%M%SZ}/"
        # Dated folder first, latest/ last: a reader of latest/ never sees a half-written report from this run.
        for prefix in (dated, f"{REPORTS_PREFIX}latest/"):
            for name, body in files.items():
                suffix = name[name.rfind("."):]
                self.artifacts.put_bytes(prefix + name, body, CONTENT_TYPES.get(suffix, "application/octet-stream"))
        return ReportResult(generated, dated, tuple(files), len(records), len(decisions),
                            month_to_date_kgco2e(records, generated))

    def _actuals(self, records: list[EvidenceRecord]) -> dict[str, list[tuple[datetime, float]]]:
        """Actual intensity from submission to deadline for the jobs the timeline shows; none where unknown."""
        if self.provider is None:
            return {}
        recent = sorted((r for r in records if r.task == "train"), key=lambda r: r.timestamp_utc)[-TIMELINE_JOBS:]
        found: dict[str, list[tuple[datetime, float]]] = {}
        for r in recent:
            try:
                series = self.provider.actuals(r.region, parse_utc(r.submitted_utc), parse_utc(r.deadline_utc))
            except ProviderError:
                continue
            found[r.job_id] = [(p.start, p.best_gco2_kwh) for p in series.points]
        return found
