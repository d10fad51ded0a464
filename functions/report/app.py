"""ReportFunction: build the report artifacts from all evidence and decisions into reports/ in S3."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from greenai.clock import current_clock
from greenai.domain.jobs import ValidationError
from greenai.events import parse_report_event
from greenai.services.report import NoEvidenceError
from greenai.settings import Settings
from greenai.wiring import report_service

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    try:
        request = parse_report_event(event)
    except ValidationError as error:
        return {"ok": False, "field": error.field, "error": error.message}
    try:
        result = report_service(Settings.from_env()).run(current_clock().now())
    except NoEvidenceError as error:
        logger.warning("nothing to report", extra={"reason": request.reason})
        return {"ok": False, "error": str(error)}
    metrics.add_metric(name="ReportRuns", unit=MetricUnit.Count, value=result.runs)
    # The CarbonBudgetAlarm compares this with MonthlyCarbonBudgetKg and notifies the alert topic.
    metrics.add_metric(name="MonthToDateKgCO2e", unit=MetricUnit.Count, value=result.month_to_date_kgco2e)
    logger.info("report done", extra={"reason": request.reason, "prefix": result.prefix})
    budget = float(Settings.from_env().monthly_budget_kg)
    return {"ok": True, "prefix": result.prefix, "files": list(result.files), "runs": result.runs,
            "decisions": result.decisions, "month_to_date_kgco2e": result.month_to_date_kgco2e,
            "over_budget": result.month_to_date_kgco2e > budget}
