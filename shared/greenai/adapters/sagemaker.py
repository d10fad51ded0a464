"""Dispatch to SageMaker: one CreateTrainingJob per job, running greenai's entry point in AWS's scikit-learn image.

The training job's name is derived from the job id, so a repeated dispatch finds the job it already created instead
of starting a second one; the code travels as a content-addressed source bundle uploaded once to the stack's bucket.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from greenai.adapters.aws import client
from greenai.domain.errors import DispatchRefused
from greenai.domain.jobs import Job, ValidationError
from greenai.ports import ArtifactStore
from greenai.sagemaker.bundle import ENTRY_SCRIPT, SourceBundle, build_bundle
from greenai.sagemaker.entry import (
    HP_DECISION_ID,
    HP_JOB,
    HP_JOB_ID,
    decode_hyperparameter,
    job_from_hyperparameters,
)

# AWS's scikit-learn framework image (Python 3.10, scikit-learn 1.4.2), by region: the registry accounts are AWS's.
SKLEARN_IMAGE_TAG = "1.4-2-cpu-py3"
SKLEARN_IMAGE_ACCOUNTS = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
}
OUTPUT_PREFIX = "sagemaker/"
DATASETS_PREFIX = "datasets/"  # the only input prefix the training role reads
TRAIN_CHANNEL = "train"
VOLUME_GB = 30
HYPERPARAMETER_LIMIT = 2500  # characters per value
_NAME_LIMIT = 63
_TAG_UNSAFE = re.compile(r"[^\w .:/=+\-@]")
# CreateTrainingJob errors no retry will cure: the job fails with SageMaker's words instead of looping.
PERMANENT_ERRORS = ("ValidationException", "ResourceLimitExceeded")


def sklearn_image_uri(region: str) -> str:
    account = SKLEARN_IMAGE_ACCOUNTS.get(region)
    if account is None:
        raise ValueError(f"no scikit-learn image known for region {region!r}: set the SageMakerImageUri parameter")
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:{SKLEARN_IMAGE_TAG}"


def training_job_name(prefix: str, job_id: str) -> str:
    """`<prefix>-<job id>` within SageMaker's 63 characters of [a-zA-Z0-9-]; a hash keeps altered ids unique."""
    cleaned = re.sub(r"[^a-zA-Z0-9-]+", "-", f"{prefix}-{job_id}").strip("-")
    if cleaned == f"{prefix}-{job_id}" and len(cleaned) <= _NAME_LIMIT:
        return cleaned
    digest = hashlib.sha256(job_id.encode()).hexdigest()[:8]
    return f"{cleaned[:_NAME_LIMIT - 9].rstrip('-')}-{digest}"


