"""`make bench`: measure on this machine what the issues promise, write bench/results.json and bench/summary.md.

Figures that compare two things are measured side by side in this one run. Not a test: machines are noisy.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench"


def bench_planning(jobs_count: int = 10_000) -> dict[str, object]:
    """One check planning N pending jobs across 3 regions (in-memory stores: the planning cost itself)."""
    from greenai.adapters.grid_replay import ReplayProvider
    from greenai.adapters.memory import (
        CountingProvider,
        MemoryDecisionLog,
        MemoryJobStore,
        MemoryWakeUps,
        RecordingDispatcher,
    )
    from greenai.domain.jobs import new_job
    from greenai.domain.timeutil import parse_utc
    from greenai.services.check import CheckService

    now = parse_utc("2023-03-15T08:00Z")
    store = MemoryJobStore()
    regions = ("GB", "RG10", "12")
    for i in range(jobs_count):
        store.put_new(new_job({"dataset": "diabetes", "target": "y", "mode": "baseline", "expected_minutes": 5 + i % 10,
                               "deadline": "2023-03-16T08:00Z", "region": regions[i % 3]}, now=now, job_id=f"job-{i}"))
    provider = CountingProvider(ReplayProvider.shipped())
    service = CheckService(store, provider, MemoryDecisionLog(), RecordingDispatcher(), MemoryWakeUps())
    started = time.perf_counter()
    summary = service.run(now)
    seconds = time.perf_counter() - started
    return {"jobs": jobs_count, "regions": len(regions), "seconds": round(seconds, 3), "target_seconds": 5.0,
            "forecast_fetches": provider.fetches, "decisions": len(summary.decisions), "stores": "in-memory adapters"}


def bench_planning_embedded(jobs_count: int = 1_000) -> dict[str, object]:
    """The same check against the embedded AWS (DynamoDB, S3, Scheduler through boto3 to moto): the I/O included."""
    code = r"""
import json, time
from greenai.adapters.dynamodb import DynamoJobStore, DynamoDecisionLog
from greenai.adapters.dispatch import SchedulerWakeUps
from greenai.adapters.grid_replay import ReplayProvider
from greenai.adapters.memory import CountingProvider, RecordingDispatcher
from greenai.adapters.s3 import S3ArtifactStore
from greenai.domain.jobs import new_job
from greenai.domain.timeutil import parse_utc
from greenai.local.server import EmbeddedAWS
from greenai.local.stack import deploy
from greenai.services.check import CheckService
from greenai.services.submit import store_job
with EmbeddedAWS() as aws:
    out = deploy(aws.runtime, parameters={"GridSource": "replay"}).outputs
    now = parse_utc("2023-03-15T08:00Z")
    jobs = DynamoJobStore(out["JobsTableName"])
    for i in range(N):
        store_job(new_job({"dataset": "diabetes", "target": "y", "mode": "baseline", "expected_minutes": 5 + i %% 10,
                           "deadline": "2023-03-16T08:00Z", "region": ("GB", "RG10", "12")[i %% 3]}, now=now,
                          job_id=f"job-{i}"), jobs)
    provider = CountingProvider(ReplayProvider.shipped())
    service = CheckService(jobs, provider, DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"])),
                           RecordingDispatcher(), SchedulerWakeUps(out["CheckFunctionArn"], out["SchedulerRoleArn"]))
    t = time.perf_counter(); first = service.run(now); first_s = time.perf_counter() - t
    t = time.perf_counter(); service.run(parse_utc("2023-03-15T08:30Z")); second_s = time.perf_counter() - t
    print(json.dumps({"first_s": first_s, "second_s": second_s, "fetches": provider.fetches,
                      "scheduled": len(first.scheduled)}))
