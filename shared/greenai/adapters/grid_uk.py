"""The UK National Grid ESO Carbon Intensity API (national and regional), called for real, validated, retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from greenai.adapters.http_json import JsonHttp, ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import floor_half_hour, parse_utc

UK_API_BASE = "https://api.carbonintensity.org.uk"

__all__ = ["ProviderError", "UKCarbonIntensityProvider", "parse_intensity_payload"]


def _api_time(moment: datetime) -> str:
    return floor_half_hour(moment).strftime("%Y-%m-%dT%H:%MZ")


def parse_intensity_payload(payload: Any, *, source: str) -> list[IntensityPoint]:
    """Validate a national or regional response and turn it into points; raise ProviderError on anything odd."""
    if not isinstance(payload, dict):
        raise ProviderError(f"{source}: response is not a JSON object")
    if "error" in payload:
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise ProviderError(f"{source}: API error: {message}")
    data = payload.get("data")
    # Regional endpoints nest the series as {"data": {"regionid": …, "data": [...]}} or [{"regionid": …, "data": [...]}].
    if isinstance(data, dict) and "data" in data:
        data = data["data"]
    elif isinstance(data, list) and data and isinstance(data[0], dict) and "data" in data[0] and "from" not in data[0]:
        data = data[0]["data"]
    if not isinstance(data, list) or not data:
        raise ProviderError(f"{source}: response has no data points")
    points: list[IntensityPoint] = []
    for index, row in enumerate(data):
        try:
            start = parse_utc(row["from"])
            end = parse_utc(row["to"])
            intensity = row["intensity"]
            forecast = intensity.get("forecast")
            actual = intensity.get("actual")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ProviderError(f"{source}: malformed data point {index}: {exc!r}") from None
        if forecast is None and actual is None:
            continue  # the API publishes empty slots at the edge of its horizon
        value = forecast if forecast is not None else actual
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 2000:
            raise ProviderError(f"{source}: implausible intensity {value!r} at point {index} (expected gCO2/kWh)")
        if actual is not None and (not isinstance(actual, int | float) or not 0 <= actual < 2000):
            raise ProviderError(f"{source}: implausible actual {actual!r} at point {index}")
        if end <= start:
            raise ProviderError(f"{source}: slot {index} ends before it starts")
        points.append(IntensityPoint(start, end, float(value), float(actual) if actual is not None else None))
    if not points:
        raise ProviderError(f"{source}: every data point was empty")
    if len(points) > 1 and max(p.forecast_gco2_kwh for p in points) < 2:
        # Single regions can read 0 g/kWh, but a whole curve under 2 g is a unit slip (kg/kWh), not a grid.
        raise ProviderError(f"{source}: every value is under 2 gCO2/kWh: wrong unit (kg/kWh?)")
    return points


class UKCarbonIntensityProvider:
    """National (`GB`), postcode (`RG10`) and region-id (`1`–`17`) forecasts 48 h ahead."""

    name = "uk-carbon-intensity"

    def __init__(self, base_url: str = UK_API_BASE, timeout_s: float = 5.0, retries: int = 2,
                 backoff_s: float = 0.5) -> None:
        self.http = JsonHttp(self.name, base_url, timeout_s, retries, backoff_s)

    def _get(self, path: str) -> Any:
        return self.http.get(path)

    def _region_path(self, region: str) -> str:
        if region == "GB":
            return ""
        if region.isdigit():
            return f"/regionid/{region}"
        if region[0].isalpha() and any(ch.isdigit() for ch in region):
            return f"/postcode/{region}"
        raise ProviderError(f"{self.name}: region {region!r} is not covered (GB only)")

    def forecast(self, region: str, now: datetime) -> Forecast:
        suffix = self._region_path(region)
        start = _api_time(now)
        path = f"/regional/intensity/{start}/fw48h{suffix}" if suffix else f"/intensity/{start}/fw48h"
        points = parse_intensity_payload(self._get(path), source=self.name)
        return Forecast(region=region, provider=self.name, fetched_at=now, points=tuple(points))

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        suffix = self._region_path(region)
        frm, to = _api_time(start), _api_time(end + timedelta(minutes=29))
        path = f"/regional/intensity/{frm}/{to}{suffix}" if suffix else f"/intensity/{frm}/{to}"
        points = parse_intensity_payload(self._get(path), source=self.name)
        return Forecast(region=region, provider=self.name, fetched_at=end, points=tuple(points))
