"""The report: read all evidence and decisions once, render the artifacts, write them to a dated folder and latest/.

Evidence and decisions come from their S3 logs (tens of objects per day, closed days compacted into one each as they
are read); the decisions file, a gigabyte at 200,000 decisions, is streamed to a temporary file, uploaded once and
copied server-side into latest/.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from greenai.adapters.http_json import ProviderError
from greenai.adapters.s3_logs import day_cutoff
from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.timeutil import parse_utc
from greenai.ports import DecisionLog, EvidenceStore, IntensityProvider, ReportArtifacts
from greenai.reporting import artifacts as render

REPORTS_PREFIX = "reports/"
DECISIONS_FILE = "carbon_aware_decision.json"
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
                    actuals: dict[str, list[tuple[datetime, float]]] | None = None,
                    with_decisions_file: bool = True) -> dict[str, bytes]:
    """Every artifact as bytes, by file name (DESIGN.md's eight, and two more plots); without the decisions file when
    the caller streams it (`with_decisions_file=False`: index.html still links it)."""
    if not records:
        raise NoEvidenceError("no evidence yet: run a training job before building a report")
    files: dict[str, bytes] = {
        "evidence.csv": render.evidence_csv(records),
        **({DECISIONS_FILE: render.decisions_json(decisions)} if with_decisions_file else {}),
        "FOOTPRINT.md": render.footprint_md(records, decisions, generated),
        "impact_math.csv": render.impact_math_csv(records),
        "energy_co2_bars.png": render.energy_co2_bars_png(records),
        "intensity_timeline.png": render.intensity_timeline_png(records, decisions, actuals),
        "savings.png": render.savings_png(records),
        "data_card.md": render.data_card_md(records),
        "model_card.md": render.model_card_md(records),
    }
    names = [*files, "index.html"] if with_decisions_file else [DECISIONS_FILE, *files, "index.html"]
    files["index.html"] = render.index_html(records, decisions, generated, names)
    return files


@dataclass
class ReportService:
    evidence: EvidenceStore
    decisions: DecisionLog
    artifacts: ReportArtifacts
    provider: IntensityProvider | None = None  # for the actual intensity on the timeline; optional

    def run(self, generated: datetime) -> ReportResult:
        closed = day_cutoff(generated)
        records = list(self.evidence.list_runs(compact_before=closed))
        decisions = list(self.decisions.list_decisions(compact_before=closed))
        files = build_artifacts(records, decisions, generated, self._actuals(records), with_decisions_file=False)
        dated = f"{REPORTS_PREFIX}{generated:%Y%m%dT%H%M%SZ}/"
        latest = f"{REPORTS_PREFIX}latest/"
        decision_count = len(decisions)
        with tempfile.TemporaryDirectory(prefix="greenai-report-") as folder:
            big = Path(folder) / DECISIONS_FILE
            with big.open("wb") as out:
                render.write_decisions_json(decisions, out)
            del decisions[:]  # the largest thing in memory, no longer needed
            self.artifacts.put_file(dated + DECISIONS_FILE, str(big), CONTENT_TYPES[".json"])
        # Dated folder first, latest/ last: a reader of latest/ never sees a half-written report from this run.
        self._put_all(dated, files)
        self.artifacts.copy(dated + DECISIONS_FILE, latest + DECISIONS_FILE)
        self._put_all(latest, files)
        return ReportResult(generated, dated, (DECISIONS_FILE, *files), len(records), decision_count,
                            month_to_date_kgco2e(records, generated))

    def _put_all(self, prefix: str, files: dict[str, bytes]) -> None:
        for name, body in files.items():
            suffix = name[name.rfind("."):]
            self.artifacts.put_bytes(prefix + name, body, CONTENT_TYPES.get(suffix, "application/octet-stream"))

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
