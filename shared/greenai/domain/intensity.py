"""Grid carbon intensity as the domain sees it: time slots with a forecast and, once known, an actual value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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

    @property
    def horizon_end(self) -> datetime | None:
        return self.points[-1].end if self.points else None

    def point_at(self, moment: datetime) -> IntensityPoint | None:
        """The slot containing `moment`, if the forecast covers it."""
        for point in self.points:
            if point.start <= moment < point.end:
                return point
        return None

    def as_records(self) -> list[dict[str, object]]:
        """The forecast as DESIGN.md's decision log stores it: `[{from, to, forecast}]` (plus `actual` where known)."""
        records: list[dict[str, object]] = []
        for p in self.points:
            record: dict[str, object] = {"from": format_utc(p.start), "to": format_utc(p.end), "forecast": p.forecast_gco2_kwh}
            if p.actual_gco2_kwh is not None:
                record["actual"] = p.actual_gco2_kwh
            records.append(record)
        return records


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


def intensity_band(gco2_kwh: float) -> str:
    """The UK Carbon Intensity API's index band for an intensity."""
    if gco2_kwh < 50:
        return "very low"
    if gco2_kwh < 150:
        return "low"
    if gco2_kwh < 250:
        return "moderate"
    if gco2_kwh < 350:
        return "high"
    return "very high"
