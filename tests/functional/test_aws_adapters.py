"""AWS adapters against the moto server: secrets by reference, the decision audit trail, write-once evidence."""

from __future__ import annotations

import json

import pytest

from greenai.adapters.aws import client
from greenai.adapters.dynamodb import DynamoDecisionLog
from greenai.adapters.http_json import ProviderError
from greenai.adapters.s3 import S3ArtifactStore
from greenai.adapters.secrets import read_json_secret, read_secret
from greenai.domain.evidence import DecisionRecord
from greenai.domain.intensity import Forecast, IntensityPoint
from greenai.domain.timeutil import HALF_HOUR, parse_utc
from greenai.local.server import EmbeddedAWS

pytestmark = pytest.mark.functional


@pytest.fixture
def aws():
    with EmbeddedAWS() as embedded:
        yield embedded


def test_credentials_are_read_by_reference_from_ssm_and_secrets_manager(aws):
    client("ssm").put_parameter(Name="/greenai/em-token", Value="em-secret", Type="SecureString")
    client("secretsmanager").create_secret(Name="greenai/watttime",
                                           SecretString=json.dumps({"username": "u", "password": "p"}))
    assert read_secret("ssm:/greenai/em-token") == "em-secret"
    assert read_json_secret("secretsmanager:greenai/watttime", "username", "password") == {"username": "u", "password": "p"}
    with pytest.raises(ProviderError, match="cannot read credential"):
        read_secret("ssm:/greenai/missing")
    with pytest.raises(ProviderError, match="must start with ssm: or secretsmanager:"):
        read_secret("plain-token-in-config")


def test_decisions_go_to_dynamodb_and_one_immutable_s3_object_per_check(aws):
    client("s3").create_bucket(Bucket="audit", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    client("dynamodb").create_table(TableName="decisions", BillingMode="PAY_PER_REQUEST",
                                    AttributeDefinitions=[{"AttributeName": "decision_id", "AttributeType": "S"}],
                                    KeySchema=[{"AttributeName": "decision_id", "KeyType": "HASH"}])
    now = parse_utc("2023-03-15T08:00Z")
    forecast = Forecast("GB", "uk", now, tuple(IntensityPoint(now + i * HALF_HOUR, now + (i + 1) * HALF_HOUR, 200.0 - i)
                                               for i in range(4)))
    decisions = [DecisionRecord(f"dec-{i}", f"job-{i}", "2023-03-15T08:00:00Z", "GB", "uk", "wait", "greener later",
                                200.0, "2023-03-15T09:30:00Z", 197.0, 200.0, "2023-03-16T08:00:00Z", forecast.as_records())
                 for i in range(30)]
    log = DynamoDecisionLog("decisions", S3ArtifactStore("audit"))
    stored = log.record(decisions, forecast)
    log.record(decisions, forecast)  # a redelivered check: nothing new
    keys = [o["Key"] for o in client("s3").list_objects_v2(Bucket="audit")["Contents"]]
    assert keys == [stored[0].forecast_key] and keys[0].startswith("decisions/2023-03-15/")
    archived = json.loads(client("s3").get_object(Bucket="audit", Key=keys[0])["Body"].read())
    assert len(archived["decisions"]) == 30 and archived["forecast"] == forecast.as_records()
    listed = sorted(log.list_decisions(), key=lambda d: d.decision_id)
    assert len(listed) == 30 and listed[0].forecast == forecast.as_records()
    assert listed[0] == stored[0]


def test_evidence_objects_are_write_once(aws):
    client("s3").create_bucket(Bucket="evidence-test", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    store = S3ArtifactStore("evidence-test")
    assert store.put_json_once("evidence/runs/run-1.json", {"kWh": 1.0}) is True
    assert store.put_json_once("evidence/runs/run-1.json", {"kWh": 2.0}) is False
    assert json.loads(store.get_bytes("evidence/runs/run-1.json")) == {"kWh": 1.0}


def test_conditional_puts_compare_and_swap_on_the_etag_and_copies_stay_server_side(aws, tmp_path):
    client("s3").create_bucket(Bucket="cas-test", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    store = S3ArtifactStore("cas-test")
    assert store.get_versioned("evidence/log/2023-03-14/10.jsonl") is None
    assert store.put_conditional("evidence/log/2023-03-14/10.jsonl", b"a\n", "application/x-ndjson", None) is True
    assert store.put_conditional("evidence/log/2023-03-14/10.jsonl", b"b\n", "application/x-ndjson", None) is False
    body, etag = store.get_versioned("evidence/log/2023-03-14/10.jsonl")
    assert store.put_conditional("evidence/log/2023-03-14/10.jsonl", body + b"c\n", "application/x-ndjson", etag)
    assert store.put_conditional("evidence/log/2023-03-14/10.jsonl", b"stale\n", "application/x-ndjson", etag) is False
    assert store.get_bytes("evidence/log/2023-03-14/10.jsonl") == b"a\nc\n"
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"0," * 300_000 + b"0]")
    store.put_file("reports/x/big.json", str(big), "application/json")
    store.copy("reports/x/big.json", "reports/latest/big.json")
    assert store.get_bytes("reports/latest/big.json") == big.read_bytes()
    assert client("s3").head_object(Bucket="cas-test", Key="reports/latest/big.json")["ContentType"] == "application/json"
