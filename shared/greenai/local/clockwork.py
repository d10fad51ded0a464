"""The embedded AWS's EventBridge Scheduler: fires the template's recurring schedules and the one-time schedules
stored in moto (which stores them but never fires them), by invoking their target through boto3.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from greenai.adapters.aws import client
from greenai.domain.timeutil import format_utc, parse_utc

SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_interval(expression: str) -> timedelta:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"only rate(...) expressions are fired locally, got {expression!r}")
    amount, unit = int(match.group(1)), match.group(2).rstrip("s")
    return timedelta(seconds=amount * _UNITS[unit])


def at_time(expression: str) -> datetime | None:
    """The moment of a one-time `at(yyyy-mm-ddThh:mm:ss)` schedule (UTC), or None for other expressions."""
    match = re.match(r"^at\((.+)\)$", expression.strip())
    return parse_utc(match.group(1)) if match else None


@dataclass
class Recurring:
    target_arn: str
    interval: timedelta
    payload: str
    next_fire: datetime


@dataclass
class Clockwork:
    recurring: list[Recurring] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.scheduler: Any = client("scheduler")
        self.lambda_client: Any = client("lambda")

    def add_recurring(self, target_arn: str, expression: str, payload: str, start: datetime) -> None:
        self.recurring.append(Recurring(target_arn, rate_interval(expression), payload, start))

    def _one_time(self) -> list[dict[str, Any]]:
        schedules = []
        for page in self.scheduler.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                detail = self.scheduler.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
                if at_time(detail["ScheduleExpression"]) is not None:
                    schedules.append(detail)
        return schedules

    def next_event(self, after: datetime) -> datetime | None:
        moments = [r.next_fire for r in self.recurring]
        moments += [t for t in (at_time(s["ScheduleExpression"]) for s in self._one_time()) if t is not None]
        future = [m for m in moments if m >= after]
        return min(future) if future else None

    def fire_due(self, now: datetime) -> int:
        """Invoke (asynchronously, as the Scheduler does) every target due at or before `now`; returns how many."""
        count = 0
        for schedule in self._one_time():
            due = at_time(schedule["ScheduleExpression"])
            if due is None or due > now:
                continue
            target = schedule["Target"]
            self._invoke(target["Arn"], target.get("Input", "{}"), due)
            if schedule.get("ActionAfterCompletion") == "DELETE":
                self.scheduler.delete_schedule(Name=schedule["Name"], GroupName=schedule.get("GroupName", "default"))
            count += 1
        for recurring in self.recurring:
            if recurring.next_fire <= now:
                self._invoke(recurring.target_arn, recurring.payload, recurring.next_fire)
                while recurring.next_fire <= now:
                    recurring.next_fire += recurring.interval
                count += 1
        return count

    def _invoke(self, arn: str, payload: str, scheduled: datetime) -> None:
        # The Scheduler fills in its context attributes before delivering the Input.
        payload = payload.replace(SCHEDULED_TIME, format_utc(scheduled))
        json.loads(payload)  # a malformed Input would be refused by the Scheduler too
        self.lambda_client.invoke(FunctionName=arn, InvocationType="Event", Payload=payload.encode())
