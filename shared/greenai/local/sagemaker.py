"""The embedded AWS's SageMaker training: moto records CreateTrainingJob but runs nothing, and its EventBridge cannot
invoke Lambda targets. Here a created training job runs the entry point with /opt/ml laid out in a temporary folder
(hyperparameters, the input channel copied from S3), its output is uploaded where SageMaker puts it, and the
"SageMaker Training Job State Change" events go to the rule's target function — InProgress, then Completed or Failed.

The entry point runs in-process from the installed library, as the local Lambda runtime runs handlers; the bundle
SageMaker would download is built from that same library (tests compare them).
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from greenai.adapters.aws import client
from greenai.adapters.s3 import S3ArtifactStore, split_s3_uri
from greenai.clock import current_clock
from greenai.domain.timeutil import format_utc
from greenai.local.runtime import DeployedFunction, LocalLambdaRuntime
from greenai.sagemaker import entry
from greenai.settings import Settings
from greenai.wiring import container_environment

logger = logging.getLogger(__name__)
EVENT_SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Training Job State Change"


def tar_folder(folder: Path) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                tar.add(path, arcname=path.relative_to(folder).as_posix())
    return packed.getvalue()


def _plain(value: Any) -> Any:
    """describe_training_job's answer as EventBridge carries it: datetimes as epoch milliseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class LocalTrainingJobs:
    def __init__(self, runtime: LocalLambdaRuntime) -> None:
        self.runtime = runtime

    def _target(self, training_job: str) -> DeployedFunction | None:
        """The function the stack's rule for SageMaker state changes targets (the rule matches the name prefix)."""
        events = client("events")
        for rule in events.list_rules()["Rules"]:
            pattern = json.loads(rule.get("EventPattern") or "{}")
            if EVENT_SOURCE not in pattern.get("source", []):
                continue
            prefixes = [p.get("prefix", "") for p in pattern.get("detail", {}).get("TrainingJobName", [])
                        if isinstance(p, dict)]
            if prefixes and not any(training_job.startswith(p) for p in prefixes):
                continue
            for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
                function = self.runtime.find(target["Arn"])
                if function is not None:
                    return function
        return None

    def _set_status(self, training_job: str, status: str) -> None:
        from moto.sagemaker.models import sagemaker_backends

        for regions in sagemaker_backends.values():
            for backend in regions.values():
                job = backend.training_jobs.get(training_job)
                if job is not None:
                    job.training_job_status = job.secondary_status = status  # moto keeps no FailureReason

    def _deliver(self, target: DeployedFunction | None, described: dict[str, Any], status: str, reason: str) -> None:
        if target is None:
            logger.warning("no rule targets SageMaker state changes of %s", described["TrainingJobName"])
            return
        detail = {**_plain(described), "TrainingJobStatus": status, "SecondaryStatus": status}
        if reason:
            detail["FailureReason"] = reason
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": DETAIL_TYPE, "source": EVENT_SOURCE,
                 "account": described["TrainingJobArn"].split(":")[4], "time": format_utc(current_clock().now()),
                 "region": described["TrainingJobArn"].split(":")[3], "resources": [described["TrainingJobArn"]],
                 "detail": detail}
        invocation = self.runtime.invoke(target.name, json.dumps(event), asynchronous=False)
        logger.info("delivered %s for %s: %s", status, described["TrainingJobName"], invocation[:200])

    def start(self, training_job: str) -> None:
        """Called when CreateTrainingJob succeeded: the job runs in the background, as SageMaker's does."""
        self._set_status(training_job, "InProgress")
        self.runtime.background(lambda: self.run(training_job))

    def run(self, training_job: str) -> str:
        described = client("sagemaker").describe_training_job(TrainingJobName=training_job)
        target = self._target(training_job)
        self._deliver(target, described, "InProgress", "")
        with tempfile.TemporaryDirectory(prefix="greenai-sagemaker-") as folder:
            base = Path(folder) / "opt" / "ml"
            (base / "input" / "config").mkdir(parents=True)
            (base / "input" / "config" / "hyperparameters.json").write_text(json.dumps(described["HyperParameters"]))
            channels = []
            for channel in described.get("InputDataConfig", []):
                bucket, key = split_s3_uri(channel["DataSource"]["S3DataSource"]["S3Uri"])
                target_dir = base / "input" / "data" / channel["ChannelName"]
                target_dir.mkdir(parents=True)
                (target_dir / key.rsplit("/", 1)[-1]).write_bytes(S3ArtifactStore(bucket).get_bytes(key))
                channels.append(channel["ChannelName"])
            settings_env = {**(target.environment if target else {}), **self.runtime.overrides}
            environ = {"SM_BASE_DIR": str(base), "SM_CHANNELS": json.dumps(channels), "SM_HOSTS": '["algo-1"]',
                       "SM_CURRENT_HOST": "algo-1", **container_environment(Settings.from_env(settings_env))}
            code = entry.main(environ)
            output_path = described["OutputDataConfig"]["S3OutputPath"]
            for archive, source in (("output.tar.gz", base / "output" / "data"), ("model.tar.gz", base / "model")):
                bucket, key = split_s3_uri(entry.output_location(output_path, training_job, archive))
                S3ArtifactStore(bucket).put_bytes(key, tar_folder(source), "application/gzip")
            failure = base / "output" / "failure"
            reason = f"AlgorithmError: {failure.read_text()}" if code != 0 and failure.is_file() else ""
        status = "Completed" if code == 0 else "Failed"
        self._set_status(training_job, status)
        self._deliver(target, described, status, reason)
        return status
