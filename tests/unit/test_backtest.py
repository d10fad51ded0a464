"""The backtester: the oracle reproduces published figures; our policy meets its bars on GB history."""

from __future__ import annotations

import json
import statistics
from datetime import timedelta
from functools import cache

import pytest

from greenai.adapters.grid_replay import ReplayProvider, data_path, read_snapshots
from greenai.backtest.engine import Backtest
from greenai.backtest.forecasts import GB_FORECAST_MAE_BY_LEAD, SyntheticForecasts
from greenai.backtest.inputs import read_series
from greenai.cli import SHIPPED_FORECASTS, SHIPPED_SERIES, main
from greenai.domain.jobs import ValidationError


@cache
def gb_2022():
    return read_series(data_path(SHIPPED_SERIES["gb-2022"]))


@cache
def gb_2023_03():
    return read_series(data_path(SHIPPED_SERIES["gb-2023-03"]))


@pytest.mark.parametrize(("job_hours", "published"), [(1, 23.0), (6, 19.8), (12, 14.7), (24, 9.7)])
def test_oracle_reproduces_sukprasert_et_al_2024_for_gb_with_24h_slack(job_hours, published):
    """EuroSys 2024 'On the Limitations of Carbon-Aware Temporal and Spatial Workload Shifting', GB, 24 h slack."""
    backtest = Backtest(gb_2022(), job_hours, job_hours + 24)
    oracle = backtest.run(("oracle",), SyntheticForecasts(gb_2022()), "unused")[0]
    assert oracle.jobs == 8760 - job_hours + 1
    assert oracle.saving_pct == pytest.approx(published, abs=0.2)


def test_synthetic_forecast_error_grows_with_lead_as_the_real_gb_forecast():
    series = gb_2022()
    model = SyntheticForecasts(series, seed=7)
    errors: dict[float, list[float]] = {bound: [] for bound, _ in GB_FORECAST_MAE_BY_LEAD}
    for t in range(0, 8000, 5):
        forecast = model.forecast("GB", series.times[t])
        for lead, point in enumerate(forecast.points):
            bucket = next(bound for bound, _ in GB_FORECAST_MAE_BY_LEAD if lead < bound)
            errors[bucket].append(abs(point.forecast_gco2_kwh - series.values[t + lead]))
    for bound, published in GB_FORECAST_MAE_BY_LEAD:
        assert statistics.mean(errors[bound]) == pytest.approx(published, rel=0.12), bound
    # the same seed gives the same forecasts
    again = SyntheticForecasts(series, seed=7).forecast("GB", series.times[100])
    assert again.points == model.forecast("GB", series.times[100]).points


@pytest.mark.parametrize(("job_hours", "deadline_hours"), [(1, 12), (2, 24), (8, 24)])
def test_replan_on_gb_2022_synthetic_forecasts_beats_the_others_and_nears_the_oracle(job_hours, deadline_hours):
    series = gb_2022()
    scores = {s.policy: s for s in Backtest(series, job_hours, deadline_hours).run(
        ("threshold", "forecast-window", "replan"), SyntheticForecasts(series), "synthetic")}
    assert scores["replan"].saving_pct >= scores["forecast-window"].saving_pct
    assert scores["replan"].saving_pct >= scores["threshold"].saving_pct
    if (job_hours, deadline_hours) == (2, 24):
        assert scores["replan"].oracle_capture_pct >= 90.0


@pytest.mark.parametrize(("job_hours", "deadline_hours"), [(1, 6), (1, 12), (2, 24), (4, 12), (8, 24)])
def test_replan_on_real_forecasts_as_issued_beats_forecast_window(job_hours, deadline_hours):
    series = gb_2023_03()
    provider = ReplayProvider(read_snapshots(data_path(SHIPPED_FORECASTS["gb-2023-03"])), {}, slot=series.step)
    scores = {s.policy: s for s in Backtest(series, job_hours, deadline_hours).run(
        ("forecast-window", "replan"), provider, "real")}
    assert scores["replan"].saving_pct > scores["forecast-window"].saving_pct
    if (job_hours, deadline_hours) == (2, 24):
        assert scores["replan"].oracle_capture_pct >= 80.0


def test_cli_json_has_the_design_fields(capsys):
    assert main(["backtest", "--intensity", "gb-2023-03", "--job-hours", "2", "--deadline-hours", "12",
                 "--policy", "all", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in rows] == ["run-now", "threshold", "forecast-window", "replan", "replan-debiased", "oracle"]
    for row in rows:
        assert {"policy", "jobs", "job_hours", "deadline_hours", "emissions_run_now", "emissions_policy",
                "emissions_oracle", "saving_pct", "oracle_capture_pct"} <= row.keys()
        assert row["emissions_policy"] >= row["emissions_oracle"] - 1e-9


def test_bad_backtest_input_names_the_field(tmp_path, capsys):
    irregular = tmp_path / "gappy.csv"
    irregular.write_text("time,intensity\n2023-01-01T00:00Z,100\n2023-01-01T01:00Z,120\n2023-01-01T03:00Z,90\n")
    assert main(["backtest", "--intensity", str(irregular), "--job-hours", "1", "--deadline-hours", "2"]) == 2
    assert "irregular step" in capsys.readouterr().err
    with pytest.raises(ValidationError, match="shorter than the job"):
        Backtest(gb_2023_03(), 4, 2)
    assert timedelta(hours=1) == gb_2022().step
