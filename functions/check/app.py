"""CheckFunction: plan every pending job on the newest forecast, then dispatch it or schedule a wake-up."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from greenai.clock import current_clock
from greenai.domain.jobs import ValidationError
from greenai.events import parse_check_event
from greenai.services.submit import submit_job
from greenai.settings import Settings
from greenai.wiring import check_service, job_store

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    settings = Settings.from_env()
    now = current_clock().now()
    try:
        request = parse_check_event(event)
        if request.kind == "submit":
            job, created = submit_job(request.job or {}, now=now, jobs=job_store(settings), default_policy=settings.policy)
            return {"ok": True, "job_id": job.job_id, "created": created, "state": job.state.value}
    except ValidationError as error:
        logger.warning("refused", extra={"field": error.field, "error": error.message})
        return {"ok": False, "field": error.field, "error": error.message}
    summary = check_service(settings).run(now, only_job_id=request.job_id, delivery=request.scheduled_time)
    metrics.add_metric(name="JobsDispatched", unit=MetricUnit.Count, value=len(summary.dispatched))
    metrics.add_metric(name="JobsWaiting", unit=MetricUnit.Count, value=len(summary.scheduled))
    metrics.add_metric(name="ForecastFailures", unit=MetricUnit.Count, value=len(summary.forecast_failures))
    metrics.add_metric(name="DispatchFailures", unit=MetricUnit.Count,
                       value=len(summary.dispatch_failures) + len(summary.refused))
    if summary.dispatch_failures or summary.refused:
        logger.warning("dispatch failed", extra={"back_in_queue": summary.dispatch_failures, "failed": summary.refused})
    logger.info("check done", extra=summary.to_dict())
    return {"ok": True, **summary.to_dict()}
