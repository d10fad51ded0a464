"""The report's bulk read path: evidence appended per hour with compare-and-swap, the decision archive read per
check, closed days compacted into one object each — same records either way, de-duplicated, nothing lost."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from threading import Thread

from greenai.adapters.memory import MemoryArtifactStore
from greenai.adapters.s3_logs import (
    DECISION_DAYS_PREFIX,
    EVIDENCE_DAYS_PREFIX,
    S3DecisionArchive,
    S3EvidenceLog,
    day_cutoff,
)
from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.timeutil import parse_utc

RECORD = EvidenceRecord(
    run_id="run-0", phase="baseline", task="train", dataset="diabetes", hardware="AWS Lambda", region="GB",
    timestamp_utc="2023-03-14T10:00:00Z", kWh=1e-6, kgCO2e=1e-7, water_L=2e-7, runtime_s=1.0,
    quality_metric_name="MAE", quality_metric_value=44.0, notes="", job_id="job-0", finished_utc="2023-03-14T10:00:01Z",
    energy_method="codecarbon", kWh_ccf_model=2e-6, intensity_gco2_kwh=100.0, intensity_source="replay actual",
    embodied_kgCO2e=1e-8, sci_kgCO2e_per_unit=1.1e-7, functional_unit="one training run",
    submitted_utc="2023-03-14T08:00:00Z", deadline_utc="2023-03-15T08:00:00Z", run_now_intensity_gco2_kwh=200.0,
    deferred_s=7200.0, decision_id="dec-0")


def records(count: int, day: str = "2023-03-14") -> list[EvidenceRecord]:
    return [replace(RECORD, run_id=f"run-{day}-{i}", job_id=f"job-{i}", finished_utc=f"{day}T{i % 24:02d}:{i % 60:02d}:00Z")
            for i in range(count)]


class CountingStore(MemoryArtifactStore):
    """Counts GETs, and loses the first `conflicts` conditional puts to an imaginary other writer."""

    def __init__(self, conflicts: int = 0) -> None:
        super().__init__("bucket")
        self.gets: list[str] = []
        self.conflicts = conflicts

    def get_bytes(self, key: str) -> bytes:
        self.gets.append(key)
        return super().get_bytes(key)

    def put_conditional(self, key: str, body: bytes, content_type: str, etag: str | None) -> bool:
        if self.conflicts:
            self.conflicts -= 1
            return False
        return super().put_conditional(key, body, content_type, etag)


def test_appends_go_to_hourly_segments_once_however_often_they_are_retried():
    store = CountingStore()
    log = S3EvidenceLog(store)
    batch = records(30)
    log.append(batch)
    log.append(batch[:10])  # a retried recording
    keys = sorted(store.list_keys("evidence/log/"))
    assert keys == sorted({f"evidence/log/2023-03-14/{r.finished_utc[11:13]}.jsonl" for r in batch})
    lines = [json.loads(line) for k in keys for line in store.objects[k].splitlines()]
    assert sorted(line["run_id"] for line in lines) == sorted(r.run_id for r in batch)
    assert sorted(log.read(), key=lambda r: r.run_id) == sorted(batch, key=lambda r: r.run_id)


def test_an_append_that_loses_the_race_reads_again_and_keeps_both_writers_lines():
    store = CountingStore(conflicts=3)
    slept: list[float] = []
    log = S3EvidenceLog(store, sleep=slept.append)
    log.append(records(1))
    assert len(slept) == 3 and [r.run_id for r in log.read()] == ["run-2023-03-14-0"]


def test_concurrent_appenders_to_one_hour_lose_nothing():
    store = MemoryArtifactStore("bucket")
    same_hour = [replace(RECORD, run_id=f"run-{i}", finished_utc=f"2023-03-14T10:{i:02d}:00Z") for i in range(40)]
    threads = [Thread(target=S3EvidenceLog(store, sleep=lambda s: None).append, args=([r],)) for r in same_hour]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.run_id for r in S3EvidenceLog(store).read()) == sorted(r.run_id for r in same_hour)


def test_closed_days_are_compacted_once_and_read_from_their_bundle_after():
    store = CountingStore()
    log = S3EvidenceLog(store)
    old, recent = records(48, "2023-03-10"), records(5, "2023-03-14")
    log.append(old + recent)
    assert day_cutoff(parse_utc("2023-03-30T12:00Z")) == date(2023, 3, 15)  # 15 days: past any dead-letter redrive
    cutoff = day_cutoff(parse_utc("2023-03-14T12:00Z"), closed_after_days=2)
    assert cutoff == date(2023, 3, 12)
    first = log.read(compact_before=cutoff)
    assert list(store.list_keys(EVIDENCE_DAYS_PREFIX)) == [f"{EVIDENCE_DAYS_PREFIX}2023-03-10.jsonl.gz"]
    store.gets.clear()
    second = log.read(compact_before=cutoff)
    assert sorted(r.run_id for r in second) == sorted(r.run_id for r in first) == sorted(r.run_id for r in old + recent)
    assert not [k for k in store.gets if k.startswith("evidence/log/2023-03-10/")]  # the bundle stands for the day
    assert len(store.gets) == 1 + len({r.finished_utc[11:13] for r in recent})


def decision(i: int, at: str, forecast: list[dict]) -> DecisionRecord:
    return DecisionRecord(f"dec-{at}-{i}", f"job-{i}", at, "GB", "replay", "wait", "greener later", 200.0, at, 90.0,
                          246.0, "2023-03-16T08:00:00Z", forecast)


def test_the_decision_archive_is_read_per_check_with_one_shared_forecast_and_compacted_like_evidence():
    from greenai.adapters.dynamodb import DynamoDecisionLog
    from greenai.domain.intensity import Forecast, IntensityPoint

    class ItemsElsewhere:  # the DynamoDB side of the decision log is not what this test reads
        def batch_write_item(self, **_: object) -> dict:
            return {}

    store = CountingStore()
    log = DynamoDecisionLog("decisions", store, ddb=ItemsElsewhere())
    for at in ("2023-03-10T02:00:00Z", "2023-03-10T02:30:00Z", "2023-03-14T09:00:00Z"):
        start = parse_utc(at)
        forecast = Forecast("GB", "replay", start, (IntensityPoint(start, start, 120.0),))
        log.record([decision(i, at, forecast.as_records()) for i in range(3)], forecast)
    archive = S3DecisionArchive(store)
    read = archive.read(compact_before=date(2023, 3, 12))
    assert len(read) == 9
    by_check: dict[str, set[int]] = {}
    for d in read:
        by_check.setdefault(d.at_utc, set()).add(id(d.forecast))
        assert d.forecast and d.forecast[0]["forecast"] == 120.0
    assert all(len(ids) == 1 for ids in by_check.values())  # parsed once per check
    assert list(store.list_keys(DECISION_DAYS_PREFIX)) == [f"{DECISION_DAYS_PREFIX}2023-03-10.jsonl.gz"]
    again = archive.read(compact_before=date(2023, 3, 12))
    assert sorted(d.decision_id for d in again) == sorted(d.decision_id for d in read)
