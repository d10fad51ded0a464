"""The SageMaker runner: the entry point in a simulated /opt/ml, and the whole flow against the embedded AWS —
planned, CreateTrainingJob with the right image, role, input and output, completion delivered twice and recorded
once, failure recorded as FAILED with SageMaker's reason."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import boto3
import pytest

from greenai.adapters.aws import client
from greenai.adapters.dynamodb import DynamoEvidenceStore, DynamoJobStore
from greenai.adapters.memory import MemoryArtifactStore
from greenai.adapters.s3 import S3ArtifactStore, split_s3_uri
from greenai.adapters.sagemaker import SageMakerTrainDispatcher, sklearn_image_uri
from greenai.domain.errors import DispatchRefused
from greenai.domain.jobs import JobState, new_job
from greenai.domain.runners import INSTANCE_TYPES
from greenai.domain.timeutil import parse_utc
from greenai.local.sagemaker import tar_folder
from greenai.sagemaker import entry
from greenai.sagemaker.bundle import ENTRY_SCRIPT
from greenai.services.submit import submit_job
from tests.conftest import load_event
from tests.unit.test_train_service import RUN_AT, SUBMITTED, diabetes_csv, dispatched, make_service

pytestmark = pytest.mark.functional
JOB_ID = "event-sagemaker-job"  # the job the sample events in events/ name
DATASET_KEY = "datasets/diabetes.csv"


def simulate_container(tmp_path: Path, hyperparameters: dict[str, str], dataset: bytes | None,
                       environment: dict[str, str]) -> tuple[int, Path]:
    """What SageMaker does around the script: /opt/ml with the hyperparameters file and the input channel, SM_*."""
    base = tmp_path / "opt" / "ml"
    (base / "input" / "config").mkdir(parents=True)
    (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(hyperparameters))
    channels = []
    if dataset is not None:
        channel = base / "input" / "data" / "train"
        channel.mkdir(parents=True)
        (channel / DATASET_KEY.rsplit("/", 1)[-1]).write_bytes(dataset)
        channels = ["train"]
    environ = {"SM_BASE_DIR": str(base), "SM_CHANNELS": json.dumps(channels), "SM_HOSTS": '["algo-1"]',
               "SM_CURRENT_HOST": "algo-1", "GREENAI_GRID_SOURCE": "replay", **environment}
    return entry.main(environ), base


def output_archive(base: Path) -> bytes:
    """SageMaker's output.tar.gz of SM_OUTPUT_DATA_DIR, packed as the embedded AWS packs it."""
    return tar_folder(base / "output" / "data")


def sagemaker_job(job_id: str = JOB_ID, **fields):
    return new_job({"dataset": f"s3://data/{DATASET_KEY}", "target": "disease_progression", "mode": "optimized",
                    "expected_minutes": 60, "deadline": "2023-03-16T08:00Z", "runner": "sagemaker",
                    "instance_type": "ml.m5.xlarge", **fields}, now=SUBMITTED, job_id=job_id)


def test_entry_point_writes_the_lambda_runners_evidence_shape_and_the_model(tmp_path, clock):
    clock.set(RUN_AT)
    job = sagemaker_job().moved_to(JobState.DISPATCHED, RUN_AT, "check", "run", run_now_intensity_gco2_kwh=250.0)
    dispatcher = SageMakerTrainDispatcher(MemoryArtifactStore("data"), "arn:aws:iam::123456789012:role/sm", "greenai",
                                          sagemaker=boto3.client("sagemaker", region_name="eu-west-2"))
    request = dispatcher.request(job, "dec-1")
    code, base = simulate_container(tmp_path, request["HyperParameters"], diabetes_csv(), {"GREENAI_BUCKET": "data"})
    assert code == 0, (base / "output" / "failure").read_text()
    assert (base / "model" / entry.MODEL_FILE).stat().st_size > 0
    document = json.loads((base / "output" / "data" / "evidence" / "runs" / f"run-{JOB_ID}.json").read_text())
    result = json.loads((base / "output" / "data" / entry.RESULT_FILE).read_text())
    assert result["evidence_keys"] == [f"evidence/runs/run-{JOB_ID}.json"]

    lambda_service, _ = make_service()
    dispatched(lambda_service, job_id="lambda-job")
    lambda_document = lambda_service.run("lambda-job", "dec-1", lambda: RUN_AT).evidence.to_dict()
    assert set(document) == set(lambda_document)
    assert set(document["details"]) == set(lambda_document["details"])
    assert {k: type(v) for k, v in document.items()} == {k: type(v) for k, v in lambda_document.items()}

    shape = INSTANCE_TYPES["ml.m5.xlarge"]
    assert document["hardware"].startswith(shape.describe())
    assert document["kWh_ccf_model"] == pytest.approx(
        shape.ccf_kwh(document["runtime_s"], document["details"]["cpu_utilisation"]))
    assert document["details"]["runner"] == {"kind": "sagemaker", "instance_type": "ml.m5.xlarge", "instance_count": 1,
                                             "max_runtime_minutes": 120.0}
    assert document["intensity_source"] == "replay:gb-forecast-real-2023-03 actual"
    assert document["run_now_intensity_gco2_kwh"] is not None and document["kWh"] > 0


