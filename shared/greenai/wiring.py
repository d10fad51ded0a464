"""The composition root: build services from settings with their AWS, grid and measurement adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from greenai.adapters.dispatch import LambdaTrainDispatcher, SchedulerWakeUps
from greenai.adapters.dynamodb import DynamoDecisionLog, DynamoEvidenceStore, DynamoJobStore
from greenai.adapters.grid_chain import CachingProvider, FallbackProvider, LastGoodForecastCache, RegionRouter
from greenai.adapters.grid_electricitymaps import ElectricityMapsProvider
from greenai.adapters.grid_replay import ReplayProvider
from greenai.adapters.grid_uk import UKCarbonIntensityProvider
from greenai.adapters.grid_watttime import WattTimeProvider
from greenai.adapters.s3 import S3ArtifactStore, split_s3_uri
from greenai.adapters.sagemaker import RoutingDispatcher, SageMakerTrainDispatcher
from greenai.adapters.secrets import read_json_secret, read_secret
from greenai.domain.footprint import LambdaShape
from greenai.domain.jobs import ValidationError
from greenai.ports import IntensityProvider
from greenai.services.check import CheckService
from greenai.services.report import ReportService
from greenai.services.train import TrainService
from greenai.services.training_done import TrainingDoneService
from greenai.settings import Settings
from greenai.training.datasets import Dataset, check_fits_memory, load_builtin, read_csv_bytes


def uk_provider(settings: Settings, retries: int = 2) -> UKCarbonIntensityProvider:
    """The UK Carbon Intensity API as the settings point at it (GREENAI_UK_API_URL, GREENAI_HTTP_TIMEOUT_S)."""
    return UKCarbonIntensityProvider(settings.uk_api_url, timeout_s=settings.http_timeout_s, retries=retries)


def grid_provider(settings: Settings, remember_forecasts: bool = True) -> IntensityProvider:
    """GB: the live UK API, then the shipped replay; other zones: Electricity Maps, `watttime:` regions: WattTime
    (each only where its credentials are configured). Every good forecast is kept in S3 as the region's fallback,
    unless `remember_forecasts` is off (inside a SageMaker training job, which has no access to that prefix)."""
    if settings.replay_snapshots_csv:
        replay = ReplayProvider.from_csv(Path(settings.replay_snapshots_csv), Path(settings.replay_actuals_csv),
                                         label="replay:saved-forecast", max_snapshot_age=timedelta(hours=48))
    else:
        replay = ReplayProvider.shipped(settings.replay_dataset)
    if settings.grid_source == "replay":
        return replay
    gb = FallbackProvider([uk_provider(settings), replay])
    zones = watttime = None
    if settings.electricitymaps_token_ref:
        reference = settings.electricitymaps_token_ref
        zones = ElectricityMapsProvider(lambda: read_secret(reference), timeout_s=settings.http_timeout_s)
    if settings.watttime_credentials_ref:
        reference_wt = settings.watttime_credentials_ref

        def credentials() -> tuple[str, str]:
            secret = read_json_secret(reference_wt, "username", "password")
            return str(secret["username"]), str(secret["password"])

        watttime = WattTimeProvider(credentials, timeout_s=settings.http_timeout_s)
    router = RegionRouter(gb, zones, watttime)
    if not remember_forecasts:
        return router
    return CachingProvider(router, LastGoodForecastCache(S3ArtifactStore(settings.bucket)))


def check_service(settings: Settings, provider: IntensityProvider | None = None) -> CheckService:
    return CheckService(
        jobs=DynamoJobStore(settings.jobs_table),
        provider=provider or grid_provider(settings),
        decisions=DynamoDecisionLog(settings.decisions_table, S3ArtifactStore(settings.bucket)),
        dispatcher=RoutingDispatcher(LambdaTrainDispatcher(settings.train_function),
                                     lambda: sagemaker_dispatcher(settings)),
        wakeups=SchedulerWakeUps(settings.check_function_arn, settings.scheduler_role_arn, settings.scheduler_group),
        default_threshold_gco2_kwh=settings.threshold_gco2_kwh,
    )


def container_environment(settings: Settings) -> dict[str, str]:
    """What a SageMaker training job's entry point needs of the settings to price its run as the train function
    would (the ones that are set)."""
    values = {
        "GREENAI_BUCKET": settings.bucket, "GREENAI_GRID_SOURCE": settings.grid_source,
        "GREENAI_REPLAY_DATASET": settings.replay_dataset, "GREENAI_UK_API_URL": settings.uk_api_url,
        "GREENAI_HTTP_TIMEOUT_S": str(settings.http_timeout_s), "GREENAI_ENERGY_SOURCE": settings.energy_source,
        "GREENAI_ELECTRICITYMAPS_TOKEN_REF": settings.electricitymaps_token_ref,
        "GREENAI_WATTTIME_CREDENTIALS_REF": settings.watttime_credentials_ref,
    }
    return {name: value for name, value in values.items() if value}


def sagemaker_dispatcher(settings: Settings) -> SageMakerTrainDispatcher:
    return SageMakerTrainDispatcher(
        artifacts=S3ArtifactStore(settings.bucket),
        role_arn=settings.sagemaker_role_arn,
        job_prefix=settings.sagemaker_job_prefix,
        image_uri=settings.sagemaker_image_uri,
        environment=container_environment(settings),
    )


def read_s3_uri(uri: str) -> bytes:
    bucket, key = split_s3_uri(uri)
    return S3ArtifactStore(bucket).get_bytes(key)


def training_done_service(settings: Settings) -> TrainingDoneService:
    return TrainingDoneService(
        jobs=DynamoJobStore(settings.jobs_table),
        evidence=DynamoEvidenceStore(settings.evidence_table, S3ArtifactStore(settings.bucket)),
        artifacts=S3ArtifactStore(settings.bucket),
        fetch=read_s3_uri,
        make_provider=lambda: grid_provider(settings),  # only a run the job could not price needs it
        energy_source=settings.energy_source,
    )


def dataset_loader(artifacts: S3ArtifactStore, memory_mb: int) -> Callable[[str, str], Dataset]:
    """Built-in datasets by name; S3 CSVs checked against the function's memory before they are read."""

    def load(uri: str, field: str) -> Dataset:
        if not uri.startswith("s3://"):
            return load_builtin(uri)
        bucket, key = split_s3_uri(uri)
        store = artifacts if bucket == artifacts.bucket else S3ArtifactStore(bucket)
        try:
            size = store.size(key)
        except Exception as exc:
            raise ValidationError(field, f"cannot read {uri}: {exc}") from None
        check_fits_memory(size, memory_mb, field)
        frame = read_csv_bytes(store.get_bytes(key), field=field)
        return Dataset(name=key.rsplit("/", 1)[-1], frame=frame, target="", source=uri)

    return load


def train_service(settings: Settings, provider: IntensityProvider | None = None) -> TrainService:
    from greenai.measurement.tracker import measure

    artifacts = S3ArtifactStore(settings.bucket)
    return TrainService(
        jobs=DynamoJobStore(settings.jobs_table),
        evidence=DynamoEvidenceStore(settings.evidence_table, S3ArtifactStore(settings.bucket)),
        artifacts=artifacts,
        provider=provider or grid_provider(settings),
        load_dataset=dataset_loader(artifacts, settings.memory_mb),
        measure=measure,
        shape=LambdaShape(settings.memory_mb, settings.architecture),
        energy_source=settings.energy_source,
    )


def report_service(settings: Settings) -> ReportService:
    return ReportService(
        evidence=DynamoEvidenceStore(settings.evidence_table, S3ArtifactStore(settings.bucket)),
        decisions=DynamoDecisionLog(settings.decisions_table, S3ArtifactStore(settings.bucket)),
        artifacts=S3ArtifactStore(settings.bucket),
        provider=grid_provider(settings),
    )


def job_store(settings: Settings) -> DynamoJobStore:
    return DynamoJobStore(settings.jobs_table)
