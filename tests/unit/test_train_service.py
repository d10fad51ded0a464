"""The train service with in-memory stores and the real CodeCarbon tracker: arithmetic, predict mode, refusals."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from greenai.adapters.grid_replay import ReplayProvider
from greenai.adapters.memory import MemoryArtifactStore, MemoryEvidenceStore, MemoryJobStore
from greenai.domain import footprint as fp
from greenai.domain.jobs import JobState, new_job
from greenai.domain.timeutil import parse_utc
from greenai.measurement.tracker import measure
from greenai.services.train import TrainService
from greenai.training.datasets import load_builtin
from greenai.wiring import dataset_loader

SUBMITTED = parse_utc("2023-03-15T08:00Z")
RUN_AT = parse_utc("2023-03-16T02:30Z")


def diabetes_csv(rows: slice = slice(None), drop: tuple[str, ...] = ()) -> bytes:
    frame = load_builtin("diabetes").frame.iloc[rows].drop(columns=list(drop))
    frame.insert(0, "id", range(len(frame)))
    out = io.StringIO()
    frame.to_csv(out, index=False)
    return out.getvalue().encode()


def make_service(memory_mb: int = 1769, energy_source: str = "codecarbon"):
    store = MemoryArtifactStore(bucket="data")
    service = TrainService(
        jobs=MemoryJobStore(), evidence=MemoryEvidenceStore(), artifacts=store, provider=ReplayProvider.shipped(),
        load_dataset=dataset_loader(store, memory_mb),  # type: ignore[arg-type]
        measure=measure, shape=fp.LambdaShape(memory_mb), energy_source=energy_source,
    )
    return service, store


def dispatched(service, **request):
    job = new_job({"dataset": "diabetes", "target": "disease_progression", "mode": "baseline", "expected_minutes": 15,
                   "deadline": "2023-03-16T08:00Z", **request}, now=SUBMITTED, job_id=request.pop("job_id", "job-1"))
    service.jobs.put_new(job)
    moved = job.moved_to(JobState.DISPATCHED, RUN_AT, "check", "run", run_now_intensity_gco2_kwh=250.0)
    assert service.jobs.transition(job, (JobState.PENDING,), moved)
    return moved


def test_every_derived_figure_follows_from_its_inputs():
    service, _ = make_service()
    dispatched(service)
    result = service.run("job-1", "dec-1", lambda: RUN_AT)
    r = result.evidence
    assert result.status == "succeeded" and r is not None
    details = r.details or {}
    assert r.intensity_gco2_kwh == 61.0 and r.intensity_source == "replay:gb-forecast-real-2023-03 actual"
    assert r.run_now_intensity_gco2_kwh == 246.0  # the actual of 08:00-08:15, the window starting at submission
    assert r.kWh == details["codecarbon_kwh"]
    assert r.kgCO2e == pytest.approx(r.kWh * r.intensity_gco2_kwh / 1000)
    assert r.water_L == pytest.approx(r.kWh * fp.AWS_WUE_L_PER_KWH)
    assert r.kWh_ccf_model == pytest.approx(fp.ccf_lambda_kwh(fp.LambdaShape(1769), r.runtime_s, details["cpu_utilisation"]))
    assert r.embodied_kgCO2e == pytest.approx(fp.EMBODIED_PLATFORM_KGCO2E * r.runtime_s / fp.EMBODIED_LIFESPAN_S
                                              * (1769 / 1769) / fp.EMBODIED_PLATFORM_VCPUS)
    assert r.sci_kgCO2e_per_unit == pytest.approx(r.kgCO2e + r.embodied_kgCO2e)
    assert r.deferred_s == (RUN_AT - SUBMITTED).total_seconds()
    assert "CPU" in r.energy_method and r.functional_unit == "one training run"
    assert service.jobs.get("job-1").state == JobState.SUCCEEDED


def test_ccf_setting_feeds_kwh_and_says_so():
    service, _ = make_service(energy_source="ccf")
    dispatched(service)
    r = service.run("job-1", "dec-1", lambda: RUN_AT).evidence
    assert r.kWh == r.kWh_ccf_model and r.energy_method.startswith("Cloud Carbon Footprint")


def test_predict_mode_writes_a_submission_and_prices_1000_predictions():
    service, store = make_service()
    store.put_bytes("train.csv", diabetes_csv(slice(0, 400)), "text/csv")
    store.put_bytes("test.csv", diabetes_csv(slice(400, 442), drop=("disease_progression", "s6")), "text/csv")
    dispatched(service, dataset="s3://data/train.csv", test_dataset="s3://data/test.csv")
    result = service.run("job-1", "dec-1", lambda: RUN_AT)
    assert result.status == "succeeded" and result.predictions_uri == "s3://data/predictions/job-1/submission.csv"
    submission = store.get_bytes("predictions/job-1/submission.csv").decode().splitlines()
    assert submission[0] == "id,disease_progression" and len(submission) == 43
    runs = {r.task: r for r in service.evidence.list_runs()}
    assert set(runs) == {"train", "predict"}
    predicted = runs["predict"]
    assert predicted.functional_unit.startswith("1,000 predictions (42 made)")
    assert predicted.sci_kgCO2e_per_unit == pytest.approx((predicted.kgCO2e + predicted.embodied_kgCO2e) / 0.042)
    assert predicted.run_id == "run-job-1-predict"
    assert parse_utc(predicted.timestamp_utc) >= parse_utc(runs["train"].timestamp_utc)


@pytest.mark.parametrize(
    ("files", "request_fields", "field", "words"),
    [
        ({"t.csv": b""}, {"dataset": "s3://data/t.csv"}, "dataset", "empty"),
        ({"t.csv": b"a,b\n"}, {"dataset": "s3://data/t.csv"}, "dataset", "no rows"),
        ({"t.csv": diabetes_csv()}, {"dataset": "s3://data/t.csv", "target": "price"}, "target", "not in the dataset"),
        ({"t.csv": diabetes_csv().replace(b"group_1", b"group_x")}, {"dataset": "s3://data/t.csv", "target": "sex"},
         "target", "not numeric"),
        ({"t.csv": diabetes_csv(), "x.csv": b"colour,size\nred,1\n"},
         {"dataset": "s3://data/t.csv", "test_dataset": "s3://data/x.csv"}, "test_dataset", "no feature columns in common"),
        ({"t.csv": diabetes_csv()}, {"dataset": "s3://data/missing.csv"}, "dataset", "cannot read"),
    ],
)
def test_refused_inputs_fail_the_job_with_the_field_and_record_nothing(files, request_fields, field, words):
    service, store = make_service()
    for key, body in files.items():
        store.put_bytes(key, body, "text/csv")
    dispatched(service, **request_fields)
    result = service.run("job-1", "dec-1", lambda: RUN_AT)
    assert result.status == "failed" and result.reason.startswith(f"{field}:") and words in result.reason
    assert service.jobs.get("job-1").state == JobState.FAILED
    assert list(service.evidence.list_runs()) == [] and not list(store.list_keys("evidence/"))


def test_a_dataset_too_large_for_the_function_memory_is_refused_before_reading():
    service, store = make_service(memory_mb=128)
    store.put_bytes("big.csv", b"x,y\n" + b"1,2\n" * 4_000_000, "text/csv")  # 16 MB on disk
    dispatched(service, dataset="s3://data/big.csv", target="y")
    result = service.run("job-1", "dec-1", lambda: RUN_AT)
    assert result.status == "failed" and "more than this 128 MB function can hold" in result.reason


def test_a_crash_after_s3_before_the_index_is_completed_once_by_the_retry():
    service, store = make_service()
    dispatched(service)
    first = service.run("job-1", "dec-1", lambda: RUN_AT)
    # Simulate the crash: the index and the final transition were lost, the S3 evidence stayed.
    service.evidence.runs.clear()
    job = service.jobs.get("job-1")
    service.jobs.jobs["job-1"] = job.moved_to(JobState.RUNNING, RUN_AT, "train", "lost")
    again = service.run("job-1", "dec-1", lambda: RUN_AT + timedelta(minutes=1))
    assert again.status == "succeeded" and again.evidence == first.evidence
    assert len(list(service.evidence.list_runs())) == 1
    assert service.run("job-1", "dec-1", lambda: RUN_AT).status == "already-done"
