"""Report at scale on the embedded AWS: N evidence records and M decisions loaded, then the report function timed.

`python bench/report_scale.py EVIDENCE DECISIONS [--no-profile] [--workers N]` prints one JSON object (last line).

Three processes, so each figure is its own: the embedded AWS (moto server with the stack deployed) runs in
bench/scale_server.py; this process loads the data into it over HTTP; the report runs in a fresh
bench/scale_report.py, which calls functions/report/app.py's handler with the report function's environment and
AWS_ENDPOINT_URL pointing at the server. Report peak memory is that process's own ru_maxrss; the server's peak is
recorded separately. The report runs twice unprofiled (the first reads what the load wrote and compacts closed
days as it reads; the second reads after that), then once under cProfile, in the report process and the server,
which writes bench/scale_profile_<E>_<D>.txt (cProfile slows the code down, so that time is reported apart).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
PER_CHECK = 100  # decisions per check, sharing one 96-point forecast (one S3 object)


def _progress(message: str) -> None:
    print(f"[report_scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _read_tagged(stream: IO[str], tag: str, log: Path) -> dict[str, Any]:
    for line in stream:
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])  # type: ignore[no-any-return]
    tail = log.read_text()[-4000:] if log.is_file() else ""
    raise RuntimeError(f"scale_server.py ended before {tag}:\n{tail}")


def _server_stats(server: subprocess.Popen[str], log: Path, command: str = "stats") -> dict[str, Any]:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(command + "\n")
    server.stdin.flush()
    return _read_tagged(server.stdout, "STATS", log)


def _load(out: dict[str, str], evidence_count: int, decision_count: int, workers: int) -> tuple[float, float]:
    from greenai.adapters.aws import client
    from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore
    from greenai.adapters.s3 import S3ArtifactStore
    from greenai.domain.evidence import DecisionRecord, EvidenceRecord
    from greenai.domain.intensity import Forecast, IntensityPoint
    from greenai.domain.timeutil import format_utc, parse_utc

    ddb = client("dynamodb")
    base = parse_utc("2023-03-16T02:30Z")
    template = EvidenceRecord(
        run_id="", phase="baseline", task="train", dataset="diabetes", hardware="AWS Lambda x86_64 1769 MB",
        region="GB", timestamp_utc="", kWh=2.1e-6, kgCO2e=1.3e-7, water_L=3.8e-7, runtime_s=0.5,
        quality_metric_name="MAE", quality_metric_value=44.6, notes="bench", job_id="", finished_utc="",
        energy_method="codecarbon CPU: CPU load x TDP model (estimated: no RAPL)", kWh_ccf_model=4.5e-7,
        intensity_gco2_kwh=61.0, intensity_source="replay actual", embodied_kgCO2e=5e-8,
        sci_kgCO2e_per_unit=1.8e-7, functional_unit="one training run", submitted_utc="2023-03-15T08:00:00Z",
        deadline_utc="2023-03-16T08:00:00Z", run_now_intensity_gco2_kwh=246.0, deferred_s=66600.0,
        decision_id="dec", details={"target": "disease_progression", "rows": 442, "columns": ["age", "sex", "bmi"],
                                    "hyperparameters": {"n_estimators": 100}, "preprocessing": "bench",
                                    "dataset_source": "bench", "expected_minutes": 15})
    store = DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"]), ddb)
    records = []
    for i in range(evidence_count):
        moment = format_utc(base + timedelta(minutes=i))
        records.append(replace(template, run_id=f"run-{i}", job_id=f"job-{i}", phase=("baseline", "optimized")[i % 2],
                               timestamp_utc=moment, finished_utc=moment))
    # Chunks of whole hours: the evidence log appends per hour (compare-and-swap), so loader threads never collide.
    by_hour: dict[str, list[EvidenceRecord]] = defaultdict(list)
    for record in records:
        by_hour[record.finished_utc[:13]].append(record)
    hours = list(by_hour.values())
    chunks = [[r for hour in hours[i:i + 40] for r in hour] for i in range(0, len(hours), 40)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(store.put_many, chunks))
    evidence_s = time.perf_counter() - started

    log = DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"]), ddb)
    fc = Forecast("GB", "bench", base, tuple(
        IntensityPoint(base + timedelta(minutes=30 * k), base + timedelta(minutes=30 * k + 30), 100.0 + k)
        for k in range(96)))

    def check(number: int) -> None:
        at = format_utc(base + timedelta(minutes=30 * number))
        log.record([DecisionRecord(f"dec-{number}-{j}", f"job-{number * PER_CHECK + j}", at, "GB", "bench", "wait",
                                   "greener later", 200.0, at, 90.0, 246.0, "2023-03-16T08:00:00Z", fc.as_records())
                    for j in range(PER_CHECK)], fc)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(check, range(decision_count // PER_CHECK)))
    return evidence_s, time.perf_counter() - started


def _report(spec: Path, profile: Path | None) -> tuple[float, dict[str, Any]]:
    command = [sys.executable, str(BENCH / "scale_report.py"), str(spec)] + ([str(profile)] if profile else [])
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"scale_report.py failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return wall, json.loads(lines[-1][len("RESULT "):])


def _during(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """The server's time answering each kind of request between two STATS, and how many."""
    spent = {}
    for name, figures in after.items():
        earlier = before.get(name, {"s": 0.0, "n": 0})
        if figures["n"] > earlier["n"]:
            spent[name] = {"s": round(figures["s"] - earlier["s"], 2), "n": figures["n"] - earlier["n"]}
    return spent


