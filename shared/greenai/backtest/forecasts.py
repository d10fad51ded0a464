"""Forecasts for a backtest: real snapshots as they were issued, or a seeded synthetic model of the GB forecast's error.

The synthetic model: the forecast issued at t for slot T is `actual(T) + s(T − t) · u(T)`, where `u` is a unit-variance
AR(1) series over target slots (ρ = 0.95 per hour, so errors are correlated along the horizon and persist from one
issue to the next) and `s(lead)` is set so the mean absolute error at each lead equals the real GB national forecast's
per lead bucket (shared/greenai/data/README.md): 11.8 (0–6 h), 19.5 (6–12 h), 21.4 (12–24 h), 27.2 (24–36 h),
33.1 (36–48 h) gCO2/kWh. For a normal error, MAE = s·√(2/π).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from greenai.adapters.http_json import ProviderError
from greenai.backtest.inputs import Series
from greenai.domain.intensity import Forecast, IntensityPoint

# (lead bucket upper bound in hours, published MAE in gCO2/kWh)
GB_FORECAST_MAE_BY_LEAD = ((6.0, 11.8), (12.0, 19.5), (24.0, 21.4), (36.0, 27.2), (48.0, 33.1))
HORIZON = timedelta(hours=48)
AR1_RHO_PER_HOUR = 0.95


def mae_at_lead(lead_hours: float) -> float:
    for bound, mae in GB_FORECAST_MAE_BY_LEAD:
        if lead_hours < bound:
            return mae
    return GB_FORECAST_MAE_BY_LEAD[-1][1]


class SyntheticForecasts:
    """An IntensityProvider over a series' actuals with the seeded, lead-dependent error model above."""

    name = "synthetic"

    def __init__(self, series: Series, seed: int = 2024) -> None:
        self.series = series
        self.seed = seed
        rng = random.Random(seed)
        rho = AR1_RHO_PER_HOUR ** (series.step / timedelta(hours=1))
        innovation = math.sqrt(1 - rho * rho)
        unit: list[float] = []
        state = rng.gauss(0.0, 1.0)
        for _ in series.values:
            unit.append(state)
            state = rho * state + innovation * rng.gauss(0.0, 1.0)
        self.unit_error = unit
        self._index = {t: i for i, t in enumerate(series.times)}

    def forecast(self, region: str, now: datetime) -> Forecast:
        first = self._index.get(now)
        if first is None:
            raise ProviderError(f"synthetic: {now} is not a step of the series")
        step = self.series.step
        count = min(int(HORIZON / step), len(self.series) - first)
        scale = math.sqrt(math.pi / 2)
        points = []
        for offset in range(count):
            i = first + offset
            lead_hours = offset * step / timedelta(hours=1)
            value = self.series.values[i] + mae_at_lead(lead_hours) * scale * self.unit_error[i]
            start = self.series.times[i]
            points.append(IntensityPoint(start, start + step, max(value, 0.0)))
        return Forecast(region, f"synthetic(seed={self.seed})", now, tuple(points))

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        raise ProviderError("synthetic: actuals come from the series itself")
