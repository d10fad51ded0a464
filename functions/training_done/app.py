"""TrainingDoneFunction: record what SageMaker says of a training job (started, completed with evidence, failed)."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from greenai.clock import current_clock
from greenai.domain.jobs import ValidationError
from greenai.events import parse_training_state_event
from greenai.reporting.figures import timing_saving_kg
from greenai.settings import Settings
from greenai.wiring import training_done_service

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    try:
        change = parse_training_state_event(event)
        result = training_done_service(Settings.from_env()).handle(change, current_clock().now())
    except ValidationError as error:
        logger.warning("event refused", extra={"field": error.field, "error": error.message})
        return {"ok": False, "field": error.field, "error": error.message}
    if result.evidence is not None:
        record = result.evidence
        metrics.add_metric(name="EnergyKWh", unit=MetricUnit.Count, value=record.kWh)
        metrics.add_metric(name="EmissionsKgCO2e", unit=MetricUnit.Count, value=record.kgCO2e)
        saving = timing_saving_kg(record)
        if saving is not None:
            metrics.add_metric(name="SavingKgCO2e", unit=MetricUnit.Count, value=saving)
    logger.info("training job state recorded", extra={"training_job": change.training_job, "state": change.status,
                                                      "job_id": result.job_id, "status": result.status})
    return {"ok": result.status != "failed", "job_id": result.job_id, "status": result.status,
            "run_id": result.run_id, "reason": result.reason}
