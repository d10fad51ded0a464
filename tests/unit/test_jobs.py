"""Job submission is validated before anything is written; each refusal names its field."""

from __future__ import annotations

import pytest

from greenai.domain.jobs import JobState, ValidationError, new_job
from greenai.domain.timeutil import parse_utc

NOW = parse_utc("2026-11-26T12:00Z")
GOOD = {"dataset": "diabetes", "target": "disease_progression", "mode": "baseline", "expected_minutes": 10,
        "deadline": "2026-11-27T06:00Z", "region": "GB"}


def test_a_good_request_becomes_a_pending_job_with_its_history():
    job = new_job(GOOD, now=NOW)
    assert job.state == JobState.PENDING
    assert job.latest_start == parse_utc("2026-11-27T05:50Z")
    assert job.history[0].by == "submit"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"deadline": "2026-11-26T11:00Z"}, "deadline", "in the past"),
        ({"deadline": "2026-11-26T12:05Z"}, "deadline", "too soon"),
        ({"deadline": "tomorrow"}, "deadline", "not an ISO-8601"),
        ({"expected_minutes": 0}, "expected_minutes", "positive"),
        ({"expected_minutes": 20}, "expected_minutes", "exceeds"),
        ({"expected_minutes": "ten"}, "expected_minutes", "number"),
        ({"dataset": "http://example.org/x.csv"}, "dataset", "unsupported"),
        ({"dataset": "s3://bucket-only"}, "dataset", "s3://bucket/key.csv"),
        ({"mode": "fast"}, "mode", "baseline, optimized"),
        ({"region": "Atlantis"}, "region", "unknown region"),
        ({"region": "42"}, "region", "1 to 17"),
        ({"target": ""}, "target", "required"),
        ({"policy": "yolo"}, "policy", "replan"),
        ({"test_dataset": "test.csv"}, "test_dataset", "s3://bucket/key.csv"),
        ({"region": "watttime:caiso north"}, "region", "WattTime region"),
    ],
)
def test_bad_input_is_refused_naming_the_field(change, field, words):
    with pytest.raises(ValidationError) as caught:
        new_job({**GOOD, **change}, now=NOW)
    assert caught.value.field == field
    assert words in caught.value.message


@pytest.mark.parametrize(("raw", "normalised"), [("gb", "GB"), ("rg10", "RG10"), ("07", "7"), ("DE", "DE"),
                                                 ("us-cal-ciso", "US-CAL-CISO"),
                                                 ("watttime:caiso_north", "watttime:CAISO_NORTH")])
def test_regions_are_normalised(raw, normalised):
    assert new_job({**GOOD, "region": raw}, now=NOW).region == normalised


def test_job_round_trips_through_its_stored_form():
    job = new_job({**GOOD, "test_dataset": "s3://b/test.csv"}, now=NOW, job_id="job-1")
    from greenai.domain.jobs import Job

    assert Job.from_dict(job.to_dict()) == job
