"""Dispatch adapters: an asynchronous Lambda invoke of the train function, and one-time EventBridge Scheduler wake-ups."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from greenai.adapters.aws import client
from greenai.domain.jobs import Job


class LambdaTrainDispatcher:
    def __init__(self, function_name: str, lambda_client: Any | None = None) -> None:
        self.function_name = function_name
        self.lambda_client = lambda_client or client("lambda")

    def dispatch(self, job: Job, decision_id: str) -> None:
        payload = {"job_id": job.job_id, "decision_id": decision_id}
        response = self.lambda_client.invoke(
            FunctionName=self.function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        if response.get("StatusCode") != 202:
            raise RuntimeError(f"train invoke for {job.job_id} answered {response.get('StatusCode')}")


def wakeup_schedule_name(job_id: str) -> str:
    """Deterministic per job, so a moved plan updates the schedule instead of adding one."""
    return "greenai-wake-" + re.sub(r"[^0-9a-zA-Z_.-]", "-", job_id)[:50]


class SchedulerWakeUps:
    """One-time schedules (`at(...)`, deleted after they fire) that invoke the check function for one job."""

    def __init__(self, target_arn: str, role_arn: str, group: str = "default", scheduler: Any | None = None) -> None:
        self.target_arn = target_arn
        self.role_arn = role_arn
        self.group = group
        self.scheduler = scheduler or client("scheduler")

    def schedule(self, job: Job, at: datetime) -> None:
        arguments = {
            "Name": wakeup_schedule_name(job.job_id),
            "GroupName": self.group,
            "ScheduleExpression": f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "Target": {
                "Arn": self.target_arn,
                "RoleArn": self.role_arn,
                "Input": json.dumps({"source": "greenai.wakeup", "job_id": job.job_id,
                                     "scheduled_time": "<aws.scheduler.scheduled-time>"}),
            },
        }
        try:
            self.scheduler.create_schedule(**arguments)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConflictException":
                raise
            self.scheduler.update_schedule(**arguments)

    def cancel(self, job: Job) -> None:
        try:
            self.scheduler.delete_schedule(Name=wakeup_schedule_name(job.job_id), GroupName=self.group)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
