"""Planning policies: given a job, the time now and a forecast, decide to run, wait or force (pure functions).

The check function and the backtester call the same code, so what is scored is what runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from greenai.domain.intensity import Forecast, IntensityPoint

RUN, WAIT, FORCE = "run", "wait", "force"
# A planned start this close to now counts as "now": the next check is at least this far away anyway.
NOW_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Plan:
    """What a policy decided for one job at one moment, and the figures it decided on."""

    action: str  # run | wait | force
    reason: str
    planned_start: datetime
    planned_mean_intensity: float | None
    run_now_mean_intensity: float | None
    intensity_now: float | None


def candidate_starts(now: datetime, latest_start: datetime, points: Sequence[IntensityPoint]) -> list[datetime]:
    """Now, then every slot boundary after now up to the latest start."""
    starts = [now]
    starts.extend(p.start for p in points if now < p.start <= latest_start)
    return starts


def best_window(
    forecast: Forecast, now: datetime, latest_start: datetime, duration: timedelta
) -> tuple[datetime, float] | None:
    """The start with the lowest mean forecast over the job's duration (ties to the earliest), or None if none is covered."""
    best: tuple[datetime, float] | None = None
    index = forecast.index
    for start in candidate_starts(now, latest_start, forecast.points):
        mean = index.mean(start, duration)
        if mean is not None and (best is None or mean < best[1] - 1e-9):
            best = (start, mean)
    return best


def plan(
    *,
    policy: str,
    now: datetime,
    deadline: datetime,
    duration: timedelta,
    forecast: Forecast | None,
    previous_planned_start: datetime | None = None,
    threshold_gco2_kwh: float = 150.0,
    check_interval: timedelta = timedelta(minutes=30),
) -> Plan:
    """Decide for one job. `forecast` None means every source failed: wait, and run by the latest start."""
    latest_start = deadline - duration
    points = forecast.points if forecast else ()
    now_point = forecast.point_at(now) if forecast else None
    intensity_now = now_point.best_gco2_kwh if now_point else None
    run_now_mean = forecast.index.mean(now, duration) if forecast and points else None

    def decided(action: str, reason: str, start: datetime, mean: float | None) -> Plan:
        return Plan(action, reason, start, mean, run_now_mean, intensity_now)

    if now >= latest_start - NOW_TOLERANCE:
        return decided(FORCE, "latest start reached: starting now to finish by the deadline", now, run_now_mean)
    if forecast is None or not points:
        return decided(WAIT, "no forecast from any source: waiting, will run by the latest start", latest_start, None)

    if policy == "threshold":
        if intensity_now is not None and intensity_now < threshold_gco2_kwh:
            return decided(RUN, f"intensity now {intensity_now:.0f} is under the threshold {threshold_gco2_kwh:.0f}", now, run_now_mean)
        next_check = min(now + check_interval, latest_start)
        shown = "unknown" if intensity_now is None else f"{intensity_now:.0f}"
        return decided(WAIT, f"intensity now {shown} is not under the threshold {threshold_gco2_kwh:.0f}", next_check, None)

    if policy == "forecast-window" and previous_planned_start is not None:
        # Decided once at the first check; later checks only start it when its time has come.
        if now >= previous_planned_start - NOW_TOLERANCE:
            return decided(RUN, "the window chosen at submission has started", now, run_now_mean)
        return decided(WAIT, "keeping the window chosen at submission", previous_planned_start,
                       forecast.index.mean(previous_planned_start, duration))

    best = best_window(forecast, now, latest_start, duration)
    if best is None:
        return decided(WAIT, "the forecast does not cover any window before the deadline: will run by the latest start",
                       latest_start, None)
    start, mean = best
    if start - now <= NOW_TOLERANCE:
        return decided(RUN, f"now is the greenest window before the deadline ({mean:.0f} gCO2/kWh)", now, mean)
    saving = (run_now_mean - mean) if run_now_mean is not None else None
    detail = f", {saving:.0f} g/kWh below starting now" if saving is not None else ""
    return decided(WAIT, f"greener window at the planned start ({mean:.0f} gCO2/kWh{detail})", start, mean)
