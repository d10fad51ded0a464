"""Taking the evidence away: reports and raw evidence from S3 (AWS or the embedded endpoint) into a local folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from greenai.adapters.aws import client

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Selection:
    """Which S3 prefixes go where, locally."""

    prefix: str
    local: str


def selections(scope: str, evidence: bool) -> list[Selection]:
    chosen = [Selection("reports/latest/", "")] if scope == "latest" else [Selection("reports/", "reports/")]
    if evidence or scope == "all":
        chosen += [Selection("evidence/", "evidence/"), Selection("decisions/", "decisions/")]
    return chosen


def bar(stream: TextIO | None = None, width: int = 30) -> Progress:
    """A plain progress bar on stderr: `[#########.....] 12/40 reports/latest/index.html`."""

    def show(done: int, total: int, key: str) -> None:
        out = stream or sys.stderr
        filled = int(width * done / total) if total else width
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {key[-50:]:<50}")
        if done == total:
            out.write("\n")
        out.flush()

    return show


def download(bucket: str, chosen: list[Selection], target: Path, since: datetime | None = None,
             progress: Progress | None = None, s3: Any | None = None) -> list[Path]:
    """List first (so the bar knows the total), then fetch; objects older than `since` are skipped."""
    s3 = s3 or client("s3")
    wanted: list[tuple[str, Path]] = []
    for selection in chosen:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=selection.prefix):
            for entry in page.get("Contents", []):
                relative = entry["Key"][len(selection.prefix):]
                if relative and (since is None or entry["LastModified"] >= since):
                    wanted.append((entry["Key"], target / selection.local / relative))
    for done, (key, path) in enumerate(wanted, start=1):
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))
        if progress:
            progress(done, len(wanted), key)
    return [path for _, path in wanted]
