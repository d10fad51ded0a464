"""Planning policies on recorded forecasts (the real 2023-03-15 GB forecast) and on hand-made curves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from greenai.adapters.grid_replay import ReplayProvider
from greenai.domain.intensity import Forecast, IntensityPoint, window_mean
from greenai.domain.planning import FORCE, RUN, WAIT, best_window, plan
from greenai.domain.timeutil import HALF_HOUR, parse_utc

T0 = parse_utc("2023-03-15T08:00Z")


def curve(values: list[float], start=T0) -> Forecast:
    points = tuple(IntensityPoint(start + i * HALF_HOUR, start + (i + 1) * HALF_HOUR, v) for i, v in enumerate(values))
    return Forecast("GB", "test", start, points)


def test_window_mean_is_time_weighted_across_slots():
    forecast = curve([100, 200, 300])
    # 15 min of 100 then 30 min of 200 -> (100*15 + 200*30) / 45
    assert window_mean(forecast.points, T0 + timedelta(minutes=15), timedelta(minutes=45)) == pytest.approx(
        (100 * 15 + 200 * 30) / 45
    )
    assert window_mean(forecast.points, T0 + timedelta(hours=1), timedelta(hours=1)) is None  # beyond the horizon
    for offset_min, minutes in ((0, 30), (15, 45), (20, 70), (45, 15), (0, 90)):
        start = T0 + timedelta(minutes=offset_min)
        assert forecast.index.mean(start, timedelta(minutes=minutes)) == pytest.approx(
            window_mean(forecast.points, start, timedelta(minutes=minutes)))
    assert forecast.index.mean(T0 + timedelta(hours=1), timedelta(hours=1)) is None


def test_best_window_prefers_lowest_mean_and_earliest_on_ties():
    forecast = curve([300, 100, 100, 300, 100, 100])
    start, mean = best_window(forecast, T0, T0 + timedelta(hours=2), timedelta(hours=1))
    assert (start, mean) == (T0 + HALF_HOUR, 100)


def test_replan_waits_for_greener_window_then_runs_when_it_arrives():
    forecast = curve([300, 250, 90, 95, 300, 300])
    deadline = T0 + timedelta(hours=3)
    first = plan(policy="replan", now=T0, deadline=deadline, duration=timedelta(minutes=30), forecast=forecast)
    assert first.action == WAIT
    assert first.planned_start == T0 + 2 * HALF_HOUR
    assert first.planned_mean_intensity == 90
    assert first.run_now_mean_intensity == 300
    later = plan(policy="replan", now=T0 + 2 * HALF_HOUR, deadline=deadline, duration=timedelta(minutes=30),
                 forecast=curve([90, 95, 300, 300], T0 + 2 * HALF_HOUR))
    assert later.action == RUN


def test_force_at_latest_start_whatever_the_forecast():
    forecast = curve([400, 400, 50, 50])
    deadline = T0 + timedelta(hours=1)
    decided = plan(policy="replan", now=T0 + HALF_HOUR, deadline=deadline, duration=timedelta(minutes=30),
                   forecast=forecast)
    assert decided.action == FORCE


def test_no_forecast_waits_until_latest_start_and_says_why():
    decided = plan(policy="replan", now=T0, deadline=T0 + timedelta(hours=5), duration=timedelta(hours=1), forecast=None)
    assert decided.action == WAIT
    assert decided.planned_start == T0 + timedelta(hours=4)
    assert "no forecast" in decided.reason


def test_threshold_runs_only_under_threshold():
    assert plan(policy="threshold", now=T0, deadline=T0 + timedelta(hours=5), duration=HALF_HOUR,
                forecast=curve([120] * 10), threshold_gco2_kwh=150).action == RUN
    waiting = plan(policy="threshold", now=T0, deadline=T0 + timedelta(hours=5), duration=HALF_HOUR,
                   forecast=curve([220] * 10), threshold_gco2_kwh=150)
    assert waiting.action == WAIT and waiting.planned_start == T0 + timedelta(minutes=30)


def test_forecast_window_keeps_its_first_choice():
    forecast = curve([300, 50, 300, 300, 300, 20])
    decided = plan(policy="forecast-window", now=T0, deadline=T0 + timedelta(hours=3), duration=HALF_HOUR,
                   forecast=forecast, previous_planned_start=T0 + HALF_HOUR)
    assert decided.action == WAIT and decided.planned_start == T0 + HALF_HOUR


def test_replan_on_the_real_forecast_of_2023_03_15_defers_the_morning_peak():
    replay = ReplayProvider.shipped()
    forecast = replay.forecast("GB", T0)
    decided = plan(policy="replan", now=T0, deadline=parse_utc("2023-03-16T08:00Z"), duration=timedelta(minutes=15),
                   forecast=forecast)
    assert decided.action == WAIT
    assert decided.intensity_now == 253  # the forecast for 08:00 as published at 08:00
    assert decided.planned_mean_intensity < decided.run_now_mean_intensity - 100
