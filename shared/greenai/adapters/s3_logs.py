"""What the report reads in bulk: evidence appended to hourly S3 segments as runs are recorded, the decision archive
(one object per check and region), and for closed days one gzip object each that the report compacts them into.

A report over 100,000 runs and 200,000 decisions then reads a few hundred objects instead of scanning every item.
Appends are compare-and-swap on the segment's ETag (S3 conditional writes), so concurrent runs never lose a line;
readers de-duplicate by id, so an append retried after a crash, or two reports compacting the same day, change nothing.
Days are compacted only once no run can still be recorded for them (CLOSED_AFTER_DAYS); a deployment that predates
the log fills it once from DynamoDB (`greenai backfill-evidence`).
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any, Protocol

from greenai.domain.evidence import DecisionRecord, EvidenceRecord

EVIDENCE_LOG_PREFIX = "evidence/log/"  # evidence/log/<YYYY-MM-DD>/<HH>.jsonl, one line per run, appended
EVIDENCE_DAYS_PREFIX = "evidence/days/"  # evidence/days/<YYYY-MM-DD>.jsonl.gz, compacted by the report
DECISIONS_PREFIX = "decisions/"  # decisions/<YYYY-MM-DD>/<moment>-<region>-<digest>.json, one per check and region
DECISION_DAYS_PREFIX = "decisions/days/"  # decisions/days/<YYYY-MM-DD>.jsonl.gz, one check document per line
APPEND_TRIES = 12
READ_WORKERS = 8


class VersionedObjects(Protocol):
    """The S3 operations the logs need (S3ArtifactStore; an in-memory twin for unit tests)."""

    def get_bytes(self, key: str) -> bytes: ...

    def list_keys(self, prefix: str) -> Iterator[str]: ...

    def get_versioned(self, key: str) -> tuple[bytes, str] | None: ...

    def put_conditional(self, key: str, body: bytes, content_type: str, etag: str | None) -> bool: ...


class AppendConflictError(RuntimeError):
    """The segment kept changing under us: retried APPEND_TRIES times (the caller's retry will try again)."""


def _as_day(text: str) -> str | None:
    try:
        date.fromisoformat(text)
    except ValueError:
        return None
    return text


def _day_of(key: str, prefix: str) -> str | None:
    """`prefix` + `YYYY-MM-DD/...` → the day; None for anything else under the prefix (e.g. decisions/days/)."""
    return _as_day(key[len(prefix):len(prefix) + 10])


def _bundle_day(key: str, prefix: str) -> str | None:
    """`prefix` + `YYYY-MM-DD.jsonl.gz` → the day."""
    name = key[len(prefix):]
    return _as_day(name.removesuffix(".jsonl.gz")) if name.endswith(".jsonl.gz") else None


def _fetch_all(store: VersionedObjects, keys: Sequence[str]) -> list[bytes]:
    """GET many objects at once: the wait is the network's (or the server's), not ours."""
    if len(keys) <= 1:
        return [store.get_bytes(k) for k in keys]
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        return list(pool.map(store.get_bytes, keys))


class DailyCompactedLog:
    """Items grouped by day: open days read from their many small objects, closed days from one compacted bundle."""

    def __init__(self, store: VersionedObjects, parts_prefix: str, days_prefix: str,
                 split_part: Callable[[bytes], list[bytes]] = bytes.splitlines) -> None:
        self.store = store
        self.parts_prefix = parts_prefix
        self.days_prefix = days_prefix
        self.split_part = split_part  # one part object → its lines (a bundle holds one item per line)

    def _bundle_key(self, day: str) -> str:
        return f"{self.days_prefix}{day}.jsonl.gz"

    def read_lines(self, compact_before: date | None = None) -> Iterator[bytes]:
        """Every line of every day; days before `compact_before` still in parts are compacted as they are read."""
        bundles = {d: k for k in self.store.list_keys(self.days_prefix) if (d := _bundle_day(k, self.days_prefix))}
        parts: dict[str, list[str]] = defaultdict(list)
        for key in self.store.list_keys(self.parts_prefix):
            day = _day_of(key, self.parts_prefix)
            if day is not None and day not in bundles:
                parts[day].append(key)
        bundle_keys = sorted(bundles.values())
        for body in _fetch_all(self.store, bundle_keys):
            yield from gzip.decompress(body).splitlines()
        part_keys = [k for day in sorted(parts) for k in sorted(parts[day])]
        bodies = dict(zip(part_keys, _fetch_all(self.store, part_keys), strict=True))
        for day in sorted(parts):
            lines = [line for key in sorted(parts[day]) for line in self.split_part(bodies[key]) if line.strip()]
            if compact_before is not None and date.fromisoformat(day) < compact_before:
                # Write-once: a concurrent report compacting the same day writes the same lines, or loses harmlessly.
                self.store.put_conditional(self._bundle_key(day), gzip.compress(b"\n".join(lines) + b"\n", 6),
                                           "application/gzip", None)
            yield from lines


class S3EvidenceLog:
    """Evidence records, appended per hour of finishing; read back de-duplicated by run id."""

    def __init__(self, store: VersionedObjects, sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.sleep = sleep
        self.days = DailyCompactedLog(store, EVIDENCE_LOG_PREFIX, EVIDENCE_DAYS_PREFIX)

    @staticmethod
    def segment_key(record: EvidenceRecord) -> str:
        hour = record.finished_utc[:13]  # YYYY-MM-DDTHH
        return f"{EVIDENCE_LOG_PREFIX}{hour[:10]}/{hour[11:13]}.jsonl"

    def append(self, records: Iterable[EvidenceRecord]) -> None:
        by_segment: dict[str, list[EvidenceRecord]] = defaultdict(list)
        for record in records:
            by_segment[self.segment_key(record)].append(record)
        for key, group in sorted(by_segment.items()):
            self._append(key, group)

    def _append(self, key: str, records: list[EvidenceRecord]) -> None:
        for attempt in range(APPEND_TRIES):
            current = self.store.get_versioned(key)
            body, etag = current if current else (b"", None)
            present = {json.loads(line)["run_id"] for line in body.splitlines() if line.strip()}
            new = [r for r in records if r.run_id not in present]
            if not new:
                return  # already there: a retried append adds nothing
            lines = b"".join(json.dumps(r.to_dict(), separators=(",", ":")).encode() + b"\n" for r in new)
            if self.store.put_conditional(key, body + lines, "application/x-ndjson", etag):
                return
            self.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # someone else appended: read again
        raise AppendConflictError(f"{key}: still changing after {APPEND_TRIES} tries")

    def read(self, compact_before: date | None = None) -> list[EvidenceRecord]:
        seen: dict[str, EvidenceRecord] = {}
        for line in self.days.read_lines(compact_before):
            data = json.loads(line)
            seen.setdefault(data["run_id"], EvidenceRecord.from_dict(data))
        return list(seen.values())


class S3DecisionArchive:
    """The decision log's S3 side read in bulk: each check document's forecast is parsed once and shared by its
    decisions (DESIGN.md's inline forecast, without 200,000 copies of it in memory)."""

    def __init__(self, store: VersionedObjects) -> None:
        self.store = store
        self.days = DailyCompactedLog(store, DECISIONS_PREFIX, DECISION_DAYS_PREFIX,
                                      lambda body: [compact_line(json.loads(body))])

    def read(self, compact_before: date | None = None) -> list[DecisionRecord]:
        found: dict[str, DecisionRecord] = {}
        for line in self.days.read_lines(compact_before):
            document: dict[str, Any] = json.loads(line)
            forecast = document.get("forecast") or []
            for decision in document.get("decisions", []):
                found.setdefault(decision["decision_id"], DecisionRecord.from_dict({**decision, "forecast": forecast}))
        return list(found.values())


def compact_line(document: dict[str, Any]) -> bytes:
    """A check document as one line (the archive objects are pretty-printed; a line holds one)."""
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


# A day is closed once nothing can still be recorded for it: the latest is a dead-lettered event redriven within the
# queue's 14 days of retention (template.yaml), so 15.
CLOSED_AFTER_DAYS = 15


def day_cutoff(now: datetime, closed_after_days: int = CLOSED_AFTER_DAYS) -> date:
    """Days before this are closed: every run and decision of theirs has been recorded."""
    return date.fromordinal(now.date().toordinal() - closed_after_days)
