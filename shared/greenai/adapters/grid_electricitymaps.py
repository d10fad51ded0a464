"""Electricity Maps v3: the zone's latest carbon intensity and its forecast (paid plans), life-cycle gCO2e/kWh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from greenai.adapters.http_json import JsonHttp, ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import parse_utc

ELECTRICITYMAPS_BASE = "https://api.electricitymap.org/v3"


def _value(row: Any, index: int, source: str) -> tuple[datetime, float]:
    try:
        moment = parse_utc(row["datetime"])
        value = row["carbonIntensity"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProviderError(f"{source}: malformed point {index}: {exc!r}") from None
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 2000:
        raise ProviderError(f"{source}: implausible carbonIntensity {value!r} at point {index} (expected gCO2eq/kWh)")
    return moment, float(value)


def parse_forecast(payload: Any, latest: Any | None, *, zone: str, source: str = "electricitymaps") -> list[IntensityPoint]:
    """`{zone, forecast:[{carbonIntensity, datetime}]}` (+ `latest` for the current slot) into contiguous points."""
    if not isinstance(payload, dict) or not isinstance(payload.get("forecast"), list) or not payload["forecast"]:
        raise ProviderError(f"{source}: forecast response has no forecast list")
    if payload.get("zone") not in (None, zone):
        raise ProviderError(f"{source}: asked for zone {zone}, got {payload.get('zone')}")
    rows = [_value(row, i, source) for i, row in enumerate(payload["forecast"])]
    if latest is not None:
        if not isinstance(latest, dict):
            raise ProviderError(f"{source}: latest response is not an object")
        first = _value(latest, -1, source)
        if first[0] < rows[0][0]:
            rows.insert(0, first)
    rows.sort()
    step = rows[1][0] - rows[0][0] if len(rows) > 1 else timedelta(hours=1)
    if step <= timedelta(0):
        raise ProviderError(f"{source}: duplicate forecast times")
    return [IntensityPoint(start, start + step, value) for start, value in rows]


class ElectricityMapsProvider:
    name = "electricitymaps"

    def __init__(self, token: Callable[[], str], base_url: str = ELECTRICITYMAPS_BASE, timeout_s: float = 5.0,
                 retries: int = 2, backoff_s: float = 0.5) -> None:
        self.token = token
        self.http = JsonHttp(self.name, base_url, timeout_s, retries, backoff_s)

    def forecast(self, region: str, now: datetime) -> Forecast:
        headers = {"auth-token": self.token()}
        forecast = self.http.get("/carbon-intensity/forecast", params={"zone": region}, headers=headers)
        latest = self.http.get("/carbon-intensity/latest", params={"zone": region}, headers=headers)
        points = [p for p in parse_forecast(forecast, latest, zone=region) if p.end > now]
        if not points:
            raise ProviderError(f"{self.name}: forecast for {region} ends before now")
        return Forecast(region, self.name, now, tuple(points),
                        notes=("Electricity Maps life-cycle carbon intensity",))

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        history = self.http.get("/carbon-intensity/past-range",
                                params={"zone": region, "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
                                headers={"auth-token": self.token()})
        rows = history.get("data") if isinstance(history, dict) else None
        if not isinstance(rows, list) or not rows:
            raise ProviderError(f"{self.name}: no history for {region}")
        points = parse_forecast({"zone": region, "forecast": rows}, None, zone=region)
        return Forecast(region, self.name, end, tuple(IntensityPoint(p.start, p.end, p.forecast_gco2_kwh,
                                                                     p.forecast_gco2_kwh) for p in points))
