"""One report run in a process of its own, for bench/report_scale.py: `python bench/scale_report.py SPEC.json [PROFILE]`.

SPEC.json is scale_server.py's READY document. This process takes the report function's environment (as the
embedded Lambda runtime gives it), points AWS_ENDPOINT_URL at the server, imports functions/report/app.py and calls
its lambda_handler once. The adapters' calls are wrapped with timers for a breakdown (reading evidence, reading
decisions, building artifacts, each artifact, writing to S3); `step/s3.x` is S3 call time inside a step, summed over
the threads that made the calls (so it can exceed the step's wall time). With PROFILE, the handler runs under cProfile and the
top 25 functions by cumulative time are written there. Prints one line `RESULT {json}`; peak memory is this
process's own ru_maxrss.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SECONDS: dict[str, float] = defaultdict(float)
COUNTS: dict[str, int] = defaultdict(int)
PHASE: list[str] = []  # the report's current top-level step (set from the handler's thread; read by pool threads too)
TOP_LEVEL = ("read_evidence_list_runs", "read_decisions_list_decisions", "actual_intensity_for_timeline",
             "build_artifacts", "write_decisions_json")


def _key(name: str) -> str:
    """Top-level name, or `step/name` for a call made inside a top-level step (e.g. S3 GETs while reading)."""
    return f"{PHASE[-1]}/{name}" if PHASE and PHASE[-1] != name else name


def _timed(name: str, fn: Callable[..., Any], step: bool = False) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key(name)
        if step:
            PHASE.append(name)
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[key] += time.perf_counter() - started
            COUNTS[key] += 1
            if step:
                PHASE.pop()
    return wrapper


def _timed_iterator(name: str, fn: Callable[..., Iterator[Any]], step: bool = True) -> Callable[..., Iterator[Any]]:
    """Time only the iterator's own work (reading, parsing), not the consumer's, and count the items."""
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        key = _key(name)
        marks = [name] if step else []
        spent, items = 0.0, 0
        PHASE.extend(marks)
        started = time.perf_counter()
        try:
            iterator = iter(fn(*args, **kwargs))  # the call itself may do the reading (an eager list)
        finally:
            spent += time.perf_counter() - started
            del PHASE[len(PHASE) - len(marks):]
        try:
            while True:
                PHASE.extend(marks)
                started = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                finally:
                    spent += time.perf_counter() - started
                    del PHASE[len(PHASE) - len(marks):]
                items += 1
                yield item
        finally:
            SECONDS[key] += spent
            COUNTS[key] += items
    return wrapper


def _instrument() -> None:
    """Wrap what the report calls (only what exists in this version of the code) with timers."""
    from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore
    from greenai.adapters.s3 import S3ArtifactStore
    from greenai.reporting import artifacts as render
    from greenai.services import report

    DynamoEvidenceStore.list_runs = _timed_iterator("read_evidence_list_runs", DynamoEvidenceStore.list_runs)  # type: ignore[method-assign]
    DynamoDecisionLog.list_decisions = _timed_iterator(  # type: ignore[method-assign]
        "read_decisions_list_decisions", DynamoDecisionLog.list_decisions)
    for method in ("get_bytes", "get_versioned", "list_keys", "put_bytes", "put_conditional", "put_file", "copy",
                   "put_json_once"):
        if hasattr(S3ArtifactStore, method):
            original = getattr(S3ArtifactStore, method)
            if method == "list_keys":
                wrapped = _timed_iterator(f"s3.{method}", original, step=False)
            else:
                wrapped = _timed(f"s3.{method}", original)
            setattr(S3ArtifactStore, method, wrapped)
    report.ReportService._actuals = _timed("actual_intensity_for_timeline", report.ReportService._actuals, True)  # type: ignore[method-assign]
    report.build_artifacts = _timed("build_artifacts", report.build_artifacts, True)  # type: ignore[assignment]
    for name in ("evidence_csv", "decisions_json", "write_decisions_json", "footprint_md", "impact_math_csv",
                 "energy_co2_bars_png", "intensity_timeline_png", "savings_png", "data_card_md", "model_card_md",
                 "index_html"):
        if hasattr(render, name):
            setattr(render, name, _timed(name, getattr(render, name), name == "write_decisions_json"))


def main(spec_path: Path, profile_path: Path | None) -> dict[str, Any]:
    spec = json.loads(spec_path.read_text())
    function = spec["report"]
    # What LocalLambdaRuntime does before a handler runs (and before Powertools reads its settings at import).
    os.environ.update(spec["env"])
    os.environ.update(function["environment"])
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = function["name"]
    os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(function["memory_mb"])

    from greenai.local.runtime import LambdaContext, load_handler

    handler = load_handler(Path(function["code_dir"]), function["handler"])
    _instrument()
    context = LambdaContext(function["name"], function["memory_mb"], function["arn"])
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiler = cProfile.Profile() if profile_path else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = handler({"reason": "bench"}, context)
    if profiler is not None:
        profiler.disable()
    handler_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    if profiler is not None and profile_path is not None:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(25)
        profile_path.write_text(f"cProfile of the report handler (wall under profiler {handler_s:.2f} s), "
                                f"top 25 by cumulative time\n{buffer.getvalue()}")
    top = {k: v for k, v in SECONDS.items() if "/" not in k}  # steps and S3 calls made by the service itself
    breakdown = {k: round(v, 3) for k, v in sorted(SECONDS.items())}
    breakdown["write_s3_total"] = round(sum(v for k, v in top.items() if k.startswith("s3.")), 3)
    breakdown["other_in_handler"] = round(handler_s - sum(top.values()), 3)
    return {"handler_s": round(handler_s, 3), "profiled": profiler is not None, "peak_mb": round(peak_mb, 1),
            "peak_before_handler_mb": round(peak_before, 1), "breakdown_s": breakdown, "calls": dict(COUNTS),
            "result": {k: v for k, v in result.items() if k != "files"}}


if __name__ == "__main__":
    outcome = main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print("RESULT " + json.dumps(outcome), flush=True)
