"""Runner choice at submission: each runner's limits, refusals that name the field, and the SageMaker shapes' CCF."""

from __future__ import annotations

import pytest

from greenai.adapters.sagemaker import training_job_name
from greenai.domain import footprint as fp
from greenai.domain.jobs import Job, ValidationError, new_job
from greenai.domain.runners import INSTANCE_TYPES, SAGEMAKER_MAX_MINUTES, Runner
from greenai.domain.timeutil import parse_utc

NOW = parse_utc("2023-03-15T08:00Z")
BASE = {"dataset": "diabetes", "target": "disease_progression", "mode": "baseline", "deadline": "2023-03-20T08:00Z"}


def submit(**fields):
    return new_job({**BASE, "expected_minutes": 10, **fields}, now=NOW, job_id="job-1")


def refused(**fields) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        submit(**fields)
    return caught.value


def test_lambda_is_the_default_and_keeps_its_15_minute_limit():
    assert submit().runner == Runner()
    error = refused(expected_minutes=16)
    assert error.field == "expected_minutes" and "runner sagemaker" in error.message


def test_a_sagemaker_job_may_run_for_hours_and_round_trips_through_storage():
    job = submit(runner="sagemaker", instance_type="ml.g4dn.xlarge", instance_count="1", expected_minutes=180,
                 max_runtime_minutes=240)
    assert job.runner == Runner("sagemaker", "ml.g4dn.xlarge", 1, 240.0)
    assert Job.from_dict(job.to_dict()) == job
    assert job.latest_start == job.deadline - job.duration  # the planner sees the same duration as for Lambda


def test_max_runtime_defaults_to_twice_the_expected_duration_with_a_margin():
    assert submit(runner="sagemaker", instance_type="ml.m5.xlarge", expected_minutes=120).runner.max_runtime_minutes == 240
    assert submit(runner="sagemaker", instance_type="ml.m5.xlarge", expected_minutes=10).runner.max_runtime_minutes == 40


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"runner": "ec2"}, "runner", "lambda, sagemaker"),
    ({"instance_type": "ml.m5.xlarge"}, "instance_type", "only applies to the sagemaker runner"),
    ({"max_runtime_minutes": 30}, "max_runtime_minutes", "only applies"),
    ({"runner": "sagemaker"}, "instance_type", "is required"),
    ({"runner": "sagemaker", "instance_type": "ml.x9.huge"}, "instance_type", "unknown training instance"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "instance_count": 0}, "instance_count", "at least 1"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "instance_count": 2}, "instance_count", "1 idle"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "instance_count": 1.5}, "instance_count", "whole number"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "instance_count": "two"}, "instance_count", "whole number"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "max_runtime_minutes": 5}, "expected_minutes",
     "stop it before it finished"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "max_runtime_minutes": SAGEMAKER_MAX_MINUTES + 1},
     "max_runtime_minutes", "28 days"),
    ({"runner": "sagemaker", "instance_type": "ml.m5.xlarge", "test_dataset": "s3://b/test.csv"}, "test_dataset",
     "Lambda runner"),
])
def test_what_a_runner_cannot_take_is_refused_naming_the_field(fields, field, words):
    error = refused(**fields)
    assert error.field == field and words in error.message, error


def test_instance_ccf_scales_with_instances_and_adds_gpu_board_power():
    cpu = INSTANCE_TYPES["ml.m5.xlarge"]
    hour_half_load = cpu.ccf_kwh(3600, 0.5)
    expected = (4 * (0.74 + 0.5 * (3.5 - 0.74)) / 1000 + 16 * fp.CCF_MEMORY_KWH_PER_GB_HOUR) * fp.AWS_PUE
    assert hour_half_load == pytest.approx(expected)
    pair = Runner("sagemaker", "ml.m5.xlarge", 2, 60).shape()
    assert pair.ccf_kwh(3600, 0.5) == pytest.approx(2 * hour_half_load) and pair.vcpus == 8
    gpu = INSTANCE_TYPES["ml.g4dn.xlarge"]
    idle_board = 7 / 1000 * fp.AWS_PUE  # T4: 10 % of its 70 W, the pipelines leaving it idle
    assert gpu.ccf_kwh(3600, 0.5) == pytest.approx(cpu.ccf_kwh(3600, 0.5) + idle_board)
    busy_board = (7 + 0.8 * (70 - 7)) / 1000 * fp.AWS_PUE
    assert gpu.ccf_kwh(3600, 0.5, gpu_utilisation=0.8) == pytest.approx(cpu.ccf_kwh(3600, 0.5) + busy_board)
    assert "GPU board power" in gpu.ccf_model and "GPU" not in cpu.ccf_model
    assert "1x NVIDIA T4" in gpu.describe()


def test_training_job_names_are_stable_unique_and_within_sagemakers_rules():
    assert training_job_name("greenai", "job-1a2b") == "greenai-job-1a2b"
    odd = training_job_name("greenai", "team/alpha job#7")
    assert odd == training_job_name("greenai", "team/alpha job#7") != training_job_name("greenai", "team/alpha job#8")
    long = training_job_name("my-stack", "x" * 200)
    assert len(long) <= 63 and long.startswith("my-stack-x")
    for name in (odd, long):
        assert all(c.isalnum() or c == "-" for c in name)


def test_the_bundles_requirements_match_the_librarys_train_extra():
    import tomllib

    from greenai.sagemaker.bundle import CONTAINER_REQUIREMENTS
    from tests.conftest import ROOT

    train = tomllib.loads((ROOT / "shared" / "pyproject.toml").read_text())["project"]["optional-dependencies"]["train"]
    assert [r for r in train if r.startswith("codecarbon")] == list(CONTAINER_REQUIREMENTS)
