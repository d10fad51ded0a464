"""Datasets a job can name: the built-in diabetes set (ships with scikit-learn) or a CSV read from S3."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from greenai.domain.jobs import ValidationError


@dataclass(frozen=True)
class Dataset:
    name: str
    frame: Any  # pandas.DataFrame
    target: str  # the built-in dataset's own target; "" for a user's CSV (the job names it)
    source: str  # where it came from, for the data card


def load_builtin(name: str) -> Dataset:
    if name != "diabetes":
        raise ValidationError("dataset", f"unknown built-in dataset {name!r}")
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame.rename(columns={"target": "disease_progression"})
    # `sex` is coded 1/2: treat it as the categorical column it is.
    frame["sex"] = frame["sex"].map({1.0: "group_1", 2.0: "group_2"}).astype("object")
    return Dataset(
        name="diabetes",
        frame=frame,
        target="disease_progression",
        source="scikit-learn load_diabetes (Efron et al., 2004, 'Least Angle Regression'), shipped with scikit-learn",
    )


def read_csv_bytes(body: bytes, *, field: str = "dataset") -> Any:
    import pandas as pd

    if not body.strip():
        raise ValidationError(field, "the CSV is empty")
    try:
        frame = pd.read_csv(io.BytesIO(body))
    except Exception as exc:  # pandas raises several types for unreadable CSV
        raise ValidationError(field, f"not a readable CSV: {exc}") from None
    if frame.empty:
        raise ValidationError(field, "the CSV has a header but no rows")
    return frame


# pandas holds a CSV in roughly 2-5x its size on disk; keep the frame within half of the function's memory.
CSV_MEMORY_FACTOR = 5.0


def check_fits_memory(size_bytes: int, memory_mb: int, field: str) -> None:
    budget_bytes = memory_mb * 1024 * 1024 * 0.5
    if size_bytes * CSV_MEMORY_FACTOR > budget_bytes:
        raise ValidationError(field, f"{size_bytes / 1e6:.1f} MB of CSV needs about {size_bytes * CSV_MEMORY_FACTOR / 1e6:.0f} MB "
                                     f"in memory, more than this {memory_mb} MB function can hold; use a larger memory "
                                     "size or a runner with more memory")
