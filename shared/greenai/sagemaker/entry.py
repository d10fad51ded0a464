"""Inside a SageMaker training job: run the job's training with the Lambda runner's own code, under CodeCarbon, and
leave the model in SM_MODEL_DIR and the evidence JSON in SM_OUTPUT_DATA_DIR (SageMaker uploads both to S3).

Nothing here touches DynamoDB: the job travels in the hyperparameters, and the stack's completion handler records the
outcome when SageMaker reports the job's end. A failure is written to /opt/ml/output/failure, which SageMaker shows
as the job's FailureReason. Runs on Python 3.10 (the scikit-learn image); tested locally with /opt/ml simulated.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from greenai.domain.jobs import Job, JobState, ValidationError

HP_JOB = "greenai_job"
HP_JOB_ID = "greenai_job_id"
HP_DECISION_ID = "greenai_decision_id"
MODEL_FILE = "model.joblib"
RESULT_FILE = "greenai_result.json"
UNPRICED_PREFIX = "unpriced/"  # a measured run no grid source could price here: the completion handler prices it


def output_location(s3_output_path: str, training_job: str, archive: str = "output.tar.gz") -> str:
    """Where SageMaker uploads what a job left in SM_OUTPUT_DATA_DIR (output.tar.gz) or SM_MODEL_DIR (model.tar.gz)."""
    return f"{s3_output_path.rstrip('/')}/{training_job}/output/{archive}"


def decode_hyperparameter(value: Any) -> Any:
    """Hyperparameters arrive JSON-encoded (as the SageMaker SDK sends them) or already decoded by the toolkit."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


@dataclass(frozen=True)
class TrainingEnvironment:
    """What SageMaker's training toolkit tells a script, from its SM_* variables (defaults: the /opt/ml layout)."""

    model_dir: Path
    output_data_dir: Path
    output_dir: Path
    channels: dict[str, Path]
    hyperparameters: dict[str, Any]
    current_host: str
    hosts: tuple[str, ...]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TrainingEnvironment:
        base = Path(environ.get("SM_BASE_DIR", "/opt/ml"))
        channel_names = json.loads(environ.get("SM_CHANNELS", "[]"))
        channels = {name: Path(environ.get(f"SM_CHANNEL_{name.upper()}", str(base / "input" / "data" / name)))
                    for name in channel_names}
        raw_hps = environ.get("SM_HPS")
        if raw_hps is None:
            config = base / "input" / "config" / "hyperparameters.json"
            raw_hps = config.read_text() if config.is_file() else "{}"
        hosts = tuple(json.loads(environ.get("SM_HOSTS", '["algo-1"]')))
        return cls(
            model_dir=Path(environ.get("SM_MODEL_DIR", str(base / "model"))),
            output_data_dir=Path(environ.get("SM_OUTPUT_DATA_DIR", str(base / "output" / "data"))),
            output_dir=Path(environ.get("SM_OUTPUT_DIR", str(base / "output"))),
            channels=channels,
            hyperparameters={k: decode_hyperparameter(v) for k, v in json.loads(raw_hps).items()},
            current_host=environ.get("SM_CURRENT_HOST", hosts[0] if hosts else "algo-1"),
            hosts=hosts,
        )

    @property
    def is_primary(self) -> bool:
        return not self.hosts or self.current_host == self.hosts[0]


def job_from_hyperparameters(hps: Mapping[str, Any]) -> tuple[Job, str]:
    document = hps.get(HP_JOB)
    if isinstance(document, str):
        document = json.loads(document)
    if not isinstance(document, dict):
        raise ValidationError(HP_JOB, "the training job carries no greenai job document")
    job = Job.from_dict({"history": [], **document})
    if job.state != JobState.DISPATCHED:
        job = replace(job, state=JobState.DISPATCHED)
    return job, str(hps.get(HP_DECISION_ID) or "")


def _channel_loader(env: TrainingEnvironment) -> Any:
    """Datasets from the job's input channel (SageMaker copied the S3 CSV there); built-in ones by name."""
    from greenai.training.datasets import Dataset, load_builtin, read_csv_bytes

    def load(uri: str, field: str) -> Dataset:
        if not uri.startswith("s3://"):
            return load_builtin(uri)
        folder = env.channels.get("train")
        name = uri.rsplit("/", 1)[-1]
        path = folder / name if folder else None
        if path is None or not path.is_file():
            raise ValidationError(field, f"{uri} is not in the training job's input channel ({folder})")
        return Dataset(name=name, frame=read_csv_bytes(path.read_bytes(), field=field), target="", source=uri)

    return load


def run(env: TrainingEnvironment, environ: Mapping[str, str]) -> dict[str, Any]:
    """Train the job the hyperparameters carry; returns what the result file says. Raises on failure."""
    from greenai.adapters.local_files import FolderArtifactStore
    from greenai.adapters.memory import MemoryEvidenceStore, MemoryJobStore
    from greenai.clock import current_clock
    from greenai.measurement.tracker import measure
    from greenai.services.train import TrainService, UnpricedRun
    from greenai.settings import Settings
    from greenai.wiring import grid_provider

    job, decision_id = job_from_hyperparameters(env.hyperparameters)
    if not job.runner.is_sagemaker:
        raise ValidationError("runner", f"job {job.job_id} is not a SageMaker job")
    settings = Settings.from_env(environ)
    jobs = MemoryJobStore()
    jobs.put_new(job)

    def keep_model(_: Job, pipeline: Any) -> None:
        import joblib

        env.model_dir.mkdir(parents=True, exist_ok=True)
        joblib.dump(pipeline, env.model_dir / MODEL_FILE)

    output = FolderArtifactStore(env.output_data_dir, bucket=settings.bucket)

    def defer_pricing(run: UnpricedRun) -> None:
        output.put_json_once(f"{UNPRICED_PREFIX}run-{run.job.job_id}.json", run.to_dict())

    service = TrainService(
        jobs=jobs,
        evidence=MemoryEvidenceStore(),
        artifacts=output,
        provider=grid_provider(settings, remember_forecasts=False),
        load_dataset=_channel_loader(env),
        measure=measure,
        shape=job.runner.shape(),
        energy_source=settings.energy_source,
        keep_model=keep_model,
        defer_pricing=defer_pricing,
    )
    result = service.run(job.job_id, decision_id, current_clock().now)
    if result.status not in ("succeeded", "measured"):
        raise RuntimeError(f"{result.status}: {result.reason}")
    summary = {"job_id": job.job_id, "status": result.status, "run_id": result.run_id, "reason": result.reason,
               "evidence_keys": sorted(output.list_keys("evidence/")),
               "unpriced_keys": sorted(output.list_keys(UNPRICED_PREFIX)), "model": MODEL_FILE}
    (env.output_data_dir / RESULT_FILE).write_text(json.dumps(summary, indent=2))
    return summary


def main(environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    env = TrainingEnvironment.from_environ(environ)
    if not env.is_primary:
        print(f"greenai: {env.current_host} is not the primary host ({env.hosts[0]}); the pipeline trains there")
        return 0
    try:
        summary = run(env, environ)
    except Exception as exc:  # every failure reaches SageMaker's FailureReason, and so the job's history
        reason = f"{type(exc).__name__}: {exc}"
        env.output_dir.mkdir(parents=True, exist_ok=True)
        (env.output_dir / "failure").write_text(reason[:1000])
        traceback.print_exc()
        return 1
    print(f"greenai: {json.dumps(summary)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