""".replace("N)", f"{jobs_count})").replace("%%", "%")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return {"jobs": jobs_count, "first_check_s": round(data["first_s"], 2), "next_check_s": round(data["second_s"], 2),
            "forecast_fetches_per_check": {k: v // 2 for k, v in data["fetches"].items()},
            "scheduled": data["scheduled"], "stores": "embedded AWS (moto server) through boto3"}


def bench_tracker(runs: int = 10) -> dict[str, object]:
    """CodeCarbon start-up cost: the first tracker in a process, then later trackers' start+stop."""
    code = r"""
import json, time, os
os.environ.setdefault("HOME", "/tmp")
from greenai.measurement.tracker import measure
t = time.perf_counter(); measure(lambda: None); first = time.perf_counter() - t
later = []
for _ in range(RUNS):
    t = time.perf_counter(); measure(lambda: None); later.append(time.perf_counter() - t)
print(json.dumps({"first": first, "later": later}))
""".replace("RUNS", str(runs))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    data = json.loads(result.stdout.strip().splitlines()[-1])
    later = statistics.median(data["later"])
    return {"first_tracker_s": round(data["first"], 3), "later_start_stop_median_s": round(later, 4),
            "later_share_of_60s_run_pct": round(100 * later / 60.0, 3), "target_pct": 2.0, "runs": runs}


def bench_imports() -> dict[str, float]:
    """Cold import of each handler in a fresh interpreter (what a Lambda cold start pays before the handler runs)."""
    figures = {}
    for name in ("check", "train", "report"):
        code = (
            "import time, importlib.util; t = time.perf_counter(); "
            f"spec = importlib.util.spec_from_file_location('app', r'{ROOT / 'functions' / name / 'app.py'}'); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); print(time.perf_counter() - t)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={"POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
        figures[name] = round(float(out.stdout.strip().splitlines()[-1]), 3)
    return figures


def bench_backtest() -> dict[str, object]:
    from greenai.adapters.grid_replay import ReplayProvider, data_path, read_snapshots
    from greenai.backtest.engine import POLICIES, Backtest
    from greenai.backtest.forecasts import SyntheticForecasts
    from greenai.backtest.inputs import read_series
    from greenai.cli import SHIPPED_FORECASTS, SHIPPED_SERIES

    gb2022 = read_series(data_path(SHIPPED_SERIES["gb-2022"]))
    real = read_series(data_path(SHIPPED_SERIES["gb-2023-03"]))
    snapshots = ReplayProvider(read_snapshots(data_path(SHIPPED_FORECASTS["gb-2023-03"])), {}, slot=real.step)
    results: dict[str, object] = {}
    oracle = {}
    for hours in (1, 6, 12, 24):
        score = Backtest(gb2022, hours, hours + 24).run(("oracle",), SyntheticForecasts(gb2022), "-")[0]
        oracle[f"{hours}h"] = round(score.saving_pct, 2)
    results["oracle_gb2022_24h_slack"] = {"measured": oracle,
                                          "published_sukprasert_2024": {"1h": 23.0, "6h": 19.8, "12h": 14.7, "24h": 9.7}}
    for label, series, provider in (("gb2022_synthetic", gb2022, SyntheticForecasts(gb2022)),
                                    ("gb2023_03_real_forecasts", real, snapshots)):
        table = {}
        for job_hours, deadline_hours in ((1, 12), (2, 24), (8, 24)):
            started = time.perf_counter()
            scores = Backtest(series, job_hours, deadline_hours).run(POLICIES, provider, label)
            table[f"{job_hours}h/{deadline_hours}h"] = {
                "seconds": round(time.perf_counter() - started, 2),
                **{s.policy: {"saving_pct": round(s.saving_pct, 2), "oracle_capture_pct": round(s.oracle_capture_pct, 1)}
                   for s in scores},
            }
        results[label] = table
    return results


def bench_report_scale(evidence: int, decisions: int) -> dict[str, object]:
    """The report over N evidence records and M decisions on the embedded AWS, in a process of its own."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "report_scale.py"), str(evidence), str(decisions)],
                         capture_output=True, text=True, check=True, timeout=3000)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_sam_sizes() -> dict[str, object]:
    """Unzipped size of each function plus its layers, from `sam build`'s output (run `make build` first)."""
    build = ROOT / ".aws-sam" / "build"
    if not (build / "template.yaml").is_file():
        return {"skipped": "no .aws-sam/build: run `make build` (or `make bench BUILD=1`)"}
    from samtranslator.yaml_helper import yaml_parse

    template = yaml_parse((build / "template.yaml").read_text())

    def size(folder: Path) -> int:
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())

    figures = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        layers = [layer["Ref"] for layer in resource["Properties"].get("Layers", []) if isinstance(layer, dict)]
        total = size(build / logical_id) + sum(size(build / layer) for layer in layers)
        figures[logical_id] = {"unzipped_mb": round(total / 1e6, 1), "layers": layers, "limit_mb": 250}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-backtest", action="store_true")
    parser.add_argument("--report-evidence", type=int, default=10_000, help="issue target: 100,000")
    parser.add_argument("--report-decisions", type=int, default=20_000, help="issue target: 200,000")
    args = parser.parse_args()
    results: dict[str, object] = {
        "machine": {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "cpus": __import__("os").cpu_count()},
        "measured_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "planning_check": bench_planning(),
        "planning_check_embedded_aws": bench_planning_embedded(),
        "tracker_overhead": bench_tracker(),
        "handler_import_s": bench_imports(),
        "sam_build_sizes": bench_sam_sizes(),
        "report_scale": bench_report_scale(args.report_evidence, args.report_decisions),
    }
    if not args.skip_backtest:
        results["backtest"] = bench_backtest()
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (OUT / "summary.md").write_text(summary(results))
    print(summary(results))
    return 0


