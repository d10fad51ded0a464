"""boto3 clients, created on first use: the standard AWS_ENDPOINT_URL / AWS_REGION decide where they point."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60)


def region_name() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-2"


def client(service: str) -> Any:
    """A boto3 client; botocore itself honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>)."""
    return boto3.client(service, region_name=region_name(), config=_RETRIES)  # type: ignore[call-overload]
