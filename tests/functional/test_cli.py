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


def test_backfill_puts_runs_from_before_the_s3_log_into_it_once(embedded_stack, capsys):
    """A deployment upgraded from before the evidence log: its runs are in DynamoDB only until the backfill."""
    from greenai.adapters.aws import client
    from greenai.adapters.dynamodb import DynamoEvidenceStore
    from greenai.adapters.s3 import S3ArtifactStore
    from tests.unit.test_s3_logs import records

    _, stack = embedded_stack
    out = stack.outputs
    store = DynamoEvidenceStore(out["EvidenceTableName"], S3ArtifactStore(out["BucketName"]))
    old = records(5)
    for record in old:  # written the way the old version wrote them: the DynamoDB item alone
        client("dynamodb").put_item(TableName=out["EvidenceTableName"], Item=store._item(record))
    assert list(store.list_runs()) == []
    assert main(["backfill-evidence"]) == 0 and json.loads(capsys.readouterr().out) == {"runs_in_log": 5}
    assert main(["backfill-evidence"]) == 0  # again: nothing doubles
    capsys.readouterr()
    assert sorted(r.run_id for r in store.list_runs()) == sorted(r.run_id for r in old)
    lines = [line for key in S3ArtifactStore(out["BucketName"]).list_keys("evidence/log/")
             for line in S3ArtifactStore(out["BucketName"]).get_bytes(key).splitlines()]
    assert len(lines) == 5