# The size (100,000 runs, 200,000 decisions) loads for about 7 minutes: run on its own, kept in this file.
LARGE = ROOT / "bench" / "scale_100k.json"


def report_scale_line(r: dict, source: str) -> str:
    return (f"- Report over {r['evidence']:,} runs and {r['decisions']:,} decisions on the embedded AWS ({source}): "
            f"first report {r['report_s']} s (compacting every closed day as it reads), next {r['report_second_s']} s "
            f"(target ≤ {r['target_s']} s); report process peak {r['report_peak_mb']} / {r['report_second_peak_mb']} MB "
            f"(target ≤ {r['target_peak_mb']} MB); loading took {r['load_s']} s.")


def summary(results: dict) -> str:
    planning, tracker = results["planning_check"], results["tracker_overhead"]
    lines = [f"# Benchmarks ({results['measured_utc']}, {results['machine']['cpus']} CPUs, Python {results['machine']['python']})", "",
             f"- Check planning {planning['jobs']:,} jobs across {planning['regions']} regions: {planning['seconds']} s "
             f"(target ≤ {planning['target_seconds']} s); forecast fetches {planning['forecast_fetches']} ({planning['stores']}).",
             f"- The same check on the embedded AWS, {results['planning_check_embedded_aws']['jobs']:,} jobs: first check "
             f"{results['planning_check_embedded_aws']['first_check_s']} s (every job scheduled), next check "
             f"{results['planning_check_embedded_aws']['next_check_s']} s (plans moved only where the forecast moved them).",
             f"- CodeCarbon: first tracker {tracker['first_tracker_s']} s; later start+stop {tracker['later_start_stop_median_s']} s "
             f"= {tracker['later_share_of_60s_run_pct']} % of a 60 s run (target ≤ {tracker['target_pct']} %).",
             f"- Handler cold import (s): {results['handler_import_s']}.",
             f"- SAM build sizes: {json.dumps(results['sam_build_sizes'])}.",
             report_scale_line(results["report_scale"], "report_scale"),
             *([report_scale_line(json.loads(LARGE.read_text()), str(LARGE.relative_to(ROOT)))] if LARGE.is_file() else [])]
    backtest = results.get("backtest")
    if backtest:
        oracle = backtest["oracle_gb2022_24h_slack"]
        lines += ["", "## Backtest", f"Oracle on GB 2022, 24 h slack: measured {oracle['measured']} vs published "
                  f"{oracle['published_sukprasert_2024']}.", ""]
        for label in ("gb2022_synthetic", "gb2023_03_real_forecasts"):
            lines += [f"### {label}", "| mix | run-now | threshold | forecast-window | replan | replan-debiased | oracle |",
                      "|---|---|---|---|---|---|---|"]
            for mix, row in backtest[label].items():
                cells = [f"{row[p]['saving_pct']:.1f} % ({row[p]['oracle_capture_pct']:.0f} %)" for p in
                         ("run-now", "threshold", "forecast-window", "replan", "replan-debiased", "oracle")]
                lines.append(f"| {mix} | " + " | ".join(cells) + " |")
            lines.append("")
        lines.append("Cells: saving vs starting at once (share of the oracle's saving captured).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
