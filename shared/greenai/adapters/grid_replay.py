"""Replayed grid data: real forecasts as they were issued and the actuals that followed, read from CSV files.

At a simulated `now`, the forecast is the latest snapshot captured at or before `now` — what a scheduler would have
known then — and actuals are only those of slots that ended by `now`.
"""

from __future__ import annotations

import bisect
import csv
from collections import defaultdict
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path

from greenai.adapters.http_json import ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import HALF_HOUR, parse_utc

REPLAY_DATASETS = {
    "gb-forecast-real-2023-03": (
        "gb-forecast-real-2023-03/gb_national_fw48h_snapshots_2023-03-14_to_18.csv",
        "gb-forecast-real-2023-03/gb_national_actual_2023-03-14_to_18.csv",
    ),
}

Snapshots = dict[datetime, list[tuple[datetime, float]]]


def data_path(relative: str) -> Path:
    """A data file shipped inside the package (see greenai/data/README.md for sources and licences)."""
    return Path(str(resources.files("greenai") / "data" / relative))


def read_snapshots(path: Path) -> Snapshots:
    """`captured_utc, window_from_utc, forecast_gco2_per_kwh` rows, grouped by capture time."""
    snapshots: Snapshots = defaultdict(list)
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"captured_utc", "window_from_utc", "forecast_gco2_per_kwh"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: forecast snapshots need the columns {', '.join(sorted(missing))}")
        for line, row in enumerate(reader, start=2):
            try:
                snapshots[parse_utc(row["captured_utc"])].append(
                    (parse_utc(row["window_from_utc"]), float(row["forecast_gco2_per_kwh"]))
                )
            except ValueError as exc:
                raise ValueError(f"{path}:{line}: {exc}") from None
    return dict(snapshots)


def read_actuals(path: Path) -> dict[datetime, float]:
    """`window_from_utc, actual_gco2_per_kwh` rows; a missing file means no actuals (a saved live forecast)."""
    actuals: dict[datetime, float] = {}
    if not path.is_file():
        return actuals
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            value = row.get("actual_gco2_per_kwh")
            if value not in (None, ""):
                actuals[parse_utc(row["window_from_utc"])] = float(value)
    return actuals


class ReplayProvider:
    """Forecast snapshots and actuals served as of a simulated `now` (national data for every GB region)."""

    name = "replay"

    def __init__(self, snapshots: Snapshots, actuals: dict[datetime, float], label: str = "replay",
                 max_snapshot_age: timedelta = timedelta(hours=6), slot: timedelta = HALF_HOUR) -> None:
        self.label = label
        self.max_snapshot_age = max_snapshot_age
        self.slot = slot
        self._snapshots = snapshots
        self._captures = sorted(snapshots)
        self._actuals = actuals

    @classmethod
    def from_csv(cls, snapshots_csv: Path, actuals_csv: Path, label: str = "replay",
                 max_snapshot_age: timedelta = timedelta(hours=6)) -> ReplayProvider:
        return cls(read_snapshots(snapshots_csv), read_actuals(actuals_csv), label, max_snapshot_age)

    @classmethod
    def shipped(cls, dataset: str = "gb-forecast-real-2023-03") -> ReplayProvider:
        return _shipped(dataset)

    def forecast(self, region: str, now: datetime) -> Forecast:
        index = bisect.bisect_right(self._captures, now) - 1
        if index < 0:
            raise ProviderError(f"{self.label}: no forecast snapshot captured before {now:%Y-%m-%dT%H:%MZ}")
        captured = self._captures[index]
        if now - captured > self.max_snapshot_age:
            raise ProviderError(f"{self.label}: newest snapshot ({captured:%Y-%m-%dT%H:%MZ}) is too old at {now:%Y-%m-%dT%H:%MZ}")
        points = []
        for start, value in self._snapshots[captured]:
            end = start + self.slot
            if end <= now:
                continue
            actual = self._actuals.get(start) if end <= now else None
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
            points.append(IntensityPoint(slot, slot + self.slot, actual, actual))
            slot += self.slot
        return Forecast(region=region, provider=self.label, fetched_at=end, points=tuple(points))


@cache
def _shipped(dataset: str) -> ReplayProvider:
    if dataset not in REPLAY_DATASETS:
        raise ProviderError(f"unknown replay dataset {dataset!r} (known: {', '.join(REPLAY_DATASETS)})")
    snapshots, actuals = REPLAY_DATASETS[dataset]
    return ReplayProvider.from_csv(data_path(snapshots), data_path(actuals), label=f"replay:{dataset}")
