"""WattTime v3: the marginal operating emissions rate (MOER) forecast, converted from lbs/MWh to gCO2/kWh and
labelled as a marginal signal — it answers "what would one more kWh emit", not the grid's average intensity."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from greenai.adapters.http_json import HttpStatusError, JsonHttp, ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import parse_utc

WATTTIME_BASE = "https://api.watttime.org"
GRAMS_PER_POUND = 453.59237
# lbs/MWh -> g/kWh: × 453.59237 g/lb ÷ 1000 kWh/MWh
UNIT_FACTORS = {"lbs_co2_per_mwh": GRAMS_PER_POUND / 1000.0, "g_co2_per_kwh": 1.0, "kg_co2_per_mwh": 1.0}
TOKEN_LIFETIME_S = 25 * 60  # WattTime tokens last about 30 minutes


def parse_moer_forecast(payload: Any, *, source: str = "watttime") -> tuple[list[IntensityPoint], str]:
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list) or not payload["data"]:
        raise ProviderError(f"{source}: forecast response has no data")
    meta: dict[str, Any] = payload["meta"] if isinstance(payload.get("meta"), dict) else {}
    units = str(meta.get("units", "")).lower()
    if units not in UNIT_FACTORS:
        raise ProviderError(f"{source}: unknown units {meta.get('units')!r} (expected lbs_co2_per_mwh)")
    if meta.get("signal_type") not in (None, "co2_moer"):
        raise ProviderError(f"{source}: expected signal co2_moer, got {meta.get('signal_type')!r}")
    factor = UNIT_FACTORS[units]
    rows: list[tuple[datetime, float]] = []
    for index, row in enumerate(payload["data"]):
        try:
            moment, value = parse_utc(row["point_time"]), row["value"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"{source}: malformed point {index}: {exc!r}") from None
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value * factor < 3000:
            raise ProviderError(f"{source}: implausible MOER {value!r} {units} at point {index}")
        rows.append((moment, value * factor))
    rows.sort()
    if len(rows) < 2:
        raise ProviderError(f"{source}: a forecast needs at least two points")
    step = rows[1][0] - rows[0][0]
    return [IntensityPoint(start, start + step, value) for start, value in rows], units


class WattTimeProvider:
    name = "watttime"

    def __init__(self, credentials: Callable[[], tuple[str, str]], base_url: str = WATTTIME_BASE,
                 timeout_s: float = 5.0, retries: int = 2, backoff_s: float = 0.5) -> None:
        self.credentials = credentials
        self.http = JsonHttp(self.name, base_url, timeout_s, retries, backoff_s)
        self._token: tuple[str, float] | None = None

    def _bearer(self, refresh: bool = False) -> dict[str, str]:
        if refresh or self._token is None or time.monotonic() - self._token[1] > TOKEN_LIFETIME_S:
            answer = self.http.get("/login", auth=self.credentials())
            token = answer.get("token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise ProviderError(f"{self.name}: login returned no token")
            self._token = (token, time.monotonic())
        return {"Authorization": f"Bearer {self._token[0]}"}

    def forecast(self, region: str, now: datetime) -> Forecast:
        params = {"region": region, "signal_type": "co2_moer", "horizon_hours": 48}
        try:
            payload = self.http.get("/v3/forecast", params=params, headers=self._bearer())
        except HttpStatusError as exc:
            if exc.status != 401:
                raise
            payload = self.http.get("/v3/forecast", params=params, headers=self._bearer(refresh=True))
        points, units = parse_moer_forecast(payload)
        points = [p for p in points if p.end > now]
        if not points:
            raise ProviderError(f"{self.name}: forecast for {region} ends before now")
        return Forecast(region, self.name, now, tuple(points), signal="marginal",
                        notes=(f"WattTime MOER (marginal signal), converted from {units} to gCO2/kWh",))

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast:
        payload = self.http.get("/v3/historical", params={"region": region, "signal_type": "co2_moer",
                                                          "start": start.isoformat(), "end": end.isoformat()},
                                headers=self._bearer())
        points, _ = parse_moer_forecast(payload)
        return Forecast(region, self.name, end, tuple(IntensityPoint(p.start, p.end, p.forecast_gco2_kwh,
                                                                     p.forecast_gco2_kwh) for p in points),
                        signal="marginal")
