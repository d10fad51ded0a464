"""The `greenai` command: demo, local, submit, status, report and download, against the embedded AWS or AWS itself."""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from greenai.domain.jobs import ValidationError
from greenai.domain.timeutil import format_utc


def default_stack_name() -> str:
    """The stack name from samconfig.toml (the one `sam deploy` uses), else 'greenai'."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        config = folder / "samconfig.toml"
        if config.is_file():
            data = tomllib.loads(config.read_text())
            name = data.get("default", {}).get("global", {}).get("parameters", {}).get("stack_name")
            if name:
                return str(name)
    return "greenai"


def _outputs(args: argparse.Namespace) -> dict[str, str]:
    from botocore.exceptions import BotoCoreError, ClientError

    from greenai.local.stack import stack_outputs

    try:
        return stack_outputs(args.stack)
    except (ClientError, BotoCoreError) as exc:
        raise SystemExit(
            f"error: cannot find stack {args.stack!r} ({exc}). Point AWS_ENDPOINT_URL at `greenai local`, "
            "or deploy with `sam deploy`."
        ) from None


def cmd_demo(args: argparse.Namespace) -> int:
    from greenai.local.demo import run_demo

    run_demo(Path(args.artifacts), live=args.live)
    return 0


def cmd_local(args: argparse.Namespace) -> int:
    from greenai.clock import SystemClock
    from greenai.local.clockwork import Clockwork
    from greenai.local.demo import LOCAL_OVERRIDES
    from greenai.local.server import EmbeddedAWS
    from greenai.local.stack import deploy

    with EmbeddedAWS(port=args.port) as aws:
        aws.runtime.overrides = dict(LOCAL_OVERRIDES)
        stack = deploy(aws.runtime, stack_name=args.stack, parameters={"GridSource": args.grid_source})
        print(f"Embedded AWS running with stack {args.stack!r} created from template.yaml. In another shell:\n")
        for key, value in aws.environment().items():
            print(f"export {key}={value}")
        print("\nthen e.g. `greenai submit ...`, `greenai status`, `aws s3 ls`. Ctrl-C stops it.", flush=True)
        clockwork = Clockwork()
        now = SystemClock().now()
        for schedule in stack.recurring:
            clockwork.add_recurring(schedule.function_name, schedule.expression, schedule.payload, now)
        try:
            while True:
                clockwork.fire_due(SystemClock().now())
                aws.runtime.drain()
                time.sleep(args.tick_s)
        except KeyboardInterrupt:
            print("stopping the embedded AWS")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    from greenai.adapters.dynamodb import DynamoJobStore
    from greenai.clock import current_clock
    from greenai.domain.jobs import new_job
    from greenai.services.submit import store_job

    request: dict[str, Any] = {"dataset": args.dataset, "target": args.target, "mode": args.mode,
                               "expected_minutes": args.expected_minutes, "deadline": args.deadline,
                               "region": args.region}
    if args.policy:
        request["policy"] = args.policy
    if args.test_dataset:
        request["test_dataset"] = args.test_dataset
    if args.job_id:
        request["job_id"] = args.job_id
    for name in ("runner", "instance_type", "instance_count", "max_runtime_minutes"):
        if getattr(args, name) is not None:
            request[name] = getattr(args, name)
    job = new_job(request, now=current_clock().now())  # refused here, before any AWS call, if anything is wrong
    job, created = store_job(job, DynamoJobStore(_outputs(args)["JobsTableName"]))
    print(json.dumps({"job_id": job.job_id, "state": job.state.value, "created": created}))
    return 0


def cmd_backfill_evidence(args: argparse.Namespace) -> int:
    from greenai.adapters.dynamodb import DynamoEvidenceStore
    from greenai.adapters.s3 import S3ArtifactStore

    outputs = _outputs(args)
    count = DynamoEvidenceStore(outputs["EvidenceTableName"], S3ArtifactStore(outputs["BucketName"])).backfill_log()
    print(json.dumps({"runs_in_log": count}))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from greenai.adapters.dynamodb import DynamoJobStore

    jobs = sorted(DynamoJobStore(_outputs(args)["JobsTableName"]).list_all(), key=lambda j: j.submitted_at)
    if args.format == "json":
        print(json.dumps([j.to_dict() for j in jobs], indent=2))
        return 0
    header = (f"{'job_id':<24} {'state':<10} {'mode':<9} {'runner':<9} {'region':<6} {'planned start':<21} "
              f"{'deadline':<21} last reason")
    print(header)
    for job in jobs:
        planned = format_utc(job.planned_start) if job.planned_start else "-"
        reason = job.history[-1].why if job.history else ""
        print(f"{job.job_id:<24} {job.state.value:<10} {job.mode:<9} {job.runner.kind:<9} {job.region:<6} {planned:<21} "
              f"{format_utc(job.deadline):<21} {reason[:60]}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from greenai.adapters.aws import client

    outputs = _outputs(args)
    response = client("lambda").invoke(FunctionName=outputs["ReportFunctionName"], InvocationType="RequestResponse",
                                       Payload=json.dumps({"reason": "on demand"}).encode())
    answer = json.loads(response["Payload"].read() or b"{}")
    print(json.dumps(answer, indent=2))
    return 0 if answer.get("ok") else 1


def cmd_download(args: argparse.Namespace) -> int:
    from greenai.domain.timeutil import parse_utc
    from greenai.services.download import bar, download, selections

    try:
        since = parse_utc(args.since) if args.since else None
    except ValueError:
        raise ValidationError("since", f"not a date: {args.since!r} (use 2026-11-01 or an ISO-8601 time)") from None
    outputs = _outputs(args)
    target = Path(args.to)
    scope = "all" if args.all else "latest"
    written = download(outputs["BucketName"], selections(scope, args.evidence), target, since,
                       None if args.quiet else bar())
    print(f"downloaded {len(written)} files from s3://{outputs['BucketName']} into {target}")
    return 0 if written else 1


SHIPPED_SERIES = {
    "gb-2022": "gb-2022-hourly/gb_2022_hourly_electricitymaps_lca.csv",
    "gb-2023-03": "gb-forecast-real-2023-03/gb_national_actual_2023-03-14_to_18.csv",
}
SHIPPED_FORECASTS = {"gb-2023-03": "gb-forecast-real-2023-03/gb_national_fw48h_snapshots_2023-03-14_to_18.csv"}


def _data_file(value: str, shipped: dict[str, str], field: str) -> Path:
    from greenai.adapters.grid_replay import data_path

    if value in shipped:
        return data_path(shipped[value])
    path = Path(value)
    if not path.is_file():
        raise ValidationError(field, f"no such file {value!r} (or one of the shipped: {', '.join(shipped)})")
    return path


def cmd_backtest(args: argparse.Namespace) -> int:
    from greenai.adapters.grid_replay import ReplayProvider, read_snapshots
    from greenai.backtest import report
    from greenai.backtest.engine import POLICIES, Backtest
    from greenai.backtest.forecasts import SyntheticForecasts
    from greenai.backtest.inputs import read_series

    try:
        series = read_series(_data_file(args.intensity, SHIPPED_SERIES, "intensity"))
        policies = POLICIES if args.policy == "all" else (args.policy,)
        if args.policy != "all" and args.policy not in POLICIES:
            raise ValidationError("policy", f"must be one of {', '.join(POLICIES)} or all, got {args.policy!r}")
        if args.forecasts:
            path = _data_file(args.forecasts, SHIPPED_FORECASTS, "forecasts")
            provider: Any = ReplayProvider(read_snapshots(path), {}, label=f"real snapshots ({path.name})",
                                           slot=series.step)
            label = provider.label
        else:
            provider = SyntheticForecasts(series, seed=args.seed)
            label = f"synthetic GB error model (seed {args.seed})"
        scores = Backtest(series, args.job_hours, args.deadline_hours).run(policies, provider, label, args.threshold)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("input", str(exc)) from None
    title = f"{Path(series.source).name}: {len(series)} steps of {series.step}"
    if args.format == "json":
        print(report.as_json(scores))
    elif args.format == "csv":
        print(report.as_csv(scores), end="")
    else:
        print(report.as_table(scores, title))
    if args.plot:
        report.plot(scores, Path(args.plot), f"{title}\n{args.job_hours:g} h jobs, deadline {args.deadline_hours:g} h; {label}")
    return 0


def _live_gb_intensity() -> float:
    from greenai.clock import current_clock
    from greenai.settings import Settings
    from greenai.wiring import uk_provider

    now = current_clock().now()
    forecast = uk_provider(Settings.from_env(), retries=1).forecast("GB", now)
    point = forecast.point_at(now) or forecast.points[0]
    return point.best_gco2_kwh


def _local_trainer(args: argparse.Namespace) -> Any:
    from greenai.clock import current_clock
    from greenai.services.local_runs import LocalTrainer, session_intensity

    intensity = session_intensity(args.intensity, _live_gb_intensity)
    print(f"intensity: {intensity.name}")
    return LocalTrainer(intensity, current_clock().now, memory_mb=args.memory_mb)


def cmd_experiment(args: argparse.Namespace) -> int:
    from greenai.services.local_runs import run_experiment

    trainer = _local_trainer(args)
    dataset = args.dataset if args.dataset == "diabetes" else trainer.add_file(Path(args.dataset))
    records = run_experiment(trainer, args.runs, dataset, args.target, Path(args.out))
    print(f"{len(records)} measured runs; evidence.csv, plots and cards in {Path(args.out).resolve()}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    trainer = _local_trainer(args)
    result = trainer.run("predict-local", trainer.add_file(Path(args.train)), args.target, args.mode,
                         trainer.add_file(Path(args.test)))
    Path(args.out).write_bytes(trainer.store.get_bytes(f"predictions/{result.job_id}/submission.csv"))
    for record in trainer.evidence.list_runs():
        print(f"{record.task:<8} {record.kWh:.3g} kWh  {record.kgCO2e * 1000:.3g} gCO2e  SCI "
              f"{record.sci_kgCO2e_per_unit * 1000:.3g} g per {record.functional_unit}  [{record.energy_method}]")
    print(f"hold-out MAE {result.evidence.quality_metric_value:.3f}; submission written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="greenai", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="a replayed day on real GB data through the whole stack on the embedded AWS")
    demo.add_argument("--live", action="store_true", help="ask the real UK Carbon Intensity API first")
    demo.add_argument("--artifacts", default="artifacts", help="where the report files go (default ./artifacts)")
    demo.set_defaults(func=cmd_demo)

    def with_stack(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--stack", default=default_stack_name(), help="stack name (default: samconfig.toml's)")
        return p

    local = with_stack(sub.add_parser("local", help="serve the embedded AWS with the stack created, in the foreground"))
    local.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    local.add_argument("--grid-source", default="uk", choices=["uk", "replay"])
    local.add_argument("--tick-s", type=float, default=5.0, help=argparse.SUPPRESS)
    local.set_defaults(func=cmd_local)

    submit = with_stack(sub.add_parser("submit", help="submit a training job"))
    submit.add_argument("--dataset", required=True, help="s3://bucket/key.csv or a built-in dataset (diabetes)")
    submit.add_argument("--target", required=True, help="the column to predict")
    submit.add_argument("--mode", required=True, help="baseline | optimized")
    submit.add_argument("--expected-minutes", required=True,
                        help="expected run time in minutes (Lambda: at most 15; SageMaker: up to 28 days)")
    submit.add_argument("--deadline", required=True, help="ISO-8601 UTC time by which the job must have finished")
    submit.add_argument("--region", default="GB", help="GB, an outward postcode (RG10), a region id 1-17, or a zone")
    submit.add_argument("--policy", default=None, help="replan | forecast-window | threshold")
    submit.add_argument("--test-dataset", default=None, help="predict mode: s3://bucket/test.csv to predict for")
    submit.add_argument("--job-id", default=None, help="your own id (a repeated submit with it is a no-op)")
    submit.add_argument("--runner", default=None, help="lambda (default, at most 15 minutes) | sagemaker")
    submit.add_argument("--instance-type", dest="instance_type", default=None,
                        help="sagemaker: the training instance, e.g. ml.m5.xlarge or ml.g4dn.xlarge")
    submit.add_argument("--instance-count", dest="instance_count", default=None, help="sagemaker: instances (1: the pipelines train on one)")
    submit.add_argument("--max-runtime-minutes", dest="max_runtime_minutes", default=None,
                        help="sagemaker: stop the training job after this long (default: twice the expected time)")
    submit.set_defaults(func=cmd_submit)

    backfill = with_stack(sub.add_parser(
        "backfill-evidence", help="once, after upgrading a deployment older than the S3 evidence log: copy every "
                                  "run DynamoDB holds into it (the report reads the log)"))
    backfill.set_defaults(func=cmd_backfill_evidence)

    status = with_stack(sub.add_parser("status", help="list jobs and their states"))
    status.add_argument("--format", choices=["table", "json"], default="table")
    status.set_defaults(func=cmd_status)

    report = with_stack(sub.add_parser("report", help="build the report now (invokes the report function)"))
    report.set_defaults(func=cmd_report)

    download = with_stack(sub.add_parser("download", help="download reports (and evidence) from S3"))
    download.add_argument("--to", required=True, help="local folder")
    scope = download.add_mutually_exclusive_group()
    scope.add_argument("--latest", action="store_true", help="reports/latest only (the default)")
    scope.add_argument("--all", action="store_true", help="every dated report, the evidence and the decision log")
    download.add_argument("--since", default=None, help="only objects written since this date (UTC)")
    download.add_argument("--evidence", action="store_true", help="also the raw evidence and decision JSON")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=cmd_download)

    backtest = sub.add_parser("backtest", help="score the planning policies against the oracle on intensity history")
    backtest.add_argument("--intensity", required=True,
                          help="CSV of actual intensity (time, gCO2/kWh), or a shipped series: gb-2022, gb-2023-03")
    backtest.add_argument("--forecasts", default=None,
                          help="CSV of forecast snapshots (captured_utc, window_from_utc, forecast_gco2_per_kwh) or "
                               "gb-2023-03; without it a seeded synthetic forecast is used")
    backtest.add_argument("--job-hours", type=float, required=True, help="job length L in hours (uninterrupted)")
    backtest.add_argument("--deadline-hours", type=float, required=True, help="finish within D hours of arrival")
    backtest.add_argument("--policy", default="all", help="run-now | threshold | forecast-window | replan | "
                                                          "replan-debiased | oracle | all")
    backtest.add_argument("--format", choices=["table", "json", "csv"], default="table")
    backtest.add_argument("--plot", default=None, help="write a bar chart to this PNG")
    backtest.add_argument("--seed", type=int, default=2024, help="seed of the synthetic forecast errors")
    backtest.add_argument("--threshold", type=float, default=150.0, help="threshold policy's gCO2/kWh")
    backtest.set_defaults(func=cmd_backtest)

    def with_local_training(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--intensity", type=float, default=None,
                       help="gCO2/kWh to price the runs at (default: the live GB figure from the UK API)")
        p.add_argument("--memory-mb", type=int, default=1769, help="the Lambda memory size to model (vCPU share)")
        return p

    experiment = with_local_training(sub.add_parser("experiment", help="N measured runs alternating baseline and "
                                                                         "optimized, then evidence and plots"))
    experiment.add_argument("--runs", type=int, required=True)
    experiment.add_argument("--dataset", default="diabetes", help="diabetes or a local CSV")
    experiment.add_argument("--target", default="disease_progression")
    experiment.add_argument("--out", default="artifacts/experiment", help="where the evidence and plots go")
    experiment.set_defaults(func=cmd_experiment)

    predict = with_local_training(sub.add_parser("predict", help="train on a CSV, predict a test CSV, write a "
                                                                   "submission CSV (measured)"))
    predict.add_argument("--train", required=True, help="training CSV (with the target column)")
    predict.add_argument("--test", required=True, help="test CSV (features, optional id column)")
    predict.add_argument("--target", required=True)
    predict.add_argument("--mode", default="optimized", choices=["baseline", "optimized"])
    predict.add_argument("--out", default="submission.csv")
    predict.set_defaults(func=cmd_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as error:
        print(f"error: {error.field}: {error.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `greenai status | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
