"""The code a SageMaker training job runs: this library, packed as a `sourcedir.tar.gz` for the scikit-learn image.

Built from the installed package itself, byte for byte reproducible (sorted entries, zero mtimes), and stored under a
content hash, so a training job runs exactly the library that dispatched it and a redeploy uploads nothing new.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import greenai

ENTRY_SCRIPT = "greenai_train.py"
BUNDLE_PREFIX = "code/sagemaker/"
# The container installs these from requirements.txt; it already has scikit-learn, pandas, numpy and boto3. The same
# range as the library's `train` extra (a test holds them equal), so the bundle is the same wherever it is built.
CONTAINER_REQUIREMENTS = ("codecarbon>=3.0,<4",)
_SKIPPED_PARTS = {"__pycache__", "local"}  # the embedded AWS (moto) is a laptop's, not a training job's

ENTRY_SOURCE = '''"""SageMaker runs this: greenai's training entry point (greenai.sagemaker.entry), from the bundled library."""

import sys

from greenai.sagemaker.entry import main

if __name__ == "__main__":
    sys.exit(main())
'''


@dataclass(frozen=True)
class SourceBundle:
    body: bytes
    digest: str

    @property
    def key(self) -> str:
        return f"{BUNDLE_PREFIX}sourcedir-{self.digest[:16]}.tar.gz"


def _requirements() -> str:
    return "\n".join(CONTAINER_REQUIREMENTS) + "\n"


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    archive.addfile(info, io.BytesIO(data))


def build_bundle(package_dir: Path | None = None) -> SourceBundle:
    """sourcedir.tar.gz: the entry script, requirements.txt and the greenai package (without the embedded AWS)."""
    root = Path(package_dir or Path(greenai.__file__).parent)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not _SKIPPED_PARTS & set(p.relative_to(root).parts)
                   and p.suffix not in (".pyc", ".pyo"))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        _add(archive, ENTRY_SCRIPT, ENTRY_SOURCE.encode())
        _add(archive, "requirements.txt", _requirements().encode())
        for path in files:
            _add(archive, f"greenai/{path.relative_to(root).as_posix()}", path.read_bytes())
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as zipped:
        zipped.write(raw.getvalue())
    body = packed.getvalue()
    return SourceBundle(body, hashlib.sha256(body).hexdigest())
