"""A folder that stands in for the bucket: where the SageMaker entry point leaves evidence for SageMaker to upload."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class FolderArtifactStore:
    """ArtifactStore over a local folder, keys as relative paths (e.g. /opt/ml/output/data/evidence/runs/…json)."""

    def __init__(self, root: Path, bucket: str = "local-folder") -> None:
        self.root = Path(root)
        self.bucket = bucket

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"key {key!r} leaves {self.root}")
        return path

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(body)
        partial.replace(path)  # whole or absent, never half-written

    def get_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_keys(self, prefix: str) -> Iterator[str]:
        if not self.root.is_dir():
            return iter(())
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return iter(sorted(k for k in keys if k.startswith(prefix) and not k.endswith(".partial")))

    def put_json_once(self, key: str, document: dict[str, Any]) -> bool:
        if self.exists(key):
            return False
        self.put_bytes(key, json.dumps(document, indent=2, sort_keys=True).encode(), "application/json")
        return True
