"""A fallback chain of grid sources: the first that answers wins, and the forecast says which one and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from greenai.adapters.grid_uk import ProviderError
from greenai.domain.intensity import Forecast
from greenai.ports import IntensityProvider


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
