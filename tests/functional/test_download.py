"""`greenai download` against the embedded AWS, finding the bucket through the stack's Outputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from greenai.adapters.aws import client
from greenai.cli import main

pytestmark = pytest.mark.functional


def test_download_latest_all_and_since(embedded_stack, tmp_path, capsys):
    _, stack = embedded_stack
    bucket = stack.outputs["BucketName"]
    s3 = client("s3")
    for key in ("reports/20230316T023000Z/evidence.csv", "reports/latest/evidence.csv", "reports/latest/index.html",
                "evidence/runs/run-a.json", "decisions/2023-03-15/x.json"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    assert main(["download", "--to", str(tmp_path / "latest")]) == 0
    assert sorted(p.name for p in (tmp_path / "latest").iterdir()) == ["evidence.csv", "index.html"]
    assert (tmp_path / "latest" / "index.html").read_text() == "reports/latest/index.html"
    assert "2/2 reports/latest/index.html" in capsys.readouterr().err  # the progress bar

    assert main(["download", "--to", str(tmp_path / "all"), "--all", "--quiet"]) == 0
    got = sorted(str(p.relative_to(tmp_path / "all")) for p in (tmp_path / "all").rglob("*") if p.is_file())
    assert got == ["decisions/2023-03-15/x.json", "evidence/runs/run-a.json", "reports/20230316T023000Z/evidence.csv",
                   "reports/latest/evidence.csv", "reports/latest/index.html"]

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert main(["download", "--to", str(tmp_path / "none"), "--all", "--since", tomorrow, "--quiet"]) == 1
    assert main(["download", "--to", str(tmp_path / "bad"), "--since", "last tuesday"]) == 2
    assert "error: since: not a date" in capsys.readouterr().err
