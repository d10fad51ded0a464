"""S3 adapter: immutable evidence objects, report artifacts, listings for download."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from greenai.adapters.aws import client


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` → (bucket, key)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class S3ArtifactStore:
    def __init__(self, bucket: str, s3: Any | None = None) -> None:
        self.bucket = bucket
        self.s3 = s3 or client("s3")

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def get_bytes(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def size(self, key: str) -> int:
        return int(self.s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def put_json_once(self, key: str, document: dict[str, Any]) -> bool:
        """Write-once with S3's conditional put (If-None-Match: *); False when the object is already there."""
        return self.put_conditional(key, json.dumps(document, indent=2, sort_keys=True).encode(), "application/json",
                                    None)

    def get_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The object and its ETag (for a compare-and-swap put), or None when there is none."""
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _not_found(exc):
                return None
            raise
        return answer["Body"].read(), str(answer["ETag"])

    def put_conditional(self, key: str, body: bytes, content_type: str, etag: str | None) -> bool:
        """Put only if the object is still at `etag` (If-Match), or still absent when `etag` is None (If-None-Match);
        False when another writer got there first."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise
        return True

    def put_file(self, key: str, path: str, content_type: str) -> None:
        """Stream a local file up in one PUT (up to S3's 5 GB): big artifacts never sit whole in memory."""
        with open(path, "rb") as body:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def copy(self, source_key: str, key: str) -> None:
        """Server-side copy within the bucket (content type kept)."""
        self.s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key})

    def list_keys(self, prefix: str) -> Iterator[str]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for entry in page.get("Contents", []):
                yield entry["Key"]
