"""Every event in events/ through its handler, invoked with boto3 on the embedded AWS (what `sam local invoke` would do)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from greenai.adapters.aws import client
from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore, DynamoJobStore
from greenai.adapters.s3 import S3ArtifactStore
from greenai.domain.jobs import JobState
from greenai.domain.timeutil import parse_utc
from greenai.services.submit import submit_job
from tests.conftest import EVENTS, load_event
from tests.fakes import run_at_once

pytestmark = pytest.mark.functional
T0 = parse_utc("2023-03-15T08:00Z")


def invoke(function: str, event: dict) -> dict:
    response = client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read())


def test_every_event_file_is_exercised():
    exercised = {"check_scheduled.json", "check_wakeup.json", "submit.json", "train.json", "report.json",
                 "training_done_completed.json", "training_done_failed.json"}  # the last two: test_sagemaker_runner.py
    assert {p.name for p in EVENTS.glob("*.json")} == exercised


def test_events_drive_submit_check_wakeup_train_report(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    jobs = DynamoJobStore(out["JobsTableName"])

    submitted = invoke(out["CheckFunctionName"], {**load_event("submit.json"),
                                                  "job": {**load_event("submit.json")["job"], "deadline": "2023-03-16T08:00Z"}})
    assert submitted == {"ok": True, "job_id": "event-submitted-job", "created": True, "state": "PENDING"}
    again = invoke(out["CheckFunctionName"], load_event("submit.json") | {"job": load_event("submit.json")["job"]
                                                                         | {"deadline": "2023-03-16T08:00Z"}})
    assert again["created"] is False  # the same job id submitted twice is stored once

    submit_job({"job_id": "demo-baseline", "dataset": "diabetes", "target": "disease_progression", "mode": "baseline",
                "expected_minutes": 15, "deadline": "2023-03-16T08:00Z"}, now=T0, jobs=jobs)
    scheduled = invoke(out["CheckFunctionName"], load_event("check_scheduled.json"))
    assert scheduled["ok"] and not scheduled["dispatched"]
    assert set(scheduled["scheduled"]) == {"demo-baseline", "event-submitted-job"}
    wake_names = [s["Name"] for s in client("scheduler").list_schedules()["Schedules"]]
    assert sorted(wake_names) == ["greenai-wake-demo-baseline", "greenai-wake-event-submitted-job"]

    # The wake-up fires at the job's planned start; the greenest window on that forecast is now -> run.
    planned = jobs.get("demo-baseline").planned_start
    clock.set(parse_utc("2023-03-16T02:30Z"))
    woken = invoke(out["CheckFunctionName"], load_event("check_wakeup.json"))
    assert woken["ok"] and woken["dispatched"] == ["demo-baseline"], woken
    assert planned is not None
    aws.runtime.drain()  # the async train invoke the check made
    job = jobs.get("demo-baseline")
    assert job.state == JobState.SUCCEEDED
    assert [t.state for t in job.history][-3:] == [JobState.DISPATCHED, JobState.RUNNING, JobState.SUCCEEDED]
    assert "greenai-wake-demo-baseline" not in [s["Name"] for s in client("scheduler").list_schedules()["Schedules"]]

    # train.json redelivered (at-least-once): nothing is trained or recorded twice.
    redelivered = invoke(out["TrainFunctionName"], load_event("train.json"))
    assert redelivered["status"] == "already-done"
    runs = list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs())
    assert [r.run_id for r in runs] == ["run-demo-baseline"]

    report = invoke(out["ReportFunctionName"], load_event("report.json"))
    assert report["ok"] and report["runs"] == 1
    assert len(list(DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"])).list_decisions())) == report["decisions"]
    # The decisions file is streamed up once and copied into latest/; every decision the checks made is in it.
    bucket = S3ArtifactStore(out["BucketName"])
    dated = json.loads(bucket.get_bytes(report["prefix"] + "carbon_aware_decision.json"))
    assert dated == json.loads(bucket.get_bytes("reports/latest/carbon_aware_decision.json"))
    logged = client("dynamodb").scan(TableName=out["DecisionsTableName"], Select="COUNT")["Count"]
    assert len(dated) == report["decisions"] == logged and all(d["forecast"] for d in dated)


def test_bad_submit_event_is_refused_naming_the_field_and_writes_nothing(embedded_stack, clock):
    _, stack = embedded_stack
    event = load_event("submit.json")
    event["job"] = {**event["job"], "deadline": "2023-03-15T07:00Z"}
    answer = invoke(stack.outputs["CheckFunctionName"], event)
    assert answer["ok"] is False and answer["field"] == "deadline"
    assert list(DynamoJobStore(stack.outputs["JobsTableName"]).list_all()) == []


def test_duplicate_and_concurrent_checks_dispatch_once(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    jobs = DynamoJobStore(out["JobsTableName"])
    clock.set(parse_utc("2023-03-16T02:30Z"))
    submit_job({"job_id": "once", "dataset": "diabetes", "target": "disease_progression", "mode": "optimized",
                "expected_minutes": 15, "deadline": "2023-03-16T05:00Z"}, now=clock.now(), jobs=jobs)
    lam = client("lambda")
    for _ in range(4):  # the same scheduled event delivered four times, concurrently
        lam.invoke(FunctionName=out["CheckFunctionName"], InvocationType="Event",
                   Payload=json.dumps(load_event("check_scheduled.json")).encode())
    aws.runtime.drain()
    train_calls = [i for i in aws.runtime.invocations if i.function == out["TrainFunctionName"]]
    assert len(train_calls) == 1
    # The four deliveries carry one scheduled time: their decisions share ids and are logged once.
    logged = DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"])).list_decisions()
    assert [d.job_id for d in logged] == ["once"]
    assert jobs.get("once").state == JobState.SUCCEEDED
    assert len(list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs())) == 1


def test_train_refuses_a_missing_target_column_marks_failed_and_records_nothing(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    s3 = client("s3")
    s3.put_object(Bucket=out["BucketName"], Key="data/tiny.csv", Body=b"a,b\n1,2\n3,4\n")
    jobs = DynamoJobStore(out["JobsTableName"])
    clock.set(parse_utc("2023-03-16T02:30Z"))
    submit_job({"job_id": "bad-target", "dataset": f"s3://{out['BucketName']}/data/tiny.csv", "target": "price",
                "mode": "baseline", "expected_minutes": 5, "deadline": "2023-03-16T03:30Z"}, now=clock.now(), jobs=jobs)
    invoke(out["CheckFunctionName"], load_event("check_scheduled.json"))
    aws.runtime.drain()
    job = jobs.get("bad-target")
    assert job.state == JobState.FAILED
    assert "target" in job.history[-1].why and "price" in job.history[-1].why
    assert list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs()) == []
    clock.advance(timedelta(minutes=30))


def test_report_before_any_run_says_so_instead_of_failing(embedded_stack, clock):
    _, stack = embedded_stack
    answer = invoke(stack.outputs["ReportFunctionName"], load_event("report.json"))
    assert answer == {"ok": False, "error": "no evidence yet: run a training job before building a report"}


def test_two_checks_at_once_on_the_same_dynamodb_queue_dispatch_each_job_once(embedded_stack, clock):
    from greenai.adapters.grid_replay import ReplayProvider
    from greenai.adapters.memory import MemoryWakeUps, RecordingDispatcher
    from greenai.services.check import CheckService

    _, stack = embedded_stack
    out = stack.outputs
    now = parse_utc("2023-03-16T02:30Z")
    jobs = DynamoJobStore(out["JobsTableName"])
    for i in range(12):
        submit_job({"job_id": f"race-{i}", "dataset": "diabetes", "target": "disease_progression", "mode": "baseline",
                    "expected_minutes": 15, "deadline": "2023-03-16T03:00Z"}, now=now, jobs=jobs)
    dispatcher = RecordingDispatcher()  # records instead of invoking, so the race is on DynamoDB alone
    checks = [CheckService(DynamoJobStore(out["JobsTableName"]), ReplayProvider.shipped(),
                           DynamoDecisionLog(out["DecisionsTableName"], S3ArtifactStore(out["BucketName"])),
                           dispatcher, MemoryWakeUps()) for _ in range(2)]
    run_at_once(checks, now)
    assert sorted(job_id for job_id, _ in dispatcher.dispatched) == sorted(f"race-{i}" for i in range(12))
    assert all(jobs.get(f"race-{i}").state == JobState.DISPATCHED for i in range(12))
