"""Learning a forecast's recent bias by lead time from how its past forecasts compared with the actuals (pure).

Real GB forecasts run low, more so further ahead (about −1 g at 0–6 h to −20 g at 36–48 h in March 2023). A planner
that trusts a far window's low forecast waits for greenness that does not come; subtracting the recent mean error at
each lead puts near and far windows back on the same footing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from greenai.domain.intensity import Forecast, IntensityPoint

LEAD_BUCKET = timedelta(hours=6)


class LeadBiasLearner:
    """Remembers issued forecasts; corrects a new one by the mean error per lead bucket over a trailing window."""

    def __init__(self, memory: timedelta = timedelta(days=7), min_pairs: int = 12) -> None:
        self.memory = memory
        self.min_pairs = min_pairs
        self._issued: deque[Forecast] = deque()

    def observe(self, forecast: Forecast) -> None:
        self._issued.append(forecast)

    def bias_by_bucket(self, now: datetime, actual_at: Callable[[datetime], float | None]) -> dict[int, float]:
        """Mean (forecast − actual) per 6-hour lead bucket, over slots that have ended by `now`."""
        while self._issued and self._issued[0].fetched_at < now - self.memory - timedelta(hours=48):
            self._issued.popleft()
        sums: dict[int, float] = {}
        counts: dict[int, int] = {}
        for issued in self._issued:
            for point in issued.points:
                if point.end > now or point.start < now - self.memory:
                    continue
                actual = actual_at(point.start)
                if actual is None:
                    continue
                bucket = int((point.start - issued.fetched_at) / LEAD_BUCKET)
                sums[bucket] = sums.get(bucket, 0.0) + point.forecast_gco2_kwh - actual
                counts[bucket] = counts.get(bucket, 0) + 1
        return {b: sums[b] / counts[b] for b in sums if counts[b] >= self.min_pairs}

    def correct(self, forecast: Forecast, actual_at: Callable[[datetime], float | None]) -> Forecast:
        bias = self.bias_by_bucket(forecast.fetched_at, actual_at)
        self.observe(forecast)
        if not bias:
            return forecast
        points = []
        for p in forecast.points:
            bucket = int((p.start - forecast.fetched_at) / LEAD_BUCKET)
            shift = bias.get(bucket, 0.0)
            points.append(IntensityPoint(p.start, p.end, max(p.forecast_gco2_kwh - shift, 0.0), p.actual_gco2_kwh))
        note = "bias-corrected by lead: " + ", ".join(f"{b * 6}-{b * 6 + 6} h {v:+.1f}" for b, v in sorted(bias.items()))
        return replace(forecast, points=tuple(points), notes=(*forecast.notes, note))
