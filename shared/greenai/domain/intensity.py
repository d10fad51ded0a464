"""Grid carbon intensity as the domain sees it: time slots with a forecast and, once known, an actual value."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from greenai.domain.timeutil import format_utc


@dataclass(frozen=True, slots=True)
class IntensityPoint:
    """One slot [start, end) of grid intensity in gCO2e/kWh; `actual_gco2_kwh` is None until the slot is measured."""

    start: datetime
    end: datetime
    forecast_gco2_kwh: float
    actual_gco2_kwh: float | None = None

    @property
    def best_gco2_kwh(self) -> float:
        """The actual where known, else the forecast."""
        return self.actual_gco2_kwh if self.actual_gco2_kwh is not None else self.forecast_gco2_kwh


@dataclass(frozen=True)
class Forecast:
    """An intensity forecast for one region as one provider published it at `fetched_at`, sorted by slot start."""

    region: str
    provider: str
    fetched_at: datetime
    points: tuple[IntensityPoint, ...]
    signal: str = "average"  # "average" (location-based gCO2e/kWh) or "marginal" (converted MOER)
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.points, key=lambda p: p.start))
        object.__setattr__(self, "points", ordered)

    @cached_property
    def index(self) -> WindowIndex:
        """Prefix sums over the forecast, built once and shared by every job planned on it."""
        return WindowIndex(self.points)

    def point_at(self, moment: datetime) -> IntensityPoint | None:
        """The slot containing `moment`, if the forecast covers it."""
        for point in self.points:
            if point.start <= moment < point.end:
                return point
        return None

    def as_records(self) -> list[dict[str, object]]:
        """The forecast as DESIGN.md's decision log stores it: `[{from, to, forecast}]` (plus `actual` where known).

        Built once per forecast and shared by every decision made on it: treat it as read-only."""
        return self._records

    @cached_property
    def _records(self) -> list[dict[str, object]]:
        records: list[dict[str, object]] = []
        for p in self.points:
            record: dict[str, object] = {"from": format_utc(p.start), "to": format_utc(p.end), "forecast": p.forecast_gco2_kwh}
            if p.actual_gco2_kwh is not None:
                record["actual"] = p.actual_gco2_kwh
            records.append(record)
        return records


class WindowIndex:
    """Time-weighted window means over contiguous slots in O(log n): cumulative integrals at slot boundaries."""

    def __init__(self, points: Sequence[IntensityPoint], *, use_actual: bool = False) -> None:
        self.points = points
        self.use_actual = use_actual
        self.bounds: list[float] = []
        self.cumulative: list[float] = []
        self.contiguous = all(a.end == b.start for a, b in zip(points, points[1:], strict=False))
        if not points or not self.contiguous:
            return
        total = 0.0
        self.bounds.append(points[0].start.timestamp())
        self.cumulative.append(0.0)
        for p in points:
            value = p.best_gco2_kwh if use_actual else p.forecast_gco2_kwh
            total += value * (p.end - p.start).total_seconds()
            self.bounds.append(p.end.timestamp())
            self.cumulative.append(total)

    def _integral_to(self, t: float) -> float:
        """∫ intensity dt from the first boundary to t (t within the covered span)."""
        i = bisect.bisect_right(self.bounds, t) - 1
        if i >= len(self.points):
            return self.cumulative[-1]
        p = self.points[i]
        value = p.best_gco2_kwh if self.use_actual else p.forecast_gco2_kwh
        return self.cumulative[i] + value * (t - self.bounds[i])

    def mean(self, start: datetime, duration: timedelta) -> float | None:
        if not self.contiguous:
            return window_mean(self.points, start, duration, use_actual=self.use_actual)
        if not self.bounds:
            return None
        a = start.timestamp()
        seconds = duration.total_seconds()
        if seconds <= 0:
            point = next((p for p in self.points if p.start <= start < p.end), None)
            return None if point is None else (point.best_gco2_kwh if self.use_actual else point.forecast_gco2_kwh)
        b = a + seconds
        if a < self.bounds[0] or b > self.bounds[-1] + 1.0:
            return None
        return (self._integral_to(min(b, self.bounds[-1])) - self._integral_to(a)) / seconds


def window_mean(
    points: Sequence[IntensityPoint], start: datetime, duration: timedelta, *, use_actual: bool = False
) -> float | None:
    """Time-weighted mean intensity over [start, start + duration), or None where the points do not cover it all.

    With `use_actual`, each slot contributes its actual value (falling back to its forecast where no actual exists).
    """
    end = start + duration
    if duration <= timedelta(0):
        point = next((p for p in points if p.start <= start < p.end), None)
        if point is None:
            return None
        return point.best_gco2_kwh if use_actual else point.forecast_gco2_kwh
    covered = timedelta(0)
    weighted = 0.0
    for p in points:
        overlap = min(end, p.end) - max(start, p.start)
        if overlap <= timedelta(0):
            continue
        value = p.best_gco2_kwh if use_actual else p.forecast_gco2_kwh
        weighted += value * overlap.total_seconds()
        covered += overlap
    if covered < duration - timedelta(seconds=1):
        return None
    return weighted / covered.total_seconds()
