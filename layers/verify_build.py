"""After `sam build`: import each handler from its built function and layers with python3.12, as Lambda would (boto3
from a runtime-like folder), train and measure once on the train layers, and check the size budgets.

Run by `make build`; exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / ".aws-sam" / "build"
# Hard budgets (the build fails above them): the check and training-done 5 MB, training 200 MB (room under Lambda's 250 MB), report 250 MB.
BUDGET_MB = {"CheckFunction": 5.0, "TrainFunction": 200.0, "ReportFunction": 250.0, "TrainingDoneFunction": 5.0}
# Targets tighter than the budgets, reported but not enforced.
TARGET_MB: dict[str, float] = {}
LAYERS = {"CheckFunction": ["LibraryLayer", "CoreDepsLayer"],
          "TrainFunction": ["LibraryLayer", "CoreDepsLayer", "TrainDepsLayer"],
          "ReportFunction": ["LibraryLayer", "CoreDepsLayer", "ReportDepsLayer"],
          "TrainingDoneFunction": ["LibraryLayer", "CoreDepsLayer"]}
HEAVY = ("pandas", "sklearn", "codecarbon", "matplotlib", "numpy")

PROBE = r"""
import importlib.util, json, sys, time
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", sys.argv[1])
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
result = {"import_s": time.perf_counter() - started, "heavy": [m for m in HEAVY if m in sys.modules]}
if sys.argv[2] == "TrainFunction":
    from greenai.measurement.tracker import measure
    from greenai.training.datasets import load_builtin
    from greenai.training.pipelines import predict, train_and_score
    data = load_builtin("diabetes")
    (outcome, pipeline), measured = measure(lambda: train_and_score(data.frame, data.target, "optimized"))
    test = data.frame.drop(columns=[data.target]).head(20)
    predicted = predict(pipeline, data.frame, test, data.target).frame
    result.update(mae=outcome.mae, kwh=measured.kwh, method=measured.energy_method, predictions=len(predicted))
if sys.argv[2] == "ReportFunction":
    from greenai.reporting import artifacts
    import matplotlib
    result["matplotlib"] = matplotlib.__version__
print(json.dumps(result))
""".replace("HEAVY", repr(HEAVY))


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def main(python: str, runtime_site: str) -> int:
    failures = []
    for function, layers in LAYERS.items():
        total = size_mb(BUILD / function) + sum(size_mb(BUILD / layer) for layer in layers)
        paths = [str(BUILD / function)] + [str(BUILD / layer / "python") for layer in layers] + [runtime_site]
        env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1",
               "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "verify", "AWS_REGION": "eu-west-2"}
        run = subprocess.run([python, "-S", "-c", PROBE, str(BUILD / function / "app.py"), function],
                             capture_output=True, text=True, env=env)
        if run.returncode != 0:
            failures.append(f"{function}: {run.stderr.strip().splitlines()[-1]}")
            continue
        probe = json.loads(run.stdout.strip().splitlines()[-1])
        budget = BUDGET_MB[function]
        verdict = "ok" if total <= budget else "OVER BUDGET"
        target = TARGET_MB.get(function)
        aim = f", target {target:g}: {'met' if total <= target else 'not met'}" if target else ""
        print(f"{function:<15} {total:7.1f} MB (budget {budget:g}{aim}) {verdict}  import {probe['import_s']:.2f} s  {probe}")
        if total > budget:
            failures.append(f"{function}: {total:.1f} MB > {budget:g} MB")
        if function in ("CheckFunction", "TrainingDoneFunction") and probe["heavy"]:
            failures.append(f"{function} imports {probe['heavy']}")
    for failure in failures:
        print("FAILED", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
