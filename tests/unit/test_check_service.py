"""The check service with in-memory adapters: one fetch per region, degraded runs, re-planning, exactly-once dispatch."""

from __future__ import annotations

from datetime import timedelta

from greenai.adapters.grid_replay import ReplayProvider
from greenai.adapters.http_json import ProviderError
from greenai.adapters.memory import (
    CountingProvider,
    MemoryDecisionLog,
    MemoryJobStore,
    MemoryWakeUps,
    RecordingDispatcher,
)
from greenai.domain.jobs import JobState, new_job
from greenai.domain.timeutil import parse_utc
from greenai.services.check import CheckService
from tests.fakes import run_at_once

T0 = parse_utc("2023-03-15T08:00Z")


class Down:
    name = "down"

    def forecast(self, region, now):
        raise ProviderError("every grid source failed: uk-carbon-intensity: HTTP 503 | replay: no snapshot")

    def actuals(self, region, start, end):
        raise ProviderError("down")


def service(provider, jobs=None):
    return CheckService(jobs or MemoryJobStore(), provider, MemoryDecisionLog(), RecordingDispatcher(), MemoryWakeUps())


def submit(check, job_id, *, region="GB", deadline="2023-03-16T08:00Z", minutes=15, policy="replan", now=T0):
    job = new_job({"dataset": "diabetes", "target": "y", "mode": "baseline", "expected_minutes": minutes,
                   "deadline": deadline, "region": region, "policy": policy}, now=now, job_id=job_id)
    check.jobs.put_new(job)
    return job


def test_one_forecast_fetch_per_region_however_many_jobs():
    provider = CountingProvider(ReplayProvider.shipped())
    check = service(provider)
    for i in range(30):
        submit(check, f"j{i}", region=("GB", "RG10", "7")[i % 3])
    summary = check.run(T0)
    assert provider.fetches == {"GB": 1, "RG10": 1, "7": 1}
    assert len(summary.decisions) == 30 and len(check.wakeups.schedules) == 30


def test_when_every_source_fails_jobs_wait_for_their_latest_start_then_run_and_say_why():
    check = service(Down())
    job = submit(check, "j", deadline="2023-03-15T12:00Z", minutes=15)
    first = check.run(T0)
    decision = first.decisions[0]
    assert decision.action == "wait" and "HTTP 503" in decision.reason
    assert check.wakeups.schedules["j"] == job.latest_start
    forced = check.run(job.latest_start)
    assert forced.decisions[0].action == "force" and check.dispatcher.dispatched == [("j", forced.decisions[0].decision_id)]
    assert check.jobs.get("j").state == JobState.DISPATCHED


def test_replan_moves_the_wakeup_and_forecast_window_keeps_it():
    check = service(ReplayProvider.shipped())
    submit(check, "re", policy="replan")
    submit(check, "fw", policy="forecast-window")
    check.run(T0)
    first = dict(check.wakeups.schedules)
    check.run(parse_utc("2023-03-15T23:00Z"))
    assert check.wakeups.schedules["fw"] == first["fw"]
    assert check.wakeups.schedules["re"] != first["re"]  # the newer forecast found a greener window
    history = check.jobs.get("re").history
    assert [t.state for t in history] == [JobState.PENDING, JobState.SCHEDULED, JobState.SCHEDULED]


def test_unchanged_plan_is_not_rewritten():
    check = service(ReplayProvider.shipped())
    submit(check, "j")
    check.run(T0)
    check.run(T0 + timedelta(minutes=1))
    assert len(check.jobs.get("j").history) == 2  # submitted, scheduled once


def test_concurrent_checks_dispatch_a_job_once():
    jobs = MemoryJobStore()
    dispatcher = RecordingDispatcher()
    checks = [CheckService(jobs, ReplayProvider.shipped(), MemoryDecisionLog(), dispatcher, MemoryWakeUps())
              for _ in range(8)]
    now = parse_utc("2023-03-16T02:30Z")
    for i in range(20):
        submit(checks[0], f"j{i}", deadline="2023-03-16T03:00Z", minutes=15, now=now)
    run_at_once(checks, now)
    assert sorted(job_id for job_id, _ in dispatcher.dispatched) == sorted(f"j{i}" for i in range(20))


class Flaky(RecordingDispatcher):
    """Refuses one job for good, fails another once (a throttled API), takes the rest."""

    def dispatch(self, job, decision_id):
        from greenai.domain.errors import DispatchRefused

        if job.job_id == "refused":
            raise DispatchRefused("dataset: SageMaker jobs read datasets from s3://bucket/datasets/")
        if job.job_id == "throttled":
            raise RuntimeError("ThrottlingException: rate exceeded")
        super().dispatch(job, decision_id)


def test_one_jobs_failed_dispatch_neither_stops_the_others_nor_loses_the_job():
    check = CheckService(MemoryJobStore(), ReplayProvider.shipped(), MemoryDecisionLog(), Flaky(), MemoryWakeUps())
    for job_id in ("refused", "throttled", "fine"):
        submit(check, job_id, deadline="2023-03-15T08:20Z")  # no slack: all three run now
    summary = check.run(T0)
    assert summary.dispatched == ["fine"] and check.dispatcher.dispatched[0][0] == "fine"
    assert summary.dispatch_failures == {"throttled": "RuntimeError: ThrottlingException: rate exceeded"}
    assert summary.refused == {"refused": "dataset: SageMaker jobs read datasets from s3://bucket/datasets/"}
    throttled, refused = check.jobs.get("throttled"), check.jobs.get("refused")
    assert throttled.state == JobState.PENDING and "back in the queue" in throttled.history[-1].why
    assert refused.state == JobState.FAILED and refused.history[-1].why.startswith("dispatch refused: dataset:")