def _code_state() -> dict[str, Any]:
    """Which code a run measured: HEAD, whether shared/ or functions/ differ from it, and their newest file time
    (another checkout user editing them mid-run would make runs measure different code)."""
    root = BENCH.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    newest = max((f.stat().st_mtime for folder in ("shared/greenai", "functions") for f in (root / folder).rglob("*.py")),
                 default=0.0)
    return {"head": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "shared", "functions")),
            "newest_source": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(newest))}


def _run_figures(wall: float, run: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {"report_s": round(run["handler_s"], 2), "process_wall_s": round(wall, 2),
            "peak_mb": round(run["peak_mb"]), "peak_before_handler_mb": round(run["peak_before_handler_mb"]),
            "breakdown_s": run["breakdown_s"], "calls": run["calls"],
            "server_seconds": _during(before["operations"], after["operations"]),
            "ok": bool(run["result"].get("ok")), "runs": run["result"].get("runs"),
            "decisions": run["result"].get("decisions")}


def main(evidence_count: int, decision_count: int, profile: bool = True, workers: int = 4) -> dict[str, object]:
    runs: list[dict[str, Any]] = []
    profiled: dict[str, Any] | None = None
    profile_file = BENCH / f"scale_profile_{evidence_count}_{decision_count}.txt"
    with tempfile.TemporaryDirectory(prefix="greenai-scale-") as folder:
        log = Path(folder) / "server.log"
        with log.open("w") as server_err:
            server = subprocess.Popen([sys.executable, str(BENCH / "scale_server.py")], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=server_err, text=True, bufsize=1)
        try:
            assert server.stdout is not None
            ready = _read_tagged(server.stdout, "READY", log)
            os.environ.update(ready["env"])
            _progress(f"server ready at {ready['env']['AWS_ENDPOINT_URL']}; loading")
            evidence_s, decisions_s = _load(ready["outputs"], evidence_count, decision_count, workers)
            server_loaded = before = _server_stats(server, log)
            _progress(f"loaded: evidence {evidence_s:.1f} s, decisions {decisions_s:.1f} s, "
                      f"server {server_loaded['rss_mb']} MB")
            spec = Path(folder) / "spec.json"
            spec.write_text(json.dumps(ready))
            code = [_code_state()]
            # First report: reads what the load wrote (and compacts closed days as it reads); second: steady state.
            for label in ("first", "second"):
                _progress(f"{label} report run")
                wall, measured = _report(spec, None)
                code.append(_code_state())
                after = _server_stats(server, log)
                runs.append(_run_figures(wall, measured, before, after))
                _progress(f"{label} report run: {json.dumps(runs[-1])}; server peak {after['peak_mb']:.0f} MB")
                before = after
            server_after = after
            if profile:
                server_profile = Path(folder) / "server_profile.txt"
                _server_stats(server, log, "profile-on")
                _progress("profiled report run")
                _, profiled = _report(spec, profile_file)
                code.append(_code_state())
                _server_stats(server, log, f"profile-off {server_profile}")
                with profile_file.open("a") as text:
                    text.write("\n\ncProfile of the moto server process over the requests of that same report run, "
                               "top 25 by cumulative time (summed over request threads)\n")
                    text.write(server_profile.read_text() if server_profile.is_file() else "(no requests)\n")
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
    first, second = runs
    return {
        "evidence": evidence_count, "decisions": decision_count,
        "load_s": round(evidence_s + decisions_s, 1), "load_evidence_s": round(evidence_s, 1),
        "load_decisions_s": round(decisions_s, 1), "load_workers": workers,
        "report_s": first["report_s"], "report_second_s": second["report_s"], "target_s": 30,
        "report_peak_mb": first["peak_mb"], "report_second_peak_mb": second["peak_mb"], "target_peak_mb": 1536,
        "server_peak_mb": round(server_after["peak_mb"]),
        "server_rss_after_load_mb": round(server_loaded["rss_mb"] or 0),
        "report_ok": first["ok"] and second["ok"], "runs_reported": first["runs"],
        "decisions_reported": first["decisions"],
        "code": code[0], "code_changed_during_runs": any(c != code[0] for c in code),
        "first_run": first, "second_run": second,
        "profiled_report_s": round(profiled["handler_s"], 2) if profiled else None,
        "profile_file": str(profile_file.relative_to(BENCH.parent)) if profiled else None,
        "note": "each report run: the report handler (functions/report/app.py) in a fresh process of its own, against "
                "the moto server in another process over HTTP; peak_mb is that process's ru_maxrss; process_wall_s "
                "adds interpreter start and imports. The first run reads what the load wrote (compacting closed days "
                "as it reads), the second reads after that. server_peak_mb covers load and both runs. The profile "
                "is a third run (after the first two, slower because of cProfile in both processes)",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("evidence", type=int)
    parser.add_argument("decisions", type=int)
    parser.add_argument("--no-profile", action="store_true", help="skip the third, profiled report run")
    parser.add_argument("--workers", type=int, default=4, help="loader threads (default 4)")
    args = parser.parse_args()
    print(json.dumps(main(args.evidence, args.decisions, profile=not args.no_profile, workers=args.workers)))
