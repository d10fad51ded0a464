"""The embedded AWS in a process of its own, for bench/report_scale.py: its memory is not counted as the report's.

Starts the moto server, deploys the stack (GridSource=replay), prints one line `READY {json}` with the endpoint's
environment, the stack outputs and the report function's configuration, then serves until stdin closes.
Commands on stdin, one a line, each answered by one line `STATS {json}` (this process's peak and current RSS and
the seconds it spent answering each kind of request so far):
  stats                 just that;
  profile-on            from now on, run every request under cProfile (slows the server: only for profiled runs);
  profile-off PATH      stop, and write the top 25 functions by cumulative time over those requests to PATH.
"""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import resource
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

OPERATION_SECONDS: dict[str, float] = defaultdict(float)
OPERATION_COUNTS: dict[str, int] = defaultdict(int)
_lock = threading.Lock()
_profiling = False
_stats: pstats.Stats | None = None


def _current_rss_mb() -> float | None:
    status = Path("/proc/self/status")
    if not status.is_file():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def _operation(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return target.rsplit(".", 1)[-1]  # DynamoDB_20120810.Scan -> Scan
    # Signed requests name their service in the credential scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request
    scope = environ.get("HTTP_AUTHORIZATION", "").partition("Credential=")[2].split("/")
    service = scope[3] if len(scope) > 3 else "unsigned"
    return f"{service} {environ.get('REQUEST_METHOD', '?')}"


def _instrument_requests() -> None:
    """Time (and, when asked, profile) each request the moto server answers, by operation."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        global _stats
        started = time.perf_counter()
        profiler = cProfile.Profile() if _profiling else None
        try:
            if profiler is None:
                return original(self, environ, start_response)
            return profiler.runcall(original, self, environ, start_response)
        finally:
            spent = time.perf_counter() - started
            name = _operation(environ)
            with _lock:
                OPERATION_SECONDS[name] += spent
                OPERATION_COUNTS[name] += 1
                if profiler is not None:
                    if _stats is None:
                        _stats = pstats.Stats(profiler)
                    else:
                        _stats.add(profiler)

    DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]


def _answer() -> None:
    with _lock:
        operations = {k: {"s": round(v, 3), "n": OPERATION_COUNTS[k]} for k, v in sorted(OPERATION_SECONDS.items())}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print("STATS " + json.dumps({"peak_mb": peak_mb, "rss_mb": _current_rss_mb(), "operations": operations}),
          flush=True)


def main() -> None:
    global _profiling, _stats
    from greenai.local.demo import LOCAL_OVERRIDES
    from greenai.local.server import EmbeddedAWS
    from greenai.local.stack import deploy

    _instrument_requests()
    with EmbeddedAWS() as aws:
        aws.runtime.overrides = dict(LOCAL_OVERRIDES)
        stack = deploy(aws.runtime, parameters={"GridSource": "replay"})
        report = aws.runtime.functions[stack.outputs["ReportFunctionName"]]
        ready = {"env": aws.environment(), "outputs": stack.outputs,
                 "report": {"name": report.name, "arn": report.arn, "code_dir": str(report.code_dir),
                            "handler": report.handler_spec, "memory_mb": report.memory_mb,
                            "environment": {**report.environment, **LOCAL_OVERRIDES}}}
        print("READY " + json.dumps(ready), flush=True)
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "profile-on":
                with _lock:
                    _stats, _profiling = None, True
            elif command == "profile-off":
                with _lock:
                    _profiling, stats, _stats = False, _stats, None
                if stats is not None:
                    buffer = io.StringIO()
                    stats.stream = buffer  # type: ignore[attr-defined]
                    stats.sort_stats("cumulative").print_stats(25)
                    Path(argument).write_text(buffer.getvalue())
            _answer()


if __name__ == "__main__":
    main()
