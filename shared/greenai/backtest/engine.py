"""Simulate each policy over a series: a job arrives at every step, runs L hours without interruption and must finish
within D hours of arrival; the policy is asked at every step (a check), exactly as the check function asks it.

Emissions are scored on actuals only, for a 1 kW job: kgCO2e = Σ intensity × step hours / 1000.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from greenai.adapters.http_json import ProviderError
from greenai.backtest.inputs import Series
from greenai.domain.bias import LeadBiasLearner
from greenai.domain.jobs import ValidationError
from greenai.domain.planning import FORCE, RUN, plan
from greenai.ports import IntensityProvider

POLICIES = ("run-now", "threshold", "forecast-window", "replan", "replan-debiased", "oracle")


@dataclass(frozen=True)
class PolicyScore:
    policy: str
    jobs: int
    job_hours: float
    deadline_hours: float
    emissions_run_now: float
    emissions_policy: float
    emissions_oracle: float
    saving_pct: float
    oracle_capture_pct: float
    gap_to_oracle_pct: float
    forced: int
    forecast: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class Backtest:
    def __init__(self, series: Series, job_hours: float, deadline_hours: float) -> None:
        if deadline_hours < job_hours:
            raise ValidationError("deadline_hours", f"{deadline_hours:g} h is shorter than the job ({job_hours:g} h)")
        self.series = series
        self.job_hours = job_hours
        self.deadline_hours = deadline_hours
        self.length = series.steps(job_hours, "job_hours")
        self.slack = series.steps(deadline_hours, "deadline_hours") - self.length if deadline_hours > job_hours else 0
        cumulative = [0.0]
        for value in series.values:
            cumulative.append(cumulative[-1] + value)
        kg_per_step = (series.step / timedelta(hours=1)) / 1000.0
        n = len(series)
        # Emissions of a 1 kW job started at each step (kgCO2e).
        self.window_kg = [(cumulative[i + self.length] - cumulative[i]) * kg_per_step for i in range(n - self.length + 1)]
        self.arrivals = range(len(self.window_kg))

    def latest_start(self, arrival: int) -> int:
        """Truncated at the end of the data, where the window cannot extend past the series."""
        return min(arrival + self.slack, len(self.window_kg) - 1)

    def starts_run_now(self) -> dict[int, int]:
        return {a: a for a in self.arrivals}

    def starts_oracle(self) -> dict[int, int]:
        starts = {}
        for a in self.arrivals:
            candidates = self.window_kg[a : self.latest_start(a) + 1]
            starts[a] = a + candidates.index(min(candidates))
        return starts

    def starts_policy(self, policy: str, provider: IntensityProvider, threshold_gco2_kwh: float) -> tuple[dict[int, int], int]:
        """Ask `plan` at every step for every waiting job; returns each job's start and how many were forced."""
        times, step = self.series.times, self.series.step
        duration = step * self.length
        pending: dict[int, object] = {}
        starts: dict[int, int] = {}
        forced = 0
        learner = LeadBiasLearner() if policy == "replan-debiased" else None
        index_of = {moment: i for i, moment in enumerate(times)}

        def actual_at(moment: datetime) -> float | None:
            i = index_of.get(moment)
            return self.series.values[i] if i is not None else None

        for t in self.arrivals:
            pending[t] = None
            try:
                forecast = provider.forecast("GB", times[t])
            except ProviderError:
                forecast = None
            if learner is not None and forecast is not None:
                forecast = learner.correct(forecast, actual_at)
            now = times[t]
            for a in list(pending):
                decided = plan(policy="replan" if learner else policy, now=now, deadline=times[self.latest_start(a)] + duration,
                               duration=duration, forecast=forecast,
                               previous_planned_start=pending[a],  # type: ignore[arg-type]
                               threshold_gco2_kwh=threshold_gco2_kwh, check_interval=step)
                if decided.action in (RUN, FORCE):
                    starts[a] = t
                    forced += decided.action == FORCE
                    del pending[a]
                else:
                    pending[a] = decided.planned_start
        return starts, forced

    def score(self, policy: str, starts: dict[int, int], oracle: dict[int, int], forced: int, forecast: str) -> PolicyScore:
        run_now = sum(self.window_kg[a] for a in self.arrivals)
        chosen = sum(self.window_kg[starts[a]] for a in self.arrivals)
        best = sum(self.window_kg[oracle[a]] for a in self.arrivals)
        possible = run_now - best
        return PolicyScore(
            policy=policy,
            jobs=len(self.arrivals),
            job_hours=self.job_hours,
            deadline_hours=self.deadline_hours,
            emissions_run_now=run_now,
            emissions_policy=chosen,
            emissions_oracle=best,
            saving_pct=100.0 * (run_now - chosen) / run_now,
            oracle_capture_pct=100.0 * (run_now - chosen) / possible if possible > 0 else 100.0,
            gap_to_oracle_pct=100.0 * (chosen - best) / run_now,
            forced=forced,
            forecast=forecast,
        )

    def run(self, policies: tuple[str, ...], provider: IntensityProvider, forecast_label: str,
            threshold_gco2_kwh: float = 150.0) -> list[PolicyScore]:
        oracle = self.starts_oracle()
        scores = []
        for policy in policies:
            if policy == "run-now":
                scores.append(self.score(policy, self.starts_run_now(), oracle, 0, "none"))
            elif policy == "oracle":
                scores.append(self.score(policy, oracle, oracle, 0, "perfect hindsight"))
            else:
                starts, forced = self.starts_policy(policy, provider, threshold_gco2_kwh)
                scores.append(self.score(policy, starts, oracle, forced, forecast_label))
        return scores
