"""The whole flow as a user runs it: `greenai demo` on a moto server, asserting on the artifacts it leaves."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from greenai.cli import main
from greenai.domain.evidence import DECISION_FIELDS, EVIDENCE_COLUMNS
from greenai.reporting.artifacts import ARTIFACT_NAMES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("artifacts")
    lines: list[str] = []
    from greenai.local.demo import run_demo

    run_demo(folder, say=lines.append)
    return folder, lines


def test_demo_leaves_the_eight_artifacts(demo_run):
    folder, _ = demo_run
    assert sorted(p.name for p in folder.iterdir()) == sorted(ARTIFACT_NAMES)
    assert {"intensity_timeline.png", "savings.png"} < set(ARTIFACT_NAMES)
    assert (folder / "energy_co2_bars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evidence_csv_has_design_columns_and_consistent_arithmetic(demo_run):
    folder, _ = demo_run
    with (folder / "evidence.csv").open() as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == EVIDENCE_COLUMNS
        rows = list(reader)
    assert sorted(r["phase"] for r in rows) == ["baseline", "optimized"]
    for row in rows:
        kwh, intensity = float(row["kWh"]), float(row["intensity_gco2_kwh"])
        assert kwh > 0
        assert float(row["kgCO2e"]) == pytest.approx(kwh * intensity / 1000, rel=1e-9)
        assert float(row["sci_kgCO2e_per_unit"]) == pytest.approx(float(row["kgCO2e"]) + float(row["embodied_kgCO2e"]))
        assert 30 < float(row["quality_metric_value"]) < 70  # MAE on diabetes progression (target spans 25-346)
        assert row["quality_metric_name"] == "MAE"
        assert "codecarbon" in row["energy_method"] and float(row["kWh_ccf_model"]) > 0
        # Deferred from the 08:00 peak into the night, and priced at the actual of the half-hour it ran in.
        assert float(row["deferred_s"]) > 6 * 3600
        assert float(row["intensity_gco2_kwh"]) < float(row["run_now_intensity_gco2_kwh"])
        assert row["intensity_source"] == "replay:gb-forecast-real-2023-03 actual"


def test_decisions_wait_before_run_with_the_forecast_they_used(demo_run):
    folder, _ = demo_run
    decisions = json.loads((folder / "carbon_aware_decision.json").read_text())
    for job_id in ("demo-baseline", "demo-optimized"):
        mine = [d for d in decisions if d["job_id"] == job_id]
        actions = [d["action"] for d in mine]
        assert actions[0] == "wait" and actions[-1] in ("run", "force")
        assert actions.index("wait") < actions.index(actions[-1])
        for decision in mine:
            assert set(DECISION_FIELDS) <= decision.keys()
            assert decision["forecast"] and {"from", "to", "forecast"} <= decision["forecast"][0].keys()
            assert decision["forecast"][0]["from"] <= decision["at_utc"]


def test_reports_trace_back_to_the_evidence(demo_run):
    folder, _ = demo_run
    rows = list(csv.DictReader((folder / "evidence.csv").open()))
    footprint = (folder / "FOOTPRINT.md").read_text()
    assert "SCI = (E × I + M) / R" in footprint and "Timing" in footprint and "Efficiency" in footprint
    impact = list(csv.DictReader((folder / "impact_math.csv").open()))
    assert {r["scenario"] for r in impact} == {"low", "medium", "high"}
    baseline = next(r for r in rows if r["phase"] == "baseline")
    medium = next(r for r in impact if r["scenario"] == "medium" and r["mode"] == "baseline")
    assert float(medium["annual_kgCO2e"]) == pytest.approx(float(baseline["kgCO2e"]) * 365)
    html = (folder / "index.html").read_text()
    for target in re.findall(r'(?:href|src)="([^"]+)"', html):
        assert (folder / target).is_file(), target
    assert "diabetes" in (folder / "data_card.md").read_text()
    assert '"n_estimators": 100' in (folder / "model_card.md").read_text()


def test_demo_prints_a_readable_summary(demo_run):
    _, lines = demo_run
    text = "\n".join(lines)
    assert "wait" in text and "Summary" in text and "saving vs starting at once" in text


def test_cli_refuses_bad_input_without_a_traceback(capsys):
    code = main(["submit", "--dataset", "diabetes", "--target", "y", "--mode", "turbo", "--expected-minutes", "5",
                 "--deadline", "2030-01-01T00:00Z"])
    assert code == 2
    assert capsys.readouterr().err.strip() == "error: mode: must be one of baseline, optimized, got 'turbo'"
