"""Composing grid sources: a fallback chain, routing by region, and the last good forecast kept for bad days."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from greenai.adapters.http_json import ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import format_utc, parse_utc
from greenai.ports import ArtifactStore, IntensityProvider


class FallbackProvider:
    name = "fallback"

    def __init__(self, providers: Sequence[IntensityProvider]) -> None:
        if not providers:
            raise ValueError("a fallback chain needs at least one provider")
        self.providers = list(providers)

    def _first(self, call: str, region: str, *args: datetime) -> Forecast:
        failures: list[str] = []
        for provider in self.providers:
            try:
                result: Forecast = getattr(provider, call)(region, *args)
            except ProviderError as exc:
                failures.append(str(exc))
                continue
            if failures:
                return replace(result, notes=(*result.notes, *(f"fell back after: {f}" for f in failures)))
            return result
        raise ProviderError("every grid source failed: " + " | ".join(failures))

    def forecast(self, region: str, now: datetime) -> Forecast:
        return self._first("forecast", region, now)

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        return self._first("actuals", region, start, end)


def is_gb_region(region: str) -> bool:
    """GB national, a GB region id (1-17) or an outward postcode: the UK Carbon Intensity API covers it."""
    return region == "GB" or region.isdigit() or (region[:1].isalpha() and any(c.isdigit() for c in region)
                                                  and ":" not in region and "-" not in region)


class RegionRouter:
    """GB regions to the UK chain, `watttime:<region>` to WattTime, other zones to Electricity Maps."""

    name = "router"

    def __init__(self, gb: IntensityProvider, zones: IntensityProvider | None = None,
                 watttime: IntensityProvider | None = None) -> None:
        self.gb, self.zones, self.watttime = gb, zones, watttime

    def _route(self, region: str) -> tuple[IntensityProvider, str]:
        if region.startswith("watttime:"):
            if self.watttime is None:
                raise ProviderError(f"no WattTime credentials configured for {region} (GREENAI_WATTTIME_CREDENTIALS_REF)")
            return self.watttime, region.split(":", 1)[1]
        if is_gb_region(region):
            return self.gb, region
        if self.zones is None:
            raise ProviderError(f"no Electricity Maps token configured for zone {region} (GREENAI_ELECTRICITYMAPS_TOKEN_REF)")
        return self.zones, region

    def forecast(self, region: str, now: datetime) -> Forecast:
        provider, native = self._route(region)
        return replace(provider.forecast(native, now), region=region)

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        provider, native = self._route(region)
        return replace(provider.actuals(native, start, end), region=region)


class LastGoodForecastCache:
    """Keeps each region's last good forecast (S3 in production) so a check can still plan when every source fails."""

    def __init__(self, store: ArtifactStore, prefix: str = "forecasts/last-good/") -> None:
        self.store = store
        self.prefix = prefix

    def _key(self, region: str) -> str:
        return f"{self.prefix}{region.replace(':', '_')}.json"

    def save(self, forecast: Forecast) -> None:
        document = {"region": forecast.region, "provider": forecast.provider, "signal": forecast.signal,
                    "fetched_at": format_utc(forecast.fetched_at), "points": forecast.as_records()}
        self.store.put_bytes(self._key(forecast.region), json.dumps(document).encode(), "application/json")

    def load(self, region: str) -> Forecast | None:
        try:
            document = json.loads(self.store.get_bytes(self._key(region)))
        except Exception:  # no cache yet, or unreadable: nothing to fall back on
            return None
        points = tuple(IntensityPoint(parse_utc(p["from"]), parse_utc(p["to"]), float(p["forecast"]),
                                      p.get("actual")) for p in document["points"])
        return Forecast(region, document["provider"], parse_utc(document["fetched_at"]), points,
                        signal=document.get("signal", "average"))


class CachingProvider:
    """Saves every good forecast; when the live chain fails, serves the last good one if it still covers now."""

    name = "cached"

    def __init__(self, inner: IntensityProvider, cache: LastGoodForecastCache,
                 max_age: timedelta = timedelta(hours=36)) -> None:
        self.inner, self.cache, self.max_age = inner, cache, max_age

    def forecast(self, region: str, now: datetime) -> Forecast:
        try:
            forecast = self.inner.forecast(region, now)
        except ProviderError as failure:
            cached = self.cache.load(region)
            if cached is None:
                raise
            age = now - cached.fetched_at
            remaining = tuple(p for p in cached.points if p.end > now)
            if age > self.max_age or not remaining:
                raise ProviderError(f"{failure}; the cached forecast is {age} old and no longer usable") from None
            hours = age.total_seconds() / 3600
            return replace(cached, points=remaining, provider=f"{cached.provider} (cached)", fetched_at=now,
                           notes=(f"last good forecast, fetched {format_utc(cached.fetched_at)} ({hours:.1f} h old); "
                                  f"live sources failed: {failure}",))
        self.cache.save(forecast)
        return forecast

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        return self.inner.actuals(region, start, end)
