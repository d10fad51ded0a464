"""`greenai submit`, `status` and `report` against the embedded AWS, finding tables through the stack's Outputs."""

from __future__ import annotations

import json

import pytest

from greenai.cli import main

pytestmark = pytest.mark.functional


def test_submit_then_status_then_report(embedded_stack, capsys):
    args = ["submit", "--dataset", "diabetes", "--target", "disease_progression", "--mode", "optimized",
            "--expected-minutes", "10", "--deadline", "2030-01-01T06:00Z", "--region", "rg10", "--job-id", "cli-job"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == {"job_id": "cli-job", "state": "PENDING", "created": True}
    assert main(args) == 0  # the same job again: stored once
    assert json.loads(capsys.readouterr().out)["created"] is False

    assert main(["status", "--format", "json"]) == 0
    jobs = json.loads(capsys.readouterr().out)
    assert [(j["job_id"], j["state"], j["region"]) for j in jobs] == [("cli-job", "PENDING", "RG10")]
    assert jobs[0]["history"][0]["by"] == "submit"

    assert main(["status"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("job_id") and table[1].startswith("cli-job") and "PENDING" in table[1]

    assert main(["report"]) == 1  # nothing measured yet: says so, exit 1
    assert "no evidence yet" in capsys.readouterr().out


def test_commands_name_a_missing_stack_plainly(embedded_stack, capsys):
    with pytest.raises(SystemExit, match="cannot find stack 'nope'"):
        main(["status", "--stack", "nope"])
