"""The CodeCarbon wrapper: the method is named from what CodeCarbon actually used; no result is never zero."""

from __future__ import annotations

import pytest

from greenai.measurement import tracker


class CPU:
    def __init__(self, mode):
        self._mode = mode


class GPU:
    pass


class RAM:
    pass


@pytest.mark.parametrize(
    ("hardware", "expected"),
    [
        ([RAM(), CPU("cpu_load")], "codecarbon RAM: CodeCarbon RAM power model (estimated); CPU: CPU load x TDP model (estimated: no RAPL)"),
        ([CPU("intel_rapl"), GPU()], "codecarbon CPU: RAPL (measured); GPU: NVML (measured)"),
        ([], "codecarbon (hardware unknown)"),
    ],
)
def test_energy_method_names_what_codecarbon_did(hardware, expected):
    class Tracker:
        _hardware = hardware

    assert tracker._energy_method(Tracker()) == expected


def test_a_missing_result_is_an_error_not_zero(monkeypatch):
    class Broken:
        def __init__(self, **options):
            self.final_emissions_data = None

        def start(self):
            pass

        def stop(self):
            return None

    import codecarbon

    monkeypatch.setattr(codecarbon, "OfflineEmissionsTracker", Broken)
    with pytest.raises(tracker.MeasurementError, match="no result"):
        tracker.measure(lambda: 1)


def test_measure_runs_offline_with_a_writable_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", "/nonexistent-read-only")
    monkeypatch.setenv("GREENAI_TMP_DIR", str(tmp_path))
    result, measurement = tracker.measure(lambda: sum(range(200_000)), intensity_gco2_kwh=100.0)
    assert result == sum(range(200_000))
    assert measurement.kwh > 0 and measurement.runtime_s > 0 and measurement.pue == pytest.approx(1.135)
    import os

    assert os.environ["HOME"] == str(tmp_path)
