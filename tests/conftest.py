"""Shared fixtures: recorded payloads, sample events, and the embedded AWS with the stack created from template.yaml."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
EVENTS = ROOT / "events"

# Handlers log and emit metrics through Powertools: keep test output readable and X-Ray off.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "greenai-tests")
os.environ.setdefault("HOME", "/tmp")


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def embedded_stack() -> Iterator[Any]:
    """A fresh moto server with the stack created from template.yaml (replayed grid data), per test."""
    from greenai.local.demo import LOCAL_OVERRIDES
    from greenai.local.server import EmbeddedAWS
    from greenai.local.stack import deploy

    with EmbeddedAWS() as aws:
        aws.runtime.overrides = dict(LOCAL_OVERRIDES)
        stack = deploy(aws.runtime, parameters={"GridSource": "replay"})
        yield aws, stack


@pytest.fixture
def clock() -> Iterator[Any]:
    """The process-wide clock, simulated from the replay's first morning (2023-03-15 08:00 UTC); tests move it."""
    from greenai.clock import SimulatedClock, SystemClock, use_clock
    from greenai.domain.timeutil import parse_utc

    simulated = SimulatedClock(parse_utc("2023-03-15T08:00Z"))
    use_clock(simulated)
    yield simulated
    use_clock(SystemClock())
