"""`greenai experiment` and `greenai predict` on a laptop, through the train service's own code."""

from __future__ import annotations

import csv

from greenai.cli import main
from greenai.training.datasets import load_builtin


def test_experiment_alternates_pipelines_and_writes_evidence_and_plots(tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", "--runs", "4", "--intensity", "180", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "evidence.csv").open()))
    assert [r["phase"] for r in sorted(rows, key=lambda r: r["run_id"])] == ["baseline", "optimized"] * 2
    assert all(float(r["intensity_gco2_kwh"]) == 180 for r in rows)
    assert all(r["intensity_source"] == "user-supplied 180 gCO2/kWh actual" for r in rows)
    assert (out / "energy_co2_bars.png").stat().st_size > 10_000
    assert "run 4/4 optimized" in capsys.readouterr().out


def test_predict_writes_the_submission(tmp_path, capsys):
    frame = load_builtin("diabetes").frame
    frame.insert(0, "id", range(len(frame)))
    frame.iloc[:400].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[400:].drop(columns=["disease_progression"]).to_csv(tmp_path / "test.csv", index=False)
    out = tmp_path / "submission.csv"
    assert main(["predict", "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
                 "--target", "disease_progression", "--intensity", "200", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 42 and rows[0]["id"] == "400" and float(rows[0]["disease_progression"]) > 0
    assert "per 1,000 predictions (42 made)" in capsys.readouterr().out


def test_local_runs_refuse_without_an_intensity_when_the_api_is_unreachable(monkeypatch, capsys):
    monkeypatch.setenv("GREENAI_UK_API_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("GREENAI_HTTP_TIMEOUT_S", "0.5")
    assert main(["experiment", "--runs", "2"]) == 2
    assert "error: intensity: the UK Carbon Intensity API is not reachable" in capsys.readouterr().err
