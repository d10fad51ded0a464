"""The UK Carbon Intensity adapter on recorded payload shapes, and against a misbehaving HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from greenai.adapters.grid_chain import FallbackProvider
from greenai.adapters.grid_replay import ReplayProvider
from greenai.adapters.grid_uk import ProviderError, UKCarbonIntensityProvider, parse_intensity_payload
from greenai.domain.timeutil import parse_utc
from tests.conftest import load_fixture
from tests.fakes import ScriptedServer, scripted_server

NOW = parse_utc("2023-03-15T08:05Z")


def test_national_fw48h_parses_forecast_and_current_actual():
    points = parse_intensity_payload(load_fixture("uk_api/national_fw48h.json"), source="uk")
    assert len(points) == 96
    assert points[0].start == parse_utc("2023-03-15T08:00Z")
    assert (points[0].forecast_gco2_kwh, points[0].actual_gco2_kwh) == (253, 246)
    assert points[1].actual_gco2_kwh is None


@pytest.mark.parametrize("name", ["uk_api/regional_postcode_fw48h.json", "uk_api/regional_regionid_list.json"])
def test_regional_shapes_object_and_list_both_parse(name):
    points = parse_intensity_payload(load_fixture(name), source="uk")
    assert points and all(p.actual_gco2_kwh is None for p in points)
    assert points[0].forecast_gco2_kwh == int(253 * 0.8)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("uk_api/error_400.json", "valid postcode"),
        ("uk_api/empty.json", "no data points"),
        ("uk_api/malformed_missing_to.json", "malformed data point 0"),
        ("uk_api/wrong_unit_kg.json", "wrong unit"),
        ("uk_api/wrong_unit_mg.json", "implausible"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(name, words):
    with pytest.raises(ProviderError, match=words):
        parse_intensity_payload(load_fixture(name), source="uk")


@pytest.fixture
def fake_api() -> Iterator[tuple[str, ScriptedServer]]:
    with scripted_server() as server:
        yield server.url, server


def _good() -> bytes:
    return json.dumps(load_fixture("uk_api/national_fw48h.json")).encode()


def test_retries_429_and_500_with_backoff_then_succeeds(fake_api):
    url, behaviour = fake_api
    behaviour.answers = [(429, b"{}"), (500, b"{}"), (200, _good())]
    forecast = UKCarbonIntensityProvider(url, timeout_s=2, retries=2, backoff_s=0.01).forecast("GB", NOW)
    assert len(forecast.points) == 96
    assert [path for path, _ in behaviour.requests] == ["/intensity/2023-03-15T08:00Z/fw48h"] * 3


def test_regional_paths_for_postcode_and_region_id(fake_api):
    url, behaviour = fake_api
    regional = json.dumps(load_fixture("uk_api/regional_postcode_fw48h.json")).encode()
    behaviour.answers = [(200, regional), (200, regional)]
    provider = UKCarbonIntensityProvider(url, retries=0)
    provider.forecast("RG10", NOW)
    provider.forecast("12", NOW)
    assert [path for path, _ in behaviour.requests] == ["/regional/intensity/2023-03-15T08:00Z/fw48h/postcode/RG10",
                               "/regional/intensity/2023-03-15T08:00Z/fw48h/regionid/12"]


@pytest.mark.parametrize(
    ("answers", "words"),
    [([(500, b"{}")] * 2, "HTTP 500"), ([(200, b"<html>")], "not JSON"), ([(0, b"")] * 2, "Timeout"),
     ([(404, b"{}")], "HTTP 404")],
)
def test_failures_raise_provider_errors(fake_api, answers, words):
    url, behaviour = fake_api
    behaviour.answers = list(answers)
    with pytest.raises(ProviderError, match=words):
        UKCarbonIntensityProvider(url, timeout_s=0.3, retries=len(answers) - 1, backoff_s=0.01).forecast("GB", NOW)


def test_fallback_chain_uses_the_replay_when_the_api_fails_and_says_so(fake_api):
    url, behaviour = fake_api
    behaviour.answers = [(503, b"{}")]
    chain = FallbackProvider([UKCarbonIntensityProvider(url, retries=0), ReplayProvider.shipped()])
    forecast = chain.forecast("GB", NOW)
    assert forecast.provider.startswith("replay:")
    assert any("HTTP 503" in note for note in forecast.notes)


def test_replay_serves_the_snapshot_known_at_the_time_and_no_future_actuals():
    replay = ReplayProvider.shipped()
    forecast = replay.forecast("GB", NOW)
    assert forecast.points[0].start == parse_utc("2023-03-15T08:00Z")
    assert all(p.actual_gco2_kwh is None for p in forecast.points)
    actuals = replay.actuals("GB", parse_utc("2023-03-16T02:30Z"), parse_utc("2023-03-16T02:45Z"))
    assert [p.actual_gco2_kwh for p in actuals.points] == [61]
    with pytest.raises(ProviderError):
        replay.forecast("GB", parse_utc("2023-03-01T00:00Z"))


def test_partial_payload_skips_empty_slots_and_plans_around_the_gap():
    from datetime import timedelta

    from greenai.domain.intensity import Forecast
    from greenai.domain.planning import plan

    payload = load_fixture("uk_api/national_fw48h.json")
    for row in payload["data"][4:8]:
        row["intensity"] = {"forecast": None, "actual": None, "index": None}
    points = parse_intensity_payload(payload, source="uk")
    assert len(points) == 92
    forecast = Forecast("GB", "uk", NOW, tuple(points))
    assert not forecast.index.contiguous
    decided = plan(policy="replan", now=NOW, deadline=parse_utc("2023-03-16T08:00Z"), duration=timedelta(hours=1),
                   forecast=forecast)
    assert decided.action == "wait"
    gap = (parse_utc("2023-03-15T10:00Z"), parse_utc("2023-03-15T12:00Z"))
    assert not (gap[0] - timedelta(hours=1) < decided.planned_start < gap[1])  # no window across missing slots
