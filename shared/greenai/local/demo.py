"""`greenai demo`: a replayed day on real GB data, run through the real stack on the embedded AWS.

The clock is simulated; the recurring check fires every 30 minutes (the template's rate) on the forecast that was
published then, one-time wake-ups fire at their planned start, training runs for real under CodeCarbon, and the
report function's artifacts are downloaded into ./artifacts.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from greenai.adapters.aws import client
from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore, DynamoJobStore
from greenai.adapters.http_json import ProviderError
from greenai.adapters.s3 import S3ArtifactStore
from greenai.clock import SimulatedClock, SystemClock, use_clock
from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.jobs import JobState
from greenai.domain.timeutil import floor_half_hour, format_utc, parse_utc
from greenai.local.clockwork import Clockwork
from greenai.local.server import EmbeddedAWS
from greenai.local.stack import LocalStack, deploy
from greenai.reporting.figures import savings, timing_saving_kg
from greenai.services.download import download, selections
from greenai.services.submit import submit_job
from greenai.settings import Settings
from greenai.wiring import uk_provider

REPLAY_START = "2023-03-15T08:00:00Z"  # a weekday morning peak on the GB grid
REPLAY_HOURS = 24
JOB_MINUTES = 15.0  # the Lambda runner takes at most 15 minutes
# Quiet the handlers' JSON logs and metrics on a laptop; Lambda keeps the template's settings.
LOCAL_OVERRIDES = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
                   "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    artifacts_dir: Path
    evidence: list[EvidenceRecord]
    decisions: list[DecisionRecord]
    source_note: str
    summary: str


def _save_live_forecast(now: datetime, folder: Path) -> tuple[Path, str]:
    """Ask the real UK API; on success save its forecast as a replayable snapshot file."""
    forecast = uk_provider(Settings.from_env(), retries=1).forecast("GB", now)
    path = folder / "live_fw48h_snapshot.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["captured_utc", "window_from_utc", "forecast_gco2_per_kwh"])
        for point in forecast.points:
            writer.writerow([format_utc(floor_half_hour(now)), format_utc(point.start), point.forecast_gco2_kwh])
    return path, f"live UK Carbon Intensity API forecast fetched {format_utc(now)} ({len(forecast.points)} half-hours)"


def run_demo(artifacts_dir: Path = Path("artifacts"), *, live: bool = False, say: Say = print,
             hours: int = REPLAY_HOURS) -> DemoResult:
    for key, value in LOCAL_OVERRIDES.items():
        os.environ.setdefault(key, value)
    workdir = Path(tempfile.mkdtemp(prefix="greenai-demo-"))
    start = parse_utc(REPLAY_START)
    source_note = "replay of real GB forecasts as issued, 2023-03-15 (National Grid ESO Carbon Intensity API, CC BY 4.0)"
    if live:
        try:
            now = SystemClock().now()
            snapshot, source_note = _save_live_forecast(now, workdir)
            os.environ["GREENAI_REPLAY_SNAPSHOTS_CSV"] = str(snapshot)
            os.environ["GREENAI_REPLAY_ACTUALS_CSV"] = str(workdir / "no_actuals.csv")
            start = floor_half_hour(now)
            say(f"Live: {source_note}. Future hours have no actuals yet: intensities at run time are forecasts.")
        except ProviderError as exc:
            say(f"Live: the UK Carbon Intensity API is not reachable ({exc}).")
            say("Falling back to the replay of 2023-03-15 shipped with greenai.")
            source_note += " — fallback: the live API was unreachable"

    clock = SimulatedClock(start)
    use_clock(clock)
    try:
        with EmbeddedAWS() as aws:
            aws.runtime.overrides = dict(LOCAL_OVERRIDES)
            say(f"Embedded AWS (moto server) at {aws.endpoint_url}; creating the stack from template.yaml ...")
            stack = deploy(aws.runtime, parameters={"GridSource": "replay"})
            return _simulate(stack, aws, clock, start, hours, artifacts_dir, source_note, say)
    finally:
        use_clock(SystemClock())
        for key in ("GREENAI_REPLAY_SNAPSHOTS_CSV", "GREENAI_REPLAY_ACTUALS_CSV"):
            os.environ.pop(key, None)


def _simulate(stack: LocalStack, aws: EmbeddedAWS, clock: SimulatedClock, start: datetime, hours: int,
              artifacts_dir: Path, source_note: str, say: Say) -> DemoResult:
    outputs = stack.outputs
    jobs = DynamoJobStore(outputs["JobsTableName"])
    deadline = start + timedelta(hours=hours)
    submitted = []
    for mode in ("baseline", "optimized"):
        job, _ = submit_job({"job_id": f"demo-{mode}", "dataset": "diabetes", "target": "disease_progression",
                             "mode": mode, "expected_minutes": JOB_MINUTES, "deadline": format_utc(deadline),
                             "region": "GB"}, now=start, jobs=jobs)
        submitted.append(job)
    say(f"{format_utc(start)}  submitted {', '.join(j.job_id for j in submitted)}: {JOB_MINUTES:g} min each, "
        f"deadline {format_utc(deadline)}")

    clockwork = Clockwork()
    check = stack.schedule_for("CheckFunction")  # the daily report is invoked once at the end instead
    clockwork.add_recurring(check.function_name, check.expression, check.payload, start)
    now = start
    while now <= deadline:
        clock.set(now)
        clockwork.fire_due(now)
        failures = aws.runtime.drain()
        if failures:
            raise RuntimeError("a function failed in the embedded AWS: " + "; ".join(f.error or "" for f in failures))
        states = {j.job_id: j.state for j in (jobs.get(s.job_id) for s in submitted) if j}
        if all(state in (JobState.SUCCEEDED, JobState.FAILED) for state in states.values()):
            break
        following = clockwork.next_event(now + timedelta(seconds=1))
        if following is None:
            break
        now = following

    decisions = sorted(DynamoDecisionLog(outputs["DecisionsTableName"], S3ArtifactStore(outputs["BucketName"])).list_decisions(), key=lambda d: d.at_utc)
    _narrate_decisions(decisions, say)
    report = client("lambda").invoke(FunctionName=outputs["ReportFunctionName"], InvocationType="RequestResponse",
                                     Payload=json.dumps({"reason": "demo"}).encode())
    answer = json.loads(report["Payload"].read())
    if not answer.get("ok"):
        raise RuntimeError(f"report failed: {answer}")
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    files = download(outputs["BucketName"], selections("latest", evidence=False), artifacts_dir)
    evidence = sorted(DynamoEvidenceStore(outputs["EvidenceTableName"], S3ArtifactStore(outputs["BucketName"])).list_runs(), key=lambda r: r.phase)
    summary = summarise(evidence, decisions, source_note)
    say(summary)
    say(f"Artifacts ({len(files)} files) in {artifacts_dir.resolve()}: open index.html first.")
    return DemoResult(artifacts_dir, evidence, decisions, source_note, summary)


def _narrate_decisions(decisions: list[DecisionRecord], say: Say) -> None:
    last: dict[str, tuple[str, str]] = {}
    for d in decisions:
        key = (d.action, d.planned_start_utc)
        if last.get(d.job_id) == key:
            continue  # the same plan confirmed by a later check
        last[d.job_id] = key
        now_text = f"{d.intensity_now:.0f}" if d.intensity_now is not None else "?"
        planned = f" -> planned {d.planned_start_utc} at {d.planned_mean_intensity:.0f} g" if (
            d.action == "wait" and d.planned_mean_intensity is not None) else ""
        say(f"{d.at_utc}  {d.job_id:<17} {d.action:<5} now {now_text} g/kWh{planned}")


def summarise(evidence: list[EvidenceRecord], decisions: list[DecisionRecord], source_note: str) -> str:
    lines = ["", "Summary", f"  grid data: {source_note}",
             f"  decisions: {sum(d.action == 'wait' for d in decisions)} wait, "
             f"{sum(d.action == 'run' for d in decisions)} run, {sum(d.action == 'force' for d in decisions)} force"]
    for r in evidence:
        timing = timing_saving_kg(r)
        lines.append(
            f"  {r.phase:<9} started {r.timestamp_utc} (deferred {r.deferred_s / 3600:.1f} h): MAE {r.quality_metric_value:.2f}, "
            f"{r.kWh:.3g} kWh [{r.energy_method}], {r.intensity_gco2_kwh:.0f} g/kWh vs run-now "
            f"{(r.run_now_intensity_gco2_kwh or float('nan')):.0f} -> {r.kgCO2e * 1000:.3g} gCO2e"
            + (f" (timing saved {timing * 1000:.3g} g)" if timing is not None else ""))
    saved = savings(evidence)
    pct = f"{saved.timing_pct:.1f} %" if saved.timing_pct is not None else "n/a"
    lines.append(f"  saving vs starting at once: {saved.timing_kg * 1000:.3g} gCO2e ({pct}) from timing; "
                 f"{saved.efficiency_kg * 1000:.3g} gCO2e from the optimized pipeline's efficiency")
    return "\n".join(lines)