def test_entry_point_failure_reaches_sagemakers_failure_reason(tmp_path, clock):
    clock.set(RUN_AT)
    job = sagemaker_job(target="price").moved_to(JobState.DISPATCHED, RUN_AT, "check", "run")
    dispatcher = SageMakerTrainDispatcher(MemoryArtifactStore("data"), "arn:aws:iam::123456789012:role/sm", "greenai",
                                          sagemaker=boto3.client("sagemaker", region_name="eu-west-2"))
    code, base = simulate_container(tmp_path, dispatcher.request(job, "dec-1")["HyperParameters"], diabetes_csv(), {})
    assert code == 1
    assert "target" in (base / "output" / "failure").read_text()
    assert not (base / "output" / "data" / "evidence").exists()


def test_only_the_primary_host_trains(tmp_path):
    assert entry.main({"SM_BASE_DIR": str(tmp_path), "SM_HOSTS": '["algo-1", "algo-2"]', "SM_CURRENT_HOST": "algo-2"}) == 0
    assert not (tmp_path / "output").exists()


def invoke(function: str, event: dict) -> dict:
    response = client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read())


def submit_and_check(aws, stack, clock, target: str = "disease_progression") -> tuple[dict, str]:
    """A SageMaker job with no slack (the planner must start it now), then one check; the embedded AWS runs the
    training job it creates (greenai.local.sagemaker) and delivers SageMaker's state changes to the stack's rule."""
    out = stack.outputs
    bucket = out["BucketName"]
    S3ArtifactStore(bucket).put_bytes(DATASET_KEY, diabetes_csv(), "text/csv")
    clock.set(parse_utc("2023-03-16T07:00Z"))
    submit_job({"job_id": JOB_ID, "dataset": f"s3://{bucket}/{DATASET_KEY}", "target": target,
                "mode": "optimized", "expected_minutes": 60, "deadline": "2023-03-16T08:00Z", "runner": "sagemaker",
                "instance_type": "ml.m5.xlarge", "max_runtime_minutes": 90}, now=clock.now(),
               jobs=DynamoJobStore(out["JobsTableName"]))
    checked = invoke(out["CheckFunctionName"], load_event("check_scheduled.json"))
    assert checked["dispatched"] == [JOB_ID], checked
    assert aws.runtime.drain() == []
    described = client("sagemaker").describe_training_job(TrainingJobName=f"greenai-{JOB_ID}")
    return described, bucket


def completion_event(sample: str, described: dict, bucket: str) -> dict:
    event = load_event(sample)
    event["detail"].update(TrainingJobName=described["TrainingJobName"], HyperParameters=described["HyperParameters"],
                           OutputDataConfig={"KmsKeyId": "", "S3OutputPath": f"s3://{bucket}/sagemaker"})
    return event


