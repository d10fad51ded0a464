"""Electricity Maps and WattTime on recorded shapes and a scripted server; routing by region; the last good forecast."""

from __future__ import annotations

import copy
import json

import pytest

from greenai.adapters.grid_chain import CachingProvider, LastGoodForecastCache, RegionRouter
from greenai.adapters.grid_electricitymaps import ElectricityMapsProvider, parse_forecast
from greenai.adapters.grid_watttime import GRAMS_PER_POUND, WattTimeProvider, parse_moer_forecast
from greenai.adapters.http_json import ProviderError
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import HALF_HOUR, parse_utc
from tests.conftest import load_fixture
from tests.fakes import scripted_server

NOW = parse_utc("2026-11-26T12:10Z")


def test_electricitymaps_forecast_with_latest_as_the_current_slot():
    points = parse_forecast(load_fixture("electricitymaps_forecast.json"), load_fixture("electricitymaps_latest.json"),
                            zone="DE")
    assert points[0].start == parse_utc("2026-11-26T12:00Z") and points[0].forecast_gco2_kwh == 420
    assert points[1].forecast_gco2_kwh == 412 and points[1].end - points[1].start == 2 * HALF_HOUR


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p.update(forecast=[]), "no forecast list"),
        (lambda p: p.update(zone="FR"), "asked for zone DE"),
        (lambda p: p["forecast"][2].update(carbonIntensity="high"), "implausible carbonIntensity"),
        (lambda p: p["forecast"][2].pop("datetime"), "malformed point 2"),
        (lambda p: p["forecast"][3].update(carbonIntensity=-5), "implausible"),
    ],
)
def test_electricitymaps_bad_payloads_are_refused(mutate, words):
    payload = copy.deepcopy(load_fixture("electricitymaps_forecast.json"))
    mutate(payload)
    with pytest.raises(ProviderError, match=words):
        parse_forecast(payload, None, zone="DE")


def test_electricitymaps_sends_the_token_header_and_retries():
    with scripted_server() as server:
        server.answers = [(503, b"{}"), (200, json.dumps(load_fixture("electricitymaps_forecast.json")).encode()),
                          (200, json.dumps(load_fixture("electricitymaps_latest.json")).encode())]
        forecast = ElectricityMapsProvider(lambda: "tok-123", base_url=server.url, backoff_s=0.01).forecast("DE", NOW)
    assert len(forecast.points) == 12 and forecast.signal == "average"
    assert server.requests[1][0] == "/carbon-intensity/forecast?zone=DE"
    assert server.requests[1][1]["auth-token"] == "tok-123"


def test_watttime_moer_is_converted_from_lbs_per_mwh_and_labelled_marginal():
    points, units = parse_moer_forecast(load_fixture("watttime_forecast.json"))
    assert units == "lbs_co2_per_mwh"
    assert points[0].forecast_gco2_kwh == pytest.approx(1010 * GRAMS_PER_POUND / 1000)  # 458 g/kWh
    assert points[0].end - points[0].start == parse_utc("2026-11-26T12:05Z") - parse_utc("2026-11-26T12:00Z")


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda p: p["meta"].update(units="tonnes_per_year"), "unknown units"),
        (lambda p: p["meta"].update(signal_type="health_damage"), "co2_moer"),
        (lambda p: p.update(data=[]), "no data"),
        (lambda p: p["data"][0].update(value=None), "implausible MOER"),
    ],
)
def test_watttime_bad_payloads_are_refused(mutate, words):
    payload = copy.deepcopy(load_fixture("watttime_forecast.json"))
    mutate(payload)
    with pytest.raises(ProviderError, match=words):
        parse_moer_forecast(payload)


def test_watttime_logs_in_then_uses_the_bearer_token_and_relogs_on_401():
    body = json.dumps(load_fixture("watttime_forecast.json")).encode()
    with scripted_server() as server:
        server.answers = [(200, b'{"token": "t1"}'), (401, b"{}"), (200, b'{"token": "t2"}'), (200, body)]
        forecast = WattTimeProvider(lambda: ("user", "pw"), base_url=server.url, retries=0).forecast(
            "CAISO_NORTH", parse_utc("2026-11-26T12:00Z"))
    paths = [path for path, _ in server.requests]
    assert paths[0] == "/login" and paths[2] == "/login"
    assert server.requests[0][1]["Authorization"].startswith("Basic ")
    assert server.requests[3][1]["Authorization"] == "Bearer t2"
    assert forecast.signal == "marginal" and "marginal" in forecast.notes[0]


class _Fixed:
    def __init__(self, name: str) -> None:
        self.name = name
        self.asked: list[str] = []

    def forecast(self, region, now):
        self.asked.append(region)
        return Forecast(region, self.name, now, (IntensityPoint(now, now + HALF_HOUR, 100.0),))

    def actuals(self, region, start, end):
        raise ProviderError("none")


def test_router_sends_each_region_to_its_source():
    gb, zones, wt = _Fixed("uk"), _Fixed("em"), _Fixed("wt")
    router = RegionRouter(gb, zones, wt)
    assert router.forecast("RG10", NOW).provider == "uk"
    assert router.forecast("12", NOW).provider == "uk"
    assert router.forecast("US-CAL-CISO", NOW).provider == "em"
    forecast = router.forecast("watttime:CAISO_NORTH", NOW)
    assert forecast.provider == "wt" and forecast.region == "watttime:CAISO_NORTH" and wt.asked == ["CAISO_NORTH"]
    with pytest.raises(ProviderError, match="no Electricity Maps token"):
        RegionRouter(gb).forecast("DE", NOW)


class _DictStore:
    def __init__(self):
        self.objects: dict[str, bytes] = {}

    def put_bytes(self, key, body, content_type):
        self.objects[key] = body

    def get_bytes(self, key):
        return self.objects[key]


class _Flaky:
    name = "flaky"

    def __init__(self):
        self.fail = False

    def forecast(self, region, now):
        if self.fail:
            raise ProviderError("uk-carbon-intensity: HTTP 503")
        points = tuple(IntensityPoint(now + i * HALF_HOUR, now + (i + 1) * HALF_HOUR, 100.0 + i) for i in range(96))
        return Forecast(region, "uk-carbon-intensity", now, points)

    def actuals(self, region, start, end):
        raise ProviderError("none")


def test_last_good_forecast_serves_a_failed_check_and_says_its_age():
    inner, store = _Flaky(), _DictStore()
    provider = CachingProvider(inner, LastGoodForecastCache(store))
    provider.forecast("GB", NOW)
    inner.fail = True
    later = NOW + 6 * HALF_HOUR
    cached = provider.forecast("GB", later)
    assert cached.provider == "uk-carbon-intensity (cached)"
    assert cached.points[0].start == later and cached.points[0].forecast_gco2_kwh == 106.0
    assert "3.0 h old" in cached.notes[0] and "HTTP 503" in cached.notes[0]
    with pytest.raises(ProviderError, match="no longer usable"):
        provider.forecast("GB", NOW + 100 * HALF_HOUR)
