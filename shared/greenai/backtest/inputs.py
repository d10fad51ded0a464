"""Backtest inputs: an actual-intensity series (any regular step of 5 minutes or more) read from CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from greenai.domain.jobs import ValidationError
from greenai.domain.timeutil import parse_utc


@dataclass(frozen=True)
class Series:
    """Actual intensity at a regular step; `values[i]` holds over [times[i], times[i] + step)."""

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    step: timedelta
    source: str

    def __len__(self) -> int:
        return len(self.values)

    def steps(self, hours: float, what: str) -> int:
        count = timedelta(hours=hours) / self.step
        if count < 1 or abs(count - round(count)) > 1e-9:
            raise ValidationError(what, f"{hours:g} h is not a whole number of the series' {self.step} steps")
        return int(round(count))


def read_series(path: Path) -> Series:
    """First column a time (`time`/`datetime_utc`/…), second the intensity in gCO2e/kWh."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 3:
        raise ValueError(f"{path}: needs a header and at least two rows")
    times: list[datetime] = []
    values: list[float] = []
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        try:
            times.append(parse_utc(row[0]))
            values.append(float(row[1]))
        except (ValueError, IndexError) as exc:
            raise ValueError(f"{path}:{line}: expected `time, intensity`, got {row!r} ({exc})") from None
    step = times[1] - times[0]
    if step < timedelta(minutes=5):
        raise ValueError(f"{path}: the step is {step}, finer than the 5 minutes supported")
    for line, (a, b) in enumerate(zip(times, times[1:], strict=False), start=3):
        if b - a != step:
            raise ValueError(f"{path}:{line}: irregular step ({b - a} after {step}); fill or resample the gap first")
    return Series(tuple(times), tuple(values), step, str(path))