def test_planned_dispatched_to_sagemaker_run_and_recorded_once(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    described, bucket = submit_and_check(aws, stack, clock)
    assert described["AlgorithmSpecification"]["TrainingImage"] == sklearn_image_uri("eu-west-2")
    assert described["RoleArn"] == out["SageMakerRoleArn"]
    source = described["InputDataConfig"][0]["DataSource"]["S3DataSource"]
    assert (described["InputDataConfig"][0]["ChannelName"], source["S3Uri"]) == ("train", f"s3://{bucket}/{DATASET_KEY}")
    assert described["OutputDataConfig"]["S3OutputPath"] == f"s3://{bucket}/sagemaker"
    assert described["ResourceConfig"]["InstanceType"] == "ml.m5.xlarge"
    assert described["ResourceConfig"]["InstanceCount"] == 1
    assert described["StoppingCondition"]["MaxRuntimeInSeconds"] == 90 * 60
    assert described["TrainingJobStatus"] == "Completed"
    hps = {k: json.loads(v) for k, v in described["HyperParameters"].items()}
    assert hps["sagemaker_program"] == ENTRY_SCRIPT and hps["greenai_job_id"] == JOB_ID
    code_bucket, _, code_key = hps["sagemaker_submit_directory"].removeprefix("s3://").partition("/")
    with tarfile.open(fileobj=io.BytesIO(S3ArtifactStore(code_bucket).get_bytes(code_key)), mode="r:gz") as tar:
        names = set(tar.getnames())
    assert {ENTRY_SCRIPT, "requirements.txt", "greenai/sagemaker/entry.py", "greenai/services/train.py"} <= names
    assert not any(n.startswith("greenai/local/") for n in names)

    jobs = DynamoJobStore(out["JobsTableName"])
    job = jobs.get(JOB_ID)
    assert [(t.state, t.by) for t in job.history][-3:] == [
        (JobState.DISPATCHED, "check"), (JobState.RUNNING, "sagemaker"), (JobState.SUCCEEDED, "sagemaker")]
    runs = list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs())
    assert [r.run_id for r in runs] == [f"run-{JOB_ID}"]
    assert json.loads(S3ArtifactStore(bucket).get_bytes(f"evidence/runs/run-{JOB_ID}.json")) == runs[0].to_dict()
    assert runs[0].hardware.startswith("SageMaker 1x ml.m5.xlarge") and runs[0].task == "train"
    assert S3ArtifactStore(bucket).exists(f"sagemaker/greenai-{JOB_ID}/output/model.tar.gz")

    # EventBridge delivers at least once: the same completion twice more records nothing more.
    completed = completion_event("training_done_completed.json", described, bucket)
    answers = [invoke(out["TrainingDoneFunctionName"], completed) for _ in range(2)]
    assert [a["status"] for a in answers] == ["already-done", "already-done"]
    assert [t.state for t in jobs.get(JOB_ID).history].count(JobState.SUCCEEDED) == 1
    assert len(list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs())) == 1

    report = invoke(out["ReportFunctionName"], load_event("report.json"))
    assert report["ok"] and report["runs"] == 1


def test_the_completion_handler_records_a_run_from_the_jobs_output_once(embedded_stack, clock, tmp_path):
    """The handler on its own: SageMaker's output archive in S3, the event delivered twice, recorded once."""
    clock.set(RUN_AT)
    _, stack = embedded_stack
    out = stack.outputs
    bucket = out["BucketName"]
    jobs = DynamoJobStore(out["JobsTableName"])
    job = sagemaker_job(dataset=f"s3://{bucket}/{DATASET_KEY}").moved_to(JobState.DISPATCHED, RUN_AT, "check", "run")
    jobs.put_new(job)
    dispatcher = SageMakerTrainDispatcher(MemoryArtifactStore(bucket), out["SageMakerRoleArn"], "greenai",
                                          sagemaker=boto3.client("sagemaker", region_name="eu-west-2"))
    request = dispatcher.request(job, "dec-1")
    code, base = simulate_container(tmp_path, request["HyperParameters"], diabetes_csv(), {"GREENAI_BUCKET": bucket})
    assert code == 0
    _, output_key = split_s3_uri(entry.output_location(request["OutputDataConfig"]["S3OutputPath"],
                                                       request["TrainingJobName"]))
    S3ArtifactStore(bucket).put_bytes(output_key, output_archive(base),
                                      "application/gzip")
    described = {"TrainingJobName": request["TrainingJobName"], "HyperParameters": request["HyperParameters"]}
    completed = completion_event("training_done_completed.json", described, bucket)
    first, second = (invoke(out["TrainingDoneFunctionName"], completed) for _ in range(2))
    assert (first["status"], first["run_id"], second["status"]) == ("succeeded", f"run-{JOB_ID}", "already-done")
    recorded = jobs.get(JOB_ID)
    assert recorded.state == JobState.SUCCEEDED
    assert recorded.history[-1].at == parse_utc(load_event("training_done_completed.json")["time"])
    assert [r.run_id for r in DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs()] == [f"run-{JOB_ID}"]
    # The whole training job beside the measured run: what SageMaker billed, priced by the CCF instance model.
    stored = json.loads(S3ArtifactStore(bucket).get_bytes(f"evidence/runs/run-{JOB_ID}.json"))
    details = stored["details"]
    assert details["sagemaker_billable_s"] == 312 and details["sagemaker_training_job"] == f"greenai-{JOB_ID}"
    assert details["ccf_kwh_whole_training_job"] == pytest.approx(
        INSTANCE_TYPES["ml.m5.xlarge"].ccf_kwh(312, details["cpu_utilisation"]))
    assert "SageMaker billed 312 s" in stored["notes"] and stored["kWh"] == details["codecarbon_kwh"]


