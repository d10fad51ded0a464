"""Ports: the interfaces the services depend on, with adapters for AWS, the UK API and replayed data behind them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from greenai.domain.evidence import DecisionRecord, EvidenceRecord
from greenai.domain.intensity import Forecast
from greenai.domain.jobs import Job, JobState


class Clock(Protocol):
    def now(self) -> datetime: ...


class IntensityProvider(Protocol):
    """A source of grid intensity: the forecast from the current slot onwards, actuals where it has them."""

    name: str

    def forecast(self, region: str, now: datetime) -> Forecast: ...

    def actuals(self, region: str, start: datetime, end: datetime) -> Forecast: ...


class JobStore(Protocol):
    def put_new(self, job: Job) -> bool:
        """Store a new job; False if a job with that id already exists (idempotent submit)."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def list_in_states(self, states: Iterable[JobState]) -> Iterator[Job]: ...

    def list_all(self) -> Iterator[Job]: ...

    def transition(self, job: Job, expected: Iterable[JobState], updated: Job) -> bool:
        """Write `updated` only if the stored job is still in one of `expected`; False if another writer got there first."""
        ...


class EvidenceStore(Protocol):
    def put_run(self, record: EvidenceRecord) -> bool:
        """Store a run's evidence once; False if that run id is already recorded."""
        ...

    def list_runs(self, compact_before: date | None = None) -> Iterator[EvidenceRecord]:
        """Every run; a store that bundles closed days may compact those before `compact_before` as it reads."""
        ...


class DecisionLog(Protocol):
    def record(self, decisions: Sequence[DecisionRecord], forecast: Forecast | None) -> list[DecisionRecord]:
        """Log one check's decisions for one region with the forecast they were made on; returns them as stored.
        Recording the same decisions again changes nothing."""
        ...

    def list_decisions(self, compact_before: date | None = None) -> Iterator[DecisionRecord]: ...


class TrainDispatcher(Protocol):
    def dispatch(self, job: Job, decision_id: str) -> None:
        """Start the job's training asynchronously."""
        ...


class WakeUpScheduler(Protocol):
    def schedule(self, job: Job, at: datetime) -> None:
        """Make sure a check runs for this job at `at` (one-time schedule, created or moved)."""
        ...

    def cancel(self, job: Job) -> None: ...


class ArtifactStore(Protocol):
    bucket: str

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def put_json_once(self, key: str, document: dict[str, Any]) -> bool:
        """Write an immutable JSON object; False if it already exists."""
        ...


class ReportArtifacts(ArtifactStore, Protocol):
    """What the report writes with: big files streamed from disk, and server-side copies into latest/."""

    def put_file(self, key: str, path: str, content_type: str) -> None: ...

    def copy(self, source_key: str, key: str) -> None: ...
