"""Settings read from environment variables, each with a documented default (the template sets them on Lambda)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    jobs_table: str
    evidence_table: str
    decisions_table: str
    bucket: str
    train_function: str
    check_function_arn: str
    scheduler_role_arn: str
    scheduler_group: str
    grid_source: str  # "uk" (the live API, replay as fallback) or "replay"
    replay_dataset: str
    replay_snapshots_csv: str  # optional: a snapshot file of our own (e.g. a live forecast saved by `greenai demo --live`)
    replay_actuals_csv: str
    policy: str
    threshold_gco2_kwh: float
    energy_source: str  # which estimate feeds kWh: "codecarbon" or "ccf"
    memory_mb: int
    architecture: str
    http_timeout_s: float
    uk_api_url: str
    electricitymaps_token_ref: str  # ssm:/name or secretsmanager:name — a reference, never the token
    watttime_credentials_ref: str  # a JSON {"username", "password"} secret, by reference
    monthly_budget_kg: float
    sagemaker_role_arn: str  # the execution role SageMaker training jobs run as
    sagemaker_image_uri: str  # empty: AWS's scikit-learn framework image for the region
    sagemaker_job_prefix: str  # training job names start with it (the stack name), and the event rule matches it

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            jobs_table=env.get("GREENAI_JOBS_TABLE", "greenai-jobs"),
            evidence_table=env.get("GREENAI_EVIDENCE_TABLE", "greenai-evidence"),
            decisions_table=env.get("GREENAI_DECISIONS_TABLE", "greenai-decisions"),
            bucket=env.get("GREENAI_BUCKET", "greenai-evidence"),
            train_function=env.get("GREENAI_TRAIN_FUNCTION", "greenai-train"),
            check_function_arn=env.get("GREENAI_CHECK_FUNCTION_ARN", ""),
            scheduler_role_arn=env.get("GREENAI_SCHEDULER_ROLE_ARN", ""),
            scheduler_group=env.get("GREENAI_SCHEDULER_GROUP", "default"),
            grid_source=env.get("GREENAI_GRID_SOURCE", "uk"),
            replay_dataset=env.get("GREENAI_REPLAY_DATASET", "gb-forecast-real-2023-03"),
            replay_snapshots_csv=env.get("GREENAI_REPLAY_SNAPSHOTS_CSV", ""),
            replay_actuals_csv=env.get("GREENAI_REPLAY_ACTUALS_CSV", ""),
            policy=env.get("GREENAI_POLICY", "replan"),
            threshold_gco2_kwh=float(env.get("GREENAI_THRESHOLD_GCO2_KWH", "150")),
            energy_source=env.get("GREENAI_ENERGY_SOURCE", "codecarbon"),
            memory_mb=int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", env.get("GREENAI_MEMORY_MB", "1769"))),
            architecture=env.get("GREENAI_ARCHITECTURE", "x86_64"),
            http_timeout_s=float(env.get("GREENAI_HTTP_TIMEOUT_S", "5")),
            uk_api_url=env.get("GREENAI_UK_API_URL", "https://api.carbonintensity.org.uk"),
            electricitymaps_token_ref=env.get("GREENAI_ELECTRICITYMAPS_TOKEN_REF", ""),
            watttime_credentials_ref=env.get("GREENAI_WATTTIME_CREDENTIALS_REF", ""),
            monthly_budget_kg=float(env.get("GREENAI_MONTHLY_BUDGET_KG", "10")),
            sagemaker_role_arn=env.get("GREENAI_SAGEMAKER_ROLE_ARN", ""),
            sagemaker_image_uri=env.get("GREENAI_SAGEMAKER_IMAGE_URI", ""),
            sagemaker_job_prefix=env.get("GREENAI_SAGEMAKER_JOB_PREFIX", "greenai"),
        )