def test_a_failed_training_job_is_recorded_failed_once_with_its_reason(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    described, bucket = submit_and_check(aws, stack, clock, target="price")  # no such column: the job fails
    assert described["TrainingJobStatus"] == "Failed"
    jobs = DynamoJobStore(out["JobsTableName"])
    job = jobs.get(JOB_ID)
    assert job.state == JobState.FAILED
    assert "target" in job.history[-1].why and "price" in job.history[-1].why and job.history[-1].by == "sagemaker"

    failed = completion_event("training_done_failed.json", described, bucket)
    again = [invoke(out["TrainingDoneFunctionName"], failed) for _ in range(2)]
    assert [a["status"] for a in again] == ["already-done", "already-done"]
    assert [t.state for t in jobs.get(JOB_ID).history].count(JobState.FAILED) == 1
    assert list(DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"])).indexed_runs()) == []


def test_a_failure_event_alone_moves_a_dispatched_job_to_failed_with_sagemakers_reason(embedded_stack):
    _, stack = embedded_stack
    out = stack.outputs
    jobs = DynamoJobStore(out["JobsTableName"])
    jobs.put_new(sagemaker_job().moved_to(JobState.DISPATCHED, RUN_AT, "check", "run"))
    event = load_event("training_done_failed.json")
    first, second = (invoke(out["TrainingDoneFunctionName"], event) for _ in range(2))
    assert first["status"] == "failed" and "column 'price'" in first["reason"] and second["status"] == "already-done"
    failures = [t for t in jobs.get(JOB_ID).history if t.state == JobState.FAILED]
    assert len(failures) == 1 and failures[0].at == parse_utc(event["time"])


def test_a_malformed_state_change_is_refused_naming_the_field(embedded_stack):
    _, stack = embedded_stack
    event = load_event("training_done_completed.json")
    del event["detail"]["TrainingJobStatus"]
    answer = invoke(stack.outputs["TrainingDoneFunctionName"], event)
    assert answer == {"ok": False, "field": "detail.TrainingJobStatus",
                      "error": "must be one of InProgress, Completed, Failed, Stopped, Stopping, got None"}


def test_an_outcome_for_a_job_whose_dispatch_answer_was_lost_still_reaches_it(embedded_stack):
    """CreateTrainingJob succeeded but its answer did not arrive: the check put the job back in the queue. What
    SageMaker then reports is still this job's outcome."""
    _, stack = embedded_stack
    out = stack.outputs
    jobs = DynamoJobStore(out["JobsTableName"])
    jobs.put_new(sagemaker_job())  # PENDING
    first = invoke(out["TrainingDoneFunctionName"], load_event("training_done_failed.json"))
    assert first["status"] == "failed" and jobs.get(JOB_ID).state == JobState.FAILED


def test_a_redelivered_dispatch_adopts_its_training_job_and_a_reused_job_id_is_refused(embedded_stack, clock):
    aws, stack = embedded_stack
    out = stack.outputs
    described, bucket = submit_and_check(aws, stack, clock)
    jobs = DynamoJobStore(out["JobsTableName"])
    dispatcher = SageMakerTrainDispatcher(S3ArtifactStore(bucket), out["SageMakerRoleArn"], "greenai",
                                          sagemaker=client("sagemaker"))
    done = jobs.get(JOB_ID)
    dispatcher.dispatch(done, "dec-again")  # the same job again (a retried dispatch): ResourceInUse, adopted
    same_id_later = sagemaker_job(dataset=f"s3://{bucket}/{DATASET_KEY}")  # another submission, same job_id
    with pytest.raises(DispatchRefused, match="job_id: training job greenai-event-sagemaker-job already exists"):
        dispatcher.dispatch(same_id_later, "dec-other")
    with pytest.raises(DispatchRefused, match="dataset: a SageMaker job reads its dataset from"):
        dispatcher.dispatch(sagemaker_job(dataset=f"s3://{bucket}/elsewhere/data.csv", job_id="x"), "dec-x")


def test_a_run_the_job_could_not_price_is_priced_by_the_completion_handler_not_lost(tmp_path, clock):
    """No grid source answers inside the training job (a replay from another year stands in for an outage): the
    job keeps its measurement in the output and succeeds; the completion handler prices it with the stack's sources."""
    from greenai.adapters.grid_replay import ReplayProvider
    from greenai.adapters.memory import MemoryEvidenceStore, MemoryJobStore
    from greenai.events import parse_training_state_event
    from greenai.services.training_done import TrainingDoneService

    clock.set(RUN_AT)
    stale = tmp_path / "stale"
    stale.mkdir()
    (stale / "snapshots.csv").write_text("captured_utc,window_from_utc,forecast_gco2_per_kwh\n"
                                         "2020-01-01T00:00Z,2020-01-01T00:00Z,150\n")
    (stale / "actuals.csv").write_text("datetime_utc,actual\n2020-01-01T00:00Z,150\n")
    job = sagemaker_job().moved_to(JobState.DISPATCHED, RUN_AT, "check", "run", run_now_intensity_gco2_kwh=250.0)
    dispatcher = SageMakerTrainDispatcher(MemoryArtifactStore("data"), "arn:aws:iam::123456789012:role/sm", "greenai",
                                          sagemaker=boto3.client("sagemaker", region_name="eu-west-2"))
    request = dispatcher.request(job, "dec-1")
    code, base = simulate_container(tmp_path, request["HyperParameters"], diabetes_csv(), {
        "GREENAI_REPLAY_SNAPSHOTS_CSV": str(stale / "snapshots.csv"), "GREENAI_REPLAY_ACTUALS_CSV": str(stale / "actuals.csv")})
    assert code == 0
    result = json.loads((base / "output" / "data" / entry.RESULT_FILE).read_text())
    assert result["status"] == "measured" and result["evidence_keys"] == []
    assert result["unpriced_keys"] == [f"unpriced/run-{JOB_ID}.json"] and "is too old" in result["reason"]

    jobs, evidence, artifacts = MemoryJobStore(), MemoryEvidenceStore(), MemoryArtifactStore("data")
    jobs.put_new(job)
    service = TrainingDoneService(jobs, evidence, artifacts, fetch=lambda uri: output_archive(base),
                                  make_provider=ReplayProvider.shipped)
    event = completion_event("training_done_completed.json", {"TrainingJobName": request["TrainingJobName"],
                                                               "HyperParameters": request["HyperParameters"]}, "data")
    done = service.handle(parse_training_state_event(event), RUN_AT)
    assert done.status == "succeeded" and jobs.get(JOB_ID).state == JobState.SUCCEEDED
    record = done.evidence
    assert record.intensity_source == "replay:gb-forecast-real-2023-03 actual" and record.kWh > 0
    assert json.loads(artifacts.get_bytes(f"evidence/runs/run-{JOB_ID}.json")) == record.to_dict()
    lambda_service, _ = make_service()
    dispatched(lambda_service, job_id="lambda-job")
    lambda_document = lambda_service.run("lambda-job", "dec-1", lambda: RUN_AT).evidence.to_dict()
    assert set(record.to_dict()) == set(lambda_document)
    assert set(record.details) - {"sagemaker_training_job", "sagemaker_billable_s", "ccf_kwh_whole_training_job"} == \
        set(lambda_document["details"])
