"""Index directory layout, versions and atomic writes (documented in FORMAT.md)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from attribution.index.manifest_schema import ManifestError
from attribution.index.manifest_schema import validate as validate_manifest

FORMAT_NAME = "attribution-index"
FORMAT_VERSION = 1
SEGMENT_VERSION = 1
MANIFEST_FILE = "MANIFEST.json"
SEGMENT_FILE = "SEGMENT.json"
SEGMENTS_DIR = "segments"
REMOVALS_LOG = "removals.jsonl"


class IndexFormatError(RuntimeError):
    """An index directory that is missing, damaged, or of another format version."""


def fsync_dir(path: Path) -> None:
    """Make a directory's entries durable (new and renamed files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: Path, value: Any) -> None:
    """Write JSON atomically: a temporary file, fsync, then one rename."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def new_manifest(build_config: dict[str, Any]) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "config": build_config,
        "segments": [],
        "deletions": None,
        "created": now,
        "updated": now,
    }


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of an index directory; refuses other formats and versions."""
    path = root / MANIFEST_FILE
    if not path.exists():
        raise IndexFormatError(
            f"no index at {root}: {MANIFEST_FILE} is missing (build one with "
            f"'attribution index build SOURCE --index {root}')"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise IndexFormatError(f"unreadable manifest {path}: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(f"{path} is not an attribution index manifest")
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        hint = "upgrade attribution to read it" if newer else "rebuild it"
        raise IndexFormatError(
            f"index {root} has format version {version!r}; this program reads version "
            f"{FORMAT_VERSION} ({hint})"
        )
    try:
        validate_manifest(manifest, path)
    except ManifestError as err:
        raise IndexFormatError(f"damaged manifest {err}") from None
    return manifest


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_json(root / MANIFEST_FILE, manifest)
