"""Entry-point events are parsed into typed requests before any work; bad ones are refused naming the field."""

from __future__ import annotations

import pytest

from greenai.domain.jobs import ValidationError
from greenai.domain.timeutil import parse_utc
from greenai.events import parse_check_event, parse_report_event, parse_train_event
from tests.conftest import load_event


def test_scheduled_and_wakeup_events_carry_their_scheduled_time():
    scheduled = parse_check_event(load_event("check_scheduled.json"))
    assert (scheduled.kind, scheduled.scheduled_time) == ("scheduled", parse_utc("2023-03-15T08:00Z"))
    wakeup = parse_check_event(load_event("check_wakeup.json"))
    assert (wakeup.kind, wakeup.job_id) == ("wakeup", "demo-baseline")
    assert parse_check_event({"source": "aws.events", "time": "2023-03-15T08:30:00Z"}).scheduled_time == parse_utc(
        "2023-03-15T08:30Z")


@pytest.mark.parametrize(
    ("parse", "event", "field"),
    [
        (parse_check_event, [], "event"),
        (parse_check_event, {"source": "greenai.wakeup"}, "job_id"),
        (parse_check_event, {"source": "greenai.submit", "job": "x"}, "job"),
        (parse_check_event, {"source": "greenai.schedule", "scheduled_time": "<aws.scheduler.scheduled-time>"},
         "scheduled_time"),
        (parse_train_event, {"decision_id": "d"}, "job_id"),
        (parse_train_event, {"job_id": "j", "decision_id": 5}, "decision_id"),
        (parse_report_event, "daily", "event"),
    ],
)
def test_bad_events_are_refused_naming_the_field(parse, event, field):
    with pytest.raises(ValidationError) as caught:
        parse(event)
    assert caught.value.field == field


def test_train_and_report_events_from_events_folder():
    assert parse_train_event(load_event("train.json")).job_id == "demo-baseline"
    assert parse_report_event(load_event("report.json")).reason == "on demand"