@dataclass
class SageMakerTrainDispatcher:
    """CreateTrainingJob for a dispatched job: its dataset as the `train` channel, its runner's instances and limit."""

    artifacts: ArtifactStore
    role_arn: str
    job_prefix: str
    image_uri: str = ""  # empty: AWS's scikit-learn image for the client's region
    environment: dict[str, str] = field(default_factory=dict)  # what the entry point's settings read
    sagemaker: Any = None
    bundle: Callable[[], SourceBundle] = build_bundle
    _built: SourceBundle | None = None
    _uploaded: str = ""

    def __post_init__(self) -> None:
        if self.sagemaker is None:
            self.sagemaker = client("sagemaker")

    def _code_uri(self) -> str:
        bundle = self._built = self._built or self.bundle()  # once per process: the library does not change
        if self._uploaded != bundle.key and not self.artifacts.exists(bundle.key):
            self.artifacts.put_bytes(bundle.key, bundle.body, "application/gzip")
        self._uploaded = bundle.key
        return f"s3://{self.artifacts.bucket}/{bundle.key}"

    def request(self, job: Job, decision_id: str) -> dict[str, Any]:
        """The CreateTrainingJob arguments for `job` (hyperparameters JSON-encoded, as SageMaker's SDK sends them);
        DispatchRefused for what SageMaker would refuse or could never read."""
        runner = job.runner
        datasets = f"s3://{self.artifacts.bucket}/{DATASETS_PREFIX}"
        if job.dataset.startswith("s3://") and not job.dataset.startswith(datasets):
            raise DispatchRefused(f"dataset: a SageMaker job reads its dataset from {datasets} (the training role's "
                                  f"only input prefix), not {job.dataset}")
        document = {k: v for k, v in job.to_dict().items() if k != "history"}
        hyperparameters = {
            "sagemaker_program": ENTRY_SCRIPT,
            "sagemaker_submit_directory": self._code_uri(),
            "sagemaker_region": self.sagemaker.meta.region_name,
            "sagemaker_container_log_level": 20,
            HP_JOB_ID: job.job_id,
            HP_DECISION_ID: decision_id,
            HP_JOB: document,
        }
        arguments: dict[str, Any] = {
            "TrainingJobName": training_job_name(self.job_prefix, job.job_id),
            "AlgorithmSpecification": {"TrainingImage": self.image_uri or sklearn_image_uri(self.sagemaker.meta.region_name),
                                       "TrainingInputMode": "File"},
            "RoleArn": self.role_arn,
            "HyperParameters": {k: json.dumps(v) for k, v in hyperparameters.items()},
            "OutputDataConfig": {"S3OutputPath": f"s3://{self.artifacts.bucket}/{OUTPUT_PREFIX.rstrip('/')}"},
            "ResourceConfig": {"InstanceType": runner.instance_type, "InstanceCount": runner.instance_count,
                               "VolumeSizeInGB": VOLUME_GB},
            "StoppingCondition": {"MaxRuntimeInSeconds": int(runner.max_runtime_minutes * 60)},
            "Environment": dict(self.environment),
            "Tags": [{"Key": "greenai:stack", "Value": self.job_prefix},
                     {"Key": "greenai:job_id", "Value": _TAG_UNSAFE.sub("-", job.job_id)[:256]},
                     {"Key": "greenai:decision_id", "Value": _TAG_UNSAFE.sub("-", decision_id)[:256] or "none"}],
        }
        too_long = [k for k, v in arguments["HyperParameters"].items() if len(v) > HYPERPARAMETER_LIMIT]
        if too_long:
            raise DispatchRefused(f"{', '.join(too_long)}: over SageMaker's {HYPERPARAMETER_LIMIT} characters per "
                                  f"hyperparameter (shorten the job's dataset or target names)")
        if job.dataset.startswith("s3://"):
            arguments["InputDataConfig"] = [{
                "ChannelName": TRAIN_CHANNEL,
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": job.dataset,
                                                "S3DataDistributionType": "FullyReplicated"}},
                "ContentType": "text/csv",
            }]
        return arguments

    def dispatch(self, job: Job, decision_id: str) -> None:
        arguments = self.request(job, decision_id)
        try:
            self.sagemaker.create_training_job(**arguments)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_ERRORS:
                raise DispatchRefused(f"SageMaker: {code}: {exc.response.get('Error', {}).get('Message', '')}") from exc
            if code != "ResourceInUse":
                raise
            self._adopt(job, arguments["TrainingJobName"])

    def _adopt(self, job: Job, name: str) -> None:
        """The name is taken: by an earlier delivery of this same dispatch (then that training job is this job's run),
        or, names being unique in an account for good, by an earlier job with the same id (then this one cannot run)."""
        existing = self.sagemaker.describe_training_job(TrainingJobName=name).get("HyperParameters", {})
        try:
            earlier, _ = job_from_hyperparameters({k: decode_hyperparameter(v) for k, v in existing.items()})
        except (ValidationError, ValueError, KeyError):
            earlier = None  # not a greenai job's training job at all
        if earlier is None or earlier.submitted_at != job.submitted_at:
            raise DispatchRefused(f"job_id: training job {name} already exists for an earlier job with this id "
                                  f"(SageMaker names are unique for good); submit under another job_id")


@dataclass
class RoutingDispatcher:
    """Each job to its runner: Lambda by default, SageMaker for jobs that asked for it (that dispatcher is made on
    the first SageMaker job, so checks without one never build its client)."""

    lambda_runner: Any
    make_sagemaker_runner: Callable[[], Any]
    _sagemaker_runner: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)  # the check acts on 16 threads

    def dispatch(self, job: Job, decision_id: str) -> None:
        if not job.runner.is_sagemaker:
            self.lambda_runner.dispatch(job, decision_id)
            return
        with self._lock:
            if self._sagemaker_runner is None:
                self._sagemaker_runner = self.make_sagemaker_runner()
        self._sagemaker_runner.dispatch(job, decision_id)
