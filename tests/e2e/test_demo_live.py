"""`greenai demo --live`: the UK API is asked first (here a fake of it on 127.0.0.1), and a failure is said plainly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from greenai.domain.timeutil import floor_half_hour
from greenai.local.demo import run_demo
from tests.conftest import load_fixture
from tests.fakes import scripted_server

pytestmark = pytest.mark.e2e


def _shifted_national_payload() -> bytes:
    """The recorded national fw48h payload, moved so that it starts in the current half-hour."""
    payload = load_fixture("uk_api/national_fw48h.json")
    start = floor_half_hour(datetime.now(UTC))
    for index, row in enumerate(payload["data"]):
        row["from"] = (start + timedelta(minutes=30 * index)).strftime("%Y-%m-%dT%H:%MZ")
        row["to"] = (start + timedelta(minutes=30 * (index + 1))).strftime("%Y-%m-%dT%H:%MZ")
    return json.dumps(payload).encode()


@pytest.fixture
def fake_uk_api(monkeypatch):
    with scripted_server() as server:
        server.answers = [(200, _shifted_national_payload())] * 20
        monkeypatch.setenv("GREENAI_UK_API_URL", server.url)
        yield


def test_live_demo_plans_on_the_live_forecast(fake_uk_api, tmp_path):
    lines: list[str] = []
    result = run_demo(tmp_path, live=True, say=lines.append)
    assert result.source_note.startswith("live UK Carbon Intensity API forecast")
    assert {r.phase for r in result.evidence} == {"baseline", "optimized"}
    # No actuals exist for the future: the run is priced at the forecast, and says so.
    assert all(r.intensity_source == "replay:saved-forecast forecast (nowcast)" for r in result.evidence)
    assert any("Future hours have no actuals" in line for line in lines)


def test_live_demo_falls_back_to_the_replay_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GREENAI_UK_API_URL", "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.setenv("GREENAI_HTTP_TIMEOUT_S", "0.5")
    lines: list[str] = []
    result = run_demo(tmp_path, live=True, say=lines.append)
    assert any("not reachable" in line for line in lines)
    assert any("Falling back to the replay" in line for line in lines)
    assert "fallback" in result.source_note
    assert all(r.intensity_source == "replay:gb-forecast-real-2023-03 actual" for r in result.evidence)
