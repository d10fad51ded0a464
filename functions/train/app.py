"""TrainFunction: run one dispatched job under measurement and record its evidence (idempotent per job)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from greenai.clock import current_clock
from greenai.domain.jobs import ValidationError
from greenai.events import parse_train_event
from greenai.reporting.figures import timing_saving_kg
from greenai.settings import Settings
from greenai.wiring import train_service

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    try:
        request = parse_train_event(event)
    except ValidationError as error:
        return {"ok": False, "field": error.field, "error": error.message}
    result = train_service(Settings.from_env()).run(request.job_id, request.decision_id, current_clock().now)
    if result.evidence is not None:
        record = result.evidence
        metrics.add_metric(name="EnergyKWh", unit=MetricUnit.Count, value=record.kWh)
        metrics.add_metric(name="EmissionsKgCO2e", unit=MetricUnit.Count, value=record.kgCO2e)
        metrics.add_metric(name="HoursDeferred", unit=MetricUnit.Count, value=record.deferred_s / 3600)
        saving = timing_saving_kg(record)
        if saving is not None:
            metrics.add_metric(name="SavingKgCO2e", unit=MetricUnit.Count, value=saving)
    logger.info("train done", extra={"job_id": result.job_id, "status": result.status, "reason": result.reason})
    return {"ok": result.status != "failed", "job_id": result.job_id, "status": result.status,
            "run_id": result.run_id, "reason": result.reason}
