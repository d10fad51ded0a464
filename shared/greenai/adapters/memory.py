"""In-memory adapters for the ports: fast, thread-safe fakes for unit tests and benchmarks (same contracts as AWS's)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.intensity import Forecast
from greenai.domain.jobs import Job, JobState


class MemoryJobStore:
    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def put_new(self, job: Job) -> bool:
        with self._lock:
            if job.job_id in self.jobs:
                return False
            self.jobs[job.job_id] = job
            return True

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def list_in_states(self, states: Iterable[JobState]) -> Iterator[Job]:
        wanted = set(states)
        return iter([j for j in list(self.jobs.values()) if j.state in wanted])

    def list_all(self) -> Iterator[Job]:
        return iter(list(self.jobs.values()))

    def transition(self, job: Job, expected: Iterable[JobState], updated: Job) -> bool:
        with self._lock:
            stored = self.jobs.get(job.job_id)
            if stored is None or stored.state not in set(expected) or len(stored.history) != len(job.history):
                return False
            self.jobs[job.job_id] = updated
            return True


class MemoryEvidenceStore:
    def __init__(self) -> None:
        self.runs: dict[str, EvidenceRecord] = {}

    def put_run(self, record: EvidenceRecord) -> bool:
        return self.runs.setdefault(record.run_id, record) is record

    def list_runs(self, compact_before: date | None = None) -> Iterator[EvidenceRecord]:
        return iter(list(self.runs.values()))


class MemoryDecisionLog:
    def __init__(self) -> None:
        self.decisions: dict[str, DecisionRecord] = {}

    def record(self, decisions: Sequence[DecisionRecord], forecast: Forecast | None) -> list[DecisionRecord]:
        for decision in decisions:
            self.decisions.setdefault(decision.decision_id, decision)
        return list(decisions)

    def list_decisions(self, compact_before: date | None = None) -> Iterator[DecisionRecord]:
        return iter(list(self.decisions.values()))


class RecordingDispatcher:
    def __init__(self) -> None:
        self.dispatched: list[tuple[str, str]] = []

    def dispatch(self, job: Job, decision_id: str) -> None:
        self.dispatched.append((job.job_id, decision_id))


class MemoryWakeUps:
    def __init__(self) -> None:
        self.schedules: dict[str, datetime] = {}

    def schedule(self, job: Job, at: datetime) -> None:
        self.schedules[job.job_id] = at

    def cancel(self, job: Job) -> None:
        self.schedules.pop(job.job_id, None)


class CountingProvider:
    """Wraps a provider and counts forecast fetches per region (the check must fetch once per region)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "counting")
        self.fetches: dict[str, int] = {}

    def forecast(self, region: str, now: datetime) -> Any:
        self.fetches[region] = self.fetches.get(region, 0) + 1
        return self.inner.forecast(region, now)

    def actuals(self, region: str, start: datetime, end: datetime) -> Any:
        return self.inner.actuals(region, start, end)


class MemoryArtifactStore:
    def __init__(self, bucket: str = "memory") -> None:
        self.bucket = bucket
        self.objects: dict[str, bytes] = {}
        self._lock = threading.Lock()  # conditional puts compare and set atomically, as S3's do

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body

    def get_bytes(self, key: str) -> bytes:
        return self.objects[key]

    def size(self, key: str) -> int:
        return len(self.objects[key])

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list_keys(self, prefix: str) -> Iterator[str]:
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        if key not in self.objects:
            return None
        return self.objects[key], str(hash(self.objects[key]))

    def put_conditional(self, key: str, body: bytes, content_type: str, etag: str | None) -> bool:
        with self._lock:
            current = self.get_versioned(key)
            if (current[1] if current else None) != etag:
                return False
            self.objects[key] = body
            return True

    def put_file(self, key: str, path: str, content_type: str) -> None:
        with open(path, "rb") as body:
            self.objects[key] = body.read()

    def copy(self, source_key: str, key: str) -> None:
        self.objects[key] = self.objects[source_key]

    def put_json_once(self, key: str, document: dict[str, Any]) -> bool:
        import json

        return self.put_conditional(key, json.dumps(document).encode(), "application/json", None)
