"""Footprint arithmetic checked from its inputs: CCF Lambda model, embodied carbon, SCI, savings."""

from __future__ import annotations

import pytest

from greenai.domain import footprint as fp
from greenai.domain.evidence import EvidenceRecord


def test_ccf_lambda_energy_from_memory_share_utilisation_and_pue():
    shape = fp.LambdaShape(memory_mb=1769)
    # 1 vCPU at 50 % for one hour: (0.74 + 0.5 * (3.5 - 0.74)) W -> Wh; plus 1769/1024 GB * 0.000392 kWh/GBh; x PUE
    expected = ((0.74 + 0.5 * 2.76) / 1000 + 1769 / 1024 * 0.000392) * 1.135
    assert fp.ccf_lambda_kwh(shape, 3600, 0.5) == pytest.approx(expected)
    assert fp.ccf_lambda_kwh(fp.LambdaShape(3538), 3600, 0.5) > fp.ccf_lambda_kwh(shape, 3600, 0.5)


def test_embodied_matches_the_notes_worked_example():
    # NOTES.md: a 60 s, 1-vCPU run on an m5 platform (1.2 tCO2e over 96 vCPUs, 4 years) is about 0.006 g.
    assert fp.embodied_kgco2e(60, 1.0) * 1000 == pytest.approx(0.00594, rel=0.01)


def test_sci_adds_embodied_to_operational_per_unit():
    assert fp.sci_kgco2e_per_unit(0.01, 200, 0.001) == pytest.approx(0.01 * 200 / 1000 + 0.001)
    assert fp.sci_kgco2e_per_unit(0.01, 200, 0.001, units=2) == pytest.approx((0.002 + 0.001) / 2)
    with pytest.raises(ValueError):
        fp.sci_kgco2e_per_unit(0.01, 200, 0.001, units=0)


def _record(phase: str, kwh: float, intensity: float, run_now: float | None) -> EvidenceRecord:
    return EvidenceRecord(
        run_id=f"run-{phase}-{kwh}", phase=phase, task="train", dataset="d", hardware="h", region="GB",
        timestamp_utc="2023-03-16T02:30:00Z", kWh=kwh, kgCO2e=kwh * intensity / 1000, water_L=0.0, runtime_s=1.0,
        quality_metric_name="MAE", quality_metric_value=40.0, notes="", job_id="j", finished_utc="",
        energy_method="m", kWh_ccf_model=kwh, intensity_gco2_kwh=intensity, intensity_source="s",
        embodied_kgCO2e=0.0, sci_kgCO2e_per_unit=kwh * intensity / 1000, functional_unit="one training run",
        submitted_utc="", deadline_utc="", run_now_intensity_gco2_kwh=run_now, deferred_s=0.0, decision_id="d",
    )


def test_savings_split_timing_from_efficiency():
    from greenai.reporting.figures import savings

    records = [_record("baseline", 2.0, 60, 250), _record("optimized", 1.0, 60, 250)]
    saved = savings(records)
    assert saved.timing_kg == pytest.approx((2.0 + 1.0) * (250 - 60) / 1000)
    assert saved.efficiency_kg == pytest.approx((2.0 - 1.0) * 60 / 1000)
    assert saved.timing_pct == pytest.approx(100 * (250 - 60) / 250)
