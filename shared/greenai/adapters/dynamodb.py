"""DynamoDB adapters: the job store (conditional state transitions), the evidence index and the decision log (each
with the S3 side the report reads in bulk).

Each item keeps its key attributes as top-level attributes and the whole record as one JSON document (`doc`), so
floats need no Decimal juggling and the stored record is exactly the domain's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from greenai.adapters.aws import client
from greenai.adapters.s3 import S3ArtifactStore
from greenai.adapters.s3_logs import S3DecisionArchive, S3EvidenceLog, VersionedObjects
from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.intensity import Forecast
from greenai.domain.jobs import Job, JobState
from greenai.domain.timeutil import format_utc, parse_utc

STATE_INDEX = "by-state"
DECISIONS_PREFIX = "decisions/"
# DynamoDB keeps decisions ~13 months (the TTL the template enables); the S3 audit trail keeps them for good.
DECISION_RETENTION_S = 400 * 86400


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _batch_write(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):  # BatchWriteItem takes 25 at a time
        pending: dict[str, Any] = {table: items[start:start + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _paginate(ddb: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    for page in ddb.get_paginator(operation).paginate(**kwargs):
        yield from page.get("Items", [])


class DynamoJobStore:
    def __init__(self, table: str, ddb: Any | None = None) -> None:
        self.table = table
        self.ddb = ddb or client("dynamodb")

    @staticmethod
    def _item(job: Job) -> dict[str, Any]:
        item: dict[str, Any] = {
            "job_id": {"S": job.job_id},
            "state": {"S": job.state.value},
            "region": {"S": job.region},
            "deadline_utc": {"S": format_utc(job.deadline)},
            "doc": {"S": json.dumps(job.to_dict())},
            "version": {"N": str(len(job.history))},
        }
        if job.planned_start:
            item["planned_start_utc"] = {"S": format_utc(job.planned_start)}
        return item

    def put_new(self, job: Job) -> bool:
        try:
            self.ddb.put_item(TableName=self.table, Item=self._item(job), ConditionExpression="attribute_not_exists(job_id)")
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def get(self, job_id: str) -> Job | None:
        item = self.ddb.get_item(TableName=self.table, Key={"job_id": {"S": job_id}}, ConsistentRead=True).get("Item")
        return Job.from_dict(json.loads(item["doc"]["S"])) if item else None

    def list_in_states(self, states: Iterable[JobState]) -> Iterator[Job]:
        for state in states:
            for item in _paginate(self.ddb, "query", TableName=self.table, IndexName=STATE_INDEX,
                                  KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "state"},
                                  ExpressionAttributeValues={":s": {"S": state.value}}):
                # The index projects the whole item; its copy may lag, so callers re-check state on transition.
                yield Job.from_dict(json.loads(item["doc"]["S"]))

    def list_all(self) -> Iterator[Job]:
        for item in _paginate(self.ddb, "scan", TableName=self.table):
            yield Job.from_dict(json.loads(item["doc"]["S"]))

    def transition(self, job: Job, expected: Iterable[JobState], updated: Job) -> bool:
        placeholders = {f":e{i}": {"S": state.value} for i, state in enumerate(expected)}
        # The version (history length) guards against a writer holding an older copy of the same state.
        condition = f"#s IN ({', '.join(placeholders)}) AND version = :n"
        values = {**placeholders, ":n": {"N": str(len(job.history))}}
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item=self._item(updated),
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True


class DynamoEvidenceStore:
    """Evidence: one DynamoDB item per run (looked up by run, written once) and the hourly S3 log the report reads in
    bulk (s3_logs.S3EvidenceLog). The log is appended first, so every indexed run is in it."""

    def __init__(self, table: str, archive: VersionedObjects, ddb: Any | None = None) -> None:
        self.table = table
        self.log = S3EvidenceLog(archive)
        self.ddb = ddb or client("dynamodb")

    @staticmethod
    def _item(record: EvidenceRecord) -> dict[str, Any]:
        return {"run_id": {"S": record.run_id}, "job_id": {"S": record.job_id},
                "finished_utc": {"S": record.finished_utc}, "doc": {"S": json.dumps(record.to_dict())}}

    def put_run(self, record: EvidenceRecord) -> bool:
        self.log.append([record])
        try:
            self.ddb.put_item(TableName=self.table, Item=self._item(record),
                              ConditionExpression="attribute_not_exists(run_id)")
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def put_many(self, records: Sequence[EvidenceRecord]) -> None:
        """Bulk load (imports, benchmarks): the log by hour, then BatchWriteItem 25 at a time."""
        self.log.append(records)
        _batch_write(self.ddb, self.table, [{"PutRequest": {"Item": self._item(r)}} for r in records])

    def list_runs(self, compact_before: date | None = None) -> Iterator[EvidenceRecord]:
        """Every run, from the S3 log (closed days before `compact_before` are compacted as they are read)."""
        return iter(self.log.read(compact_before))

    def backfill_log(self) -> int:
        """Once, for a deployment older than the S3 log: every indexed run appended to it (already there: skipped)."""
        runs = list(self.indexed_runs())
        self.log.append(runs)
        return len(runs)

    def indexed_runs(self) -> Iterator[EvidenceRecord]:
        """The DynamoDB side, item by item (a full scan: for checks and small tables, not for reports)."""
        for item in _paginate(self.ddb, "scan", TableName=self.table):
            yield EvidenceRecord.from_dict(json.loads(item["doc"]["S"]))


class DynamoDecisionLog:
    """Decisions in DynamoDB (one item each, for the report and `status`) and, per check and region, one immutable
    S3 object with the forecast and every decision made on it (the audit trail). Items point at their S3 object
    instead of repeating a 96-point forecast in each of thousands of decisions."""

    def __init__(self, table: str, archive: S3ArtifactStore, ddb: Any | None = None) -> None:
        self.table = table
        self.archive = archive
        self.ddb = ddb or client("dynamodb")

    @staticmethod
    def archive_key(decisions: Sequence[DecisionRecord]) -> str:
        first = decisions[0]
        digest = hashlib.sha256("|".join(sorted(d.decision_id for d in decisions)).encode()).hexdigest()[:12]
        day, moment = first.at_utc[:10], first.at_utc.replace(":", "").replace("-", "")
        return f"{DECISIONS_PREFIX}{day}/{moment}-{first.region}-{digest}.json"

    def record(self, decisions: Sequence[DecisionRecord], forecast: Forecast | None) -> list[DecisionRecord]:
        if not decisions:
            return []
        key = self.archive_key(decisions)
        stored = [replace(d, forecast_key=key) for d in decisions]
        self.archive.put_json_once(key, {
            "at_utc": decisions[0].at_utc,
            "region": decisions[0].region,
            "provider": decisions[0].provider,
            "forecast": forecast.as_records() if forecast else [],
            "forecast_notes": list(forecast.notes) if forecast else [],
            "decisions": [{**d.to_dict(), "forecast": None, "forecast_key": key} for d in stored],
        })
        items = [{"PutRequest": {"Item": {
            "decision_id": {"S": d.decision_id}, "job_id": {"S": d.job_id}, "at_utc": {"S": d.at_utc},
            "expires_at": {"N": str(int(parse_utc(d.at_utc).timestamp() + DECISION_RETENTION_S))},
            "doc": {"S": json.dumps({**d.to_dict(), "forecast": None})}}}} for d in stored]
        _batch_write(self.ddb, self.table, items)  # same keys, same content: a replayed check changes nothing
        return stored

    def list_decisions(self, compact_before: date | None = None) -> Iterator[DecisionRecord]:
        """Every decision with its forecast, from the S3 archive (closed days compacted as they are read); the
        DynamoDB items are for lookups by job and expire, the archive is the full record."""
        return iter(S3DecisionArchive(self.archive).read(compact_before))
