"""Report at scale on the embedded AWS: N evidence records and M decisions loaded, then the report function timed.

Run by bench/run.py in a subprocess of its own so peak memory (ru_maxrss) is the report's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import replace
from datetime import timedelta


def main(evidence_count: int, decision_count: int) -> dict[str, object]:
    from greenai.adapters.aws import client
    from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore
    from greenai.adapters.s3 import S3ArtifactStore
    from greenai.domain.evidence import DecisionRecord, EvidenceRecord
    from greenai.domain.timeutil import format_utc, parse_utc
    from greenai.local.demo import LOCAL_OVERRIDES
    from greenai.local.server import EmbeddedAWS
    from greenai.local.stack import deploy

    with EmbeddedAWS() as aws:
        aws.runtime.overrides = dict(LOCAL_OVERRIDES)
        stack = deploy(aws.runtime, parameters={"GridSource": "replay"})
        out = stack.outputs
        ddb = client("dynamodb")
        started = time.perf_counter()
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
        store = DynamoEvidenceStore(out["EvidenceTableName"], ddb)
        records = []
        for i in range(evidence_count):
            moment = format_utc(base + timedelta(minutes=i))
            records.append(replace(template, run_id=f"run-{i}", job_id=f"job-{i}", phase=("baseline", "optimized")[i % 2],
                                   timestamp_utc=moment, finished_utc=moment))
        store.put_many(records)
        log = DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"]), ddb)
        per_check = 100
        forecast = [{"from": format_utc(base + timedelta(minutes=30 * k)), "to": format_utc(base + timedelta(minutes=30 * k + 30)),
                     "forecast": 100.0 + k} for k in range(96)]
        from greenai.domain.intensity import Forecast, IntensityPoint

        fc = Forecast("GB", "bench", base, tuple(IntensityPoint(parse_utc(p["from"]), parse_utc(p["to"]), p["forecast"])
                                                 for p in forecast))
        for check in range(decision_count // per_check):
            at = format_utc(base + timedelta(minutes=30 * check))
            log.record([DecisionRecord(f"dec-{check}-{j}", f"job-{check * per_check + j}", at, "GB", "bench", "wait",
                                       "greener later", 200.0, at, 90.0, 246.0, "2023-03-16T08:00:00Z", fc.as_records())
                        for j in range(per_check)], fc)
        loaded_s = time.perf_counter() - started
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        answer = client("lambda").invoke(FunctionName=out["ReportFunctionName"], Payload=b'{"reason": "bench"}')
        result = json.loads(answer["Payload"].read())
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"evidence": evidence_count, "decisions": decision_count, "load_s": round(loaded_s, 1),
            "report_s": round(seconds, 2), "target_s": 30, "process_peak_mb": round(peak_mb),
            "peak_before_report_mb": round(rss_before / 1024), "target_peak_mb": 1536,
            "report_ok": bool(result.get("ok")), "runs_reported": result.get("runs"),
            "note": "peak is the whole process (moto server with every item, plus the report), an upper bound"}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
