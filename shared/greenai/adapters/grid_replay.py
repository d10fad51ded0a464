"""Replayed grid data: real forecasts as they were issued and the actuals that followed, read from CSV files.

At a simulated `now`, the forecast is the latest snapshot captured at or before `now` — what a scheduler would have
known then — and actuals are only those of slots that started before `now`.
"""

from __future__ import annotations

import bisect
import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from greenai.adapters.grid_uk import ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import HALF_HOUR, parse_utc

REPLAY_DATASETS = {
    "gb-forecast-real-2023-03": (
        "gb-forecast-real-2023-03/gb_national_fw48h_snapshots_2023-03-14_to_18.csv",
        "gb-forecast-real-2023-03/gb_national_actual_2023-03-14_to_18.csv",
    ),
}


def data_path(relative: str) -> Path:
    """A data file shipped inside the package (see greenai/data/README.md for sources and licences)."""
    return Path(str(resources.files("greenai") / "data" / relative))


class ReplayProvider:
    """Forecast snapshots and actuals from CSV, served as of a simulated `now` (national data for every GB region)."""

    name = "replay"

    def __init__(self, snapshots_csv: Path, actuals_csv: Path, label: str = "replay",
                 max_snapshot_age: timedelta = timedelta(hours=6)) -> None:
        self.label = label
        self.max_snapshot_age = max_snapshot_age
        self._snapshots: dict[datetime, list[tuple[datetime, float]]] = defaultdict(list)
        with open(snapshots_csv, newline="") as handle:
            for row in csv.DictReader(handle):
                self._snapshots[parse_utc(row["captured_utc"])].append(
                    (parse_utc(row["window_from_utc"]), float(row["forecast_gco2_per_kwh"]))
                )
        self._captures = sorted(self._snapshots)
        self._actuals: dict[datetime, float] = {}
        with open(actuals_csv, newline="") if actuals_csv.is_file() else io.StringIO("") as handle:
            for row in csv.DictReader(handle):
                value = row.get("actual_gco2_per_kwh")
                if value not in (None, ""):
                    self._actuals[parse_utc(row["window_from_utc"])] = float(value)

    @classmethod
    def shipped(cls, dataset: str = "gb-forecast-real-2023-03") -> ReplayProvider:
        return _shipped(dataset)

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The period over which both a forecast and actuals exist."""
        return self._captures[0], max(self._actuals) + HALF_HOUR

    def forecast(self, region: str, now: datetime) -> Forecast:
        index = bisect.bisect_right(self._captures, now) - 1
        if index < 0:
            raise ProviderError(f"{self.label}: no forecast snapshot captured before {now:%Y-%m-%dT%H:%MZ}")
        captured = self._captures[index]
        if now - captured > self.max_snapshot_age:
            raise ProviderError(f"{self.label}: newest snapshot ({captured:%Y-%m-%dT%H:%MZ}) is too old at {now:%Y-%m-%dT%H:%MZ}")
        points = []
        for start, value in self._snapshots[captured]:
            end = start + HALF_HOUR
            if end <= now:
                continue
            actual = self._actuals.get(start) if start + HALF_HOUR <= now else None
            points.append(IntensityPoint(start, end, value, actual))
        if not points:
            raise ProviderError(f"{self.label}: snapshot {captured:%Y-%m-%dT%H:%MZ} has no slot after now")
        return Forecast(region=region, provider=self.label, fetched_at=now, points=tuple(points),
                        notes=(f"snapshot captured {captured:%Y-%m-%dT%H:%MZ}; national series for region {region}",))

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        points = []
        slot = start.replace(minute=30 if start.minute >= 30 else 0, second=0, microsecond=0)
        while slot < end:
            actual = self._actuals.get(slot)
            if actual is None:
                raise ProviderError(f"{self.label}: no actual for {slot:%Y-%m-%dT%H:%MZ}")
            points.append(IntensityPoint(slot, slot + HALF_HOUR, actual, actual))
            slot += HALF_HOUR
        return Forecast(region=region, provider=self.label, fetched_at=end, points=tuple(points))


@cache
def _shipped(dataset: str) -> ReplayProvider:
    if dataset not in REPLAY_DATASETS:
        raise ProviderError(f"unknown replay dataset {dataset!r} (known: {', '.join(REPLAY_DATASETS)})")
    snapshots, actuals = REPLAY_DATASETS[dataset]
    return ReplayProvider(data_path(snapshots), data_path(actuals), label=f"replay:{dataset}")
