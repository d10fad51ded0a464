"""The check: plan every pending job on the newest forecast (one fetch per region), then dispatch or schedule.

Dispatch is a conditional state transition made before the invoke, so duplicate, late or concurrent checks never start
a job twice; a failed invoke hands the job back to the queue, and a runner's refusal fails the job with its reason.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from greenai.adapters.http_json import ProviderError
from greenai.domain.errors import DispatchRefused
from greenai.domain.evidence import DecisionRecord
from greenai.domain.intensity import Forecast
from greenai.domain.jobs import PLANNABLE_STATES, Job, JobState
from greenai.domain.planning import FORCE, RUN, WAIT, Plan, plan
from greenai.domain.timeutil import format_utc
from greenai.ports import DecisionLog, IntensityProvider, JobStore, TrainDispatcher, WakeUpScheduler


@dataclass
class CheckSummary:
    """What one check did, for the handler's answer and the demo's narration."""

    at: datetime
    decisions: list[DecisionRecord] = field(default_factory=list)
    dispatched: list[str] = field(default_factory=list)
    scheduled: dict[str, datetime] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # another check got there first
    dispatch_failures: dict[str, str] = field(default_factory=dict)  # back in the queue: the next check retries
    refused: dict[str, str] = field(default_factory=dict)  # the runner will never take them: FAILED
    forecast_failures: dict[str, str] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "at_utc": format_utc(self.at),
            "decisions": [{"job_id": d.job_id, "action": d.action, "reason": d.reason,
                           "planned_start_utc": d.planned_start_utc} for d in self.decisions],
            "dispatched": self.dispatched,
            "scheduled": {job_id: format_utc(at) for job_id, at in self.scheduled.items()},
            "skipped": self.skipped,
            "dispatch_failures": self.dispatch_failures,
            "refused": self.refused,
            "forecast_failures": self.forecast_failures,
            "providers": self.providers,
        }


def decision_id_for(job_id: str, delivery: datetime, action: str) -> str:
    """Stable for the same job, delivery and action: a redelivered check logs the same decision once."""
    digest = hashlib.sha256(f"{job_id}|{format_utc(delivery)}|{action}".encode()).hexdigest()[:16]
    return f"dec-{digest}"


@dataclass
class CheckService:
    jobs: JobStore
    provider: IntensityProvider
    decisions: DecisionLog
    dispatcher: TrainDispatcher
    wakeups: WakeUpScheduler
    default_threshold_gco2_kwh: float = 150.0
    act_workers: int = 16

    def run(self, now: datetime, only_job_id: str | None = None, delivery: datetime | None = None) -> CheckSummary:
        """Plan at `now`; `delivery` (the event's scheduled time) names the decisions, so a redelivered event logs
        the same decisions again instead of new ones."""
        summary = CheckSummary(at=now)
        pending = [j for j in self.jobs.list_in_states(PLANNABLE_STATES) if only_job_id in (None, j.job_id)]
        by_region: dict[str, list[Job]] = defaultdict(list)
        for job in pending:
            by_region[job.region].append(job)
        for region, jobs in sorted(by_region.items()):
            forecast = self._forecast(region, now, summary)
            # Decide for every job, log the decisions with their forecast, then act: nothing is dispatched unlogged.
            ordered = sorted(jobs, key=lambda j: (j.deadline, j.job_id))
            plans = [self._plan(job, now, forecast, summary, delivery or now) for job in ordered]
            stored = self.decisions.record([record for _, record in plans], forecast)
            summary.decisions.extend(stored)
            # Each act is a conditional write plus at most one schedule or invoke, independent of the others: after
            # a mass submission thousands are due at once, and in parallel they fit the function's timeout.
            with ThreadPoolExecutor(max_workers=max(1, min(self.act_workers, len(ordered)))) as pool:
                futures = [pool.submit(self._act, job, now, decided, record, summary)
                           for job, (decided, _), record in zip(ordered, plans, stored, strict=True)]
                for future in futures:
                    future.result()
        return summary

    def _forecast(self, region: str, now: datetime, summary: CheckSummary) -> Forecast | None:
        try:
            forecast = self.provider.forecast(region, now)
        except ProviderError as exc:
            summary.forecast_failures[region] = str(exc)
            return None
        summary.providers[region] = forecast.provider
        return forecast

    def _plan(self, job: Job, now: datetime, forecast: Forecast | None, summary: CheckSummary,
              delivery: datetime) -> tuple[Plan, DecisionRecord]:
        decided = plan(
            policy=job.policy,
            now=now,
            deadline=job.deadline,
            duration=job.duration,
            forecast=forecast,
            previous_planned_start=job.planned_start,
            threshold_gco2_kwh=self.default_threshold_gco2_kwh,
        )
        reason = decided.reason
        if forecast is None:
            reason += f" ({summary.forecast_failures.get(job.region, 'no source')})"
        return decided, self._record(job, now, forecast, decided, reason, delivery)

    def _act(self, job: Job, now: datetime, decided: Plan, record: DecisionRecord, summary: CheckSummary) -> None:
        # The counterfactual is fixed by the first decision made on a forecast (submission time or just after).
        run_now = job.run_now_intensity_gco2_kwh
        if run_now is None:
            run_now = decided.run_now_mean_intensity
        if decided.action in (RUN, FORCE):
            self._dispatch(job, now, record, run_now, summary)
        elif decided.action == WAIT:
            self._schedule(job, now, decided, run_now, summary)

    def _dispatch(self, job: Job, now: datetime, record: DecisionRecord, run_now: float | None,
                  summary: CheckSummary) -> None:
        dispatched = job.moved_to(JobState.DISPATCHED, now, "check", f"{record.action}: {record.reason}",
                                  planned_start=now, run_now_intensity_gco2_kwh=run_now)
        if not self.jobs.transition(job, PLANNABLE_STATES, dispatched):
            summary.skipped.append(job.job_id)
            return
        try:
            self.dispatcher.dispatch(dispatched, record.decision_id)
        except DispatchRefused as exc:
            refused = dispatched.moved_to(JobState.FAILED, now, "check", f"dispatch refused: {exc}")
            self.jobs.transition(dispatched, (JobState.DISPATCHED,), refused)
            summary.refused[job.job_id] = str(exc)
            return
        except Exception as exc:  # contained: one job's failed dispatch must not stop the others' planning
            back = dispatched.moved_to(JobState.PENDING, now, "check", f"dispatch failed, back in the queue: {exc}")
            self.jobs.transition(dispatched, (JobState.DISPATCHED,), back)
            summary.dispatch_failures[job.job_id] = f"{type(exc).__name__}: {exc}"
            return
        self.wakeups.cancel(dispatched)
        summary.dispatched.append(job.job_id)

    def _schedule(self, job: Job, now: datetime, decided: Plan, run_now: float | None, summary: CheckSummary) -> None:
        plan_stands = (job.state == JobState.SCHEDULED and job.planned_start == decided.planned_start
                       and job.run_now_intensity_gco2_kwh == run_now)
        if not plan_stands:  # a standing plan's wake-up is already set
            # Wake-up first: if the transition then loses a race, a spare check at that time is harmless.
            self.wakeups.schedule(job, decided.planned_start)
            scheduled = job.moved_to(JobState.SCHEDULED, now, "check", f"wait until {format_utc(decided.planned_start)}: "
                                     f"{decided.reason}", planned_start=decided.planned_start,
                                     run_now_intensity_gco2_kwh=run_now)
            if not self.jobs.transition(job, PLANNABLE_STATES, scheduled):
                summary.skipped.append(job.job_id)
                return
        summary.scheduled[job.job_id] = decided.planned_start

    @staticmethod
    def _record(job: Job, now: datetime, forecast: Forecast | None, decided: Plan, reason: str,
                delivery: datetime) -> DecisionRecord:
        return DecisionRecord(
            decision_id=decision_id_for(job.job_id, delivery, decided.action),
            job_id=job.job_id,
            at_utc=format_utc(now),
            region=job.region,
            provider=forecast.provider if forecast else "none",
            action=decided.action,
            reason=reason,
            intensity_now=decided.intensity_now,
            planned_start_utc=format_utc(decided.planned_start),
            planned_mean_intensity=decided.planned_mean_intensity,
            run_now_mean_intensity=decided.run_now_mean_intensity,
            deadline_utc=format_utc(job.deadline),
            forecast=forecast.as_records() if forecast else [],
            policy=job.policy,
        )
