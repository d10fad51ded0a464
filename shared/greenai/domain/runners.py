"""Where a job runs: the Lambda runner (at most 15 minutes) or a SageMaker training job, and the limits of each."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from greenai.domain.errors import ValidationError
from greenai.domain.footprint import InstanceShape

LAMBDA = "lambda"
SAGEMAKER = "sagemaker"
RUNNERS = (LAMBDA, SAGEMAKER)
LAMBDA_MAX_MINUTES = 15.0  # one Lambda invocation's hard limit
SAGEMAKER_MAX_MINUTES = 28 * 24 * 60.0  # CreateTrainingJob's MaxRuntimeInSeconds ceiling (28 days)
# The built-in pipelines are single-node; a distributed trainer would raise this (InstanceShape already prices N).
SAGEMAKER_MAX_INSTANCES = 1
# What a run that names no max runtime may take: twice its expected duration, at least 30 minutes more.
DEFAULT_RUNTIME_FACTOR = 2.0
DEFAULT_RUNTIME_MARGIN_MINUTES = 30.0

# The training instances greenai can price: vCPUs, memory (GiB), GPUs with their model and board power (W).
INSTANCE_TYPES: dict[str, InstanceShape] = {
    shape.instance_type: shape
    for shape in (
        InstanceShape("ml.m5.large", 2, 8),
        InstanceShape("ml.m5.xlarge", 4, 16),
        InstanceShape("ml.m5.2xlarge", 8, 32),
        InstanceShape("ml.m5.4xlarge", 16, 64),
        InstanceShape("ml.m5.12xlarge", 48, 192),
        InstanceShape("ml.c5.xlarge", 4, 8),
        InstanceShape("ml.c5.2xlarge", 8, 16),
        InstanceShape("ml.c5.4xlarge", 16, 32),
        InstanceShape("ml.c5.9xlarge", 36, 72),
        InstanceShape("ml.r5.xlarge", 4, 32),
        InstanceShape("ml.r5.2xlarge", 8, 64),
        InstanceShape("ml.g4dn.xlarge", 4, 16, 1, "NVIDIA T4", 70),
        InstanceShape("ml.g4dn.2xlarge", 8, 32, 1, "NVIDIA T4", 70),
        InstanceShape("ml.g5.xlarge", 4, 16, 1, "NVIDIA A10G", 300),
        InstanceShape("ml.g5.2xlarge", 8, 32, 1, "NVIDIA A10G", 300),
        InstanceShape("ml.p3.2xlarge", 8, 61, 1, "NVIDIA V100", 300),
    )
}


@dataclass(frozen=True)
class Runner:
    """The engine a job runs on. Lambda needs nothing more; SageMaker names its instances and a runtime ceiling."""

    kind: str = LAMBDA
    instance_type: str = ""
    instance_count: int = 1
    max_runtime_minutes: float = LAMBDA_MAX_MINUTES

    @property
    def is_sagemaker(self) -> bool:
        return self.kind == SAGEMAKER

    def shape(self) -> InstanceShape:
        """The priced shape of a SageMaker runner (all its instances)."""
        return replace(INSTANCE_TYPES[self.instance_type], count=self.instance_count)

    def to_dict(self) -> dict[str, Any]:
        if not self.is_sagemaker:
            return {"kind": LAMBDA}
        return {"kind": SAGEMAKER, "instance_type": self.instance_type, "instance_count": self.instance_count,
                "max_runtime_minutes": self.max_runtime_minutes}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Runner:
        if not data or data.get("kind", LAMBDA) == LAMBDA:
            return cls()
        return cls(SAGEMAKER, str(data["instance_type"]), int(data.get("instance_count", 1)),
                   float(data["max_runtime_minutes"]))


def parse_runner(request: dict[str, Any], expected_minutes: float) -> Runner:
    """The runner a submission asks for, checked against that runner's limits for `expected_minutes`."""
    kind = str(request.get("runner") or LAMBDA).strip().lower()
    if kind not in RUNNERS:
        raise ValidationError("runner", f"must be one of {', '.join(RUNNERS)}, got {request.get('runner')!r}")
    if kind == LAMBDA:
        for name in ("instance_type", "instance_count", "max_runtime_minutes"):
            if request.get(name) not in (None, ""):
                raise ValidationError(name, "only applies to the sagemaker runner (set runner to sagemaker)")
        if expected_minutes > LAMBDA_MAX_MINUTES:
            raise ValidationError("expected_minutes", f"{expected_minutes:g} exceeds what the Lambda runner can take "
                                                  f"({LAMBDA_MAX_MINUTES:g}); use runner sagemaker for longer jobs")
        return Runner()
    return Runner(SAGEMAKER, _instance_type(request), _instance_count(request),
                  _max_runtime(request, expected_minutes))


def _instance_type(request: dict[str, Any]) -> str:
    raw = str(request.get("instance_type") or "").strip()
    if not raw:
        raise ValidationError("instance_type", "is required for the sagemaker runner, e.g. ml.m5.xlarge")
    if raw not in INSTANCE_TYPES:
        raise ValidationError("instance_type", f"unknown training instance {raw!r}; one of {', '.join(INSTANCE_TYPES)}")
    return raw


def _instance_count(request: dict[str, Any]) -> int:
    raw = request.get("instance_count", 1)
    try:
        count = int(raw)
    except (TypeError, ValueError):
        raise ValidationError("instance_count", f"must be a whole number, got {raw!r}") from None
    if count != raw and str(count) != str(raw).strip():
        raise ValidationError("instance_count", f"must be a whole number, got {raw!r}")
    if count < 1:
        raise ValidationError("instance_count", f"must be at least 1, got {count}")
    if count > SAGEMAKER_MAX_INSTANCES:
        raise ValidationError("instance_count", f"greenai's scikit-learn pipelines train on one instance: {count} would "
                                                f"leave {count - 1} idle, drawing power for nothing; use 1")
    return count


def _max_runtime(request: dict[str, Any], expected_minutes: float) -> float:
    raw = request.get("max_runtime_minutes")
    if raw in (None, ""):
        default = max(expected_minutes * DEFAULT_RUNTIME_FACTOR, expected_minutes + DEFAULT_RUNTIME_MARGIN_MINUTES)
        limit = min(float(math.ceil(default)), SAGEMAKER_MAX_MINUTES)
    else:
        try:
            limit = float(raw)
        except (TypeError, ValueError):
            raise ValidationError("max_runtime_minutes", f"must be a number of minutes, got {raw!r}") from None
        if not 0 < limit <= SAGEMAKER_MAX_MINUTES:
            raise ValidationError("max_runtime_minutes", f"must be above 0 and at most {SAGEMAKER_MAX_MINUTES:g} "
                                                     f"(SageMaker's 28 days), got {raw!r}")
    if expected_minutes > limit:
        raise ValidationError("expected_minutes", f"{expected_minutes:g} exceeds the job's max_runtime_minutes "
                                              f"({limit:g}): SageMaker would stop it before it finished")
    return limit
