"""Atomic changes to an index directory: one writer at a time, one manifest rename."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from attribution.index import shards
from attribution.index.format import (
    MANIFEST_FILE,
    SEGMENT_FILE,
    SEGMENTS_DIR,
    IndexFormatError,
    fsync_dir,
    new_manifest,
    read_json,
    read_manifest,
    write_manifest,
)
from attribution.index.segment import SegmentWriter
from attribution.index.shards import ShardedWriter
from attribution.index.sweep import recover

LOCK_FILE = ".lock"
_OWN_NAMES = {MANIFEST_FILE, SEGMENTS_DIR, LOCK_FILE, shards.SHARDS_DIR, ".build"}


class IndexBusyError(RuntimeError):
    """Another process is writing to the same index."""


class IndexShrinkError(IndexFormatError):
    """A build would replace an index by one of fewer sources (needs --replace)."""


def live_sources(root: Path) -> int | None:
    """Sources of the index at root not removed (None: no index, or one too damaged to
    count, which a rebuild may replace)."""
    if not (root / MANIFEST_FILE).exists():
        return None
    try:
        manifest = read_manifest(root)
        total = 0
        for name in manifest["segments"]:
            info = read_json(shards.segment_path(root, name) / SEGMENT_FILE)
            total += int(info["sources"])
        deleted = manifest.get("deletions")
        removed = np.load(root / deleted, mmap_mode="r").shape[0] if deleted else 0
    except (OSError, ValueError, KeyError, TypeError, IndexFormatError):
        return None
    return max(total - int(removed), 0)


_HELD: set[int] = set()  # descriptors of the writer locks this process holds


def release_inherited() -> None:
    """In a forked worker: close the writer locks inherited from the parent, so that the
    lock lives exactly as long as the process that took it (a flock is held while any
    descriptor of its open file is)."""
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


@contextmanager
def locked(root: Path) -> Iterator[None]:
    """Hold the index's writer lock (a second writer fails at once, naming the index),
    first putting right what a killed writer left (index/sweep.py). The lock is an
    fcntl lock: the kernel releases it when its holder dies, however it dies."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(f"index {root} is being written by another process") from None
        _HELD.add(lock.fileno())
        try:
            recover(root)
            yield
        finally:
            _HELD.discard(lock.fileno())
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def check_buildable(root: Path) -> None:
    """Refuse to build into a directory holding something other than an index."""
    if not root.exists():
        return
    if (root / MANIFEST_FILE).exists():
        read_manifest(root)  # refuses other formats and newer versions: never clobber them
        return
    foreign = sorted(p.name for p in root.iterdir() if p.name not in _OWN_NAMES)
    if foreign:
        raise IndexFormatError(
            f"refusing to build into {root}: it is not an index and holds {', '.join(foreign[:3])}"
        )


def new_segment(root: Path, sketch_bytes: int, shard: int | None = None) -> SegmentWriter:
    """A segment writer in a hidden temporary directory of the index (of a shard's)."""
    home = root / SEGMENTS_DIR if shard is None else shards.shard_dir(root, shard)
    return SegmentWriter(home / f".tmp-{uuid.uuid4().hex}", sketch_bytes)


def new_writer(root: Path, sketch_bytes: int, n_shards: int) -> SegmentWriter | ShardedWriter:
    """The writer of one build, add or merge: one segment, or one per shard."""
    if not n_shards:
        return new_segment(root, sketch_bytes)
    return ShardedWriter([new_segment(root, sketch_bytes, s) for s in range(n_shards)])


def segment_writers(writer: SegmentWriter | ShardedWriter) -> list[Path]:
    """A writer's finished segments worth publishing (a shard that got nothing has none)."""
    if isinstance(writer, SegmentWriter):
        return [writer.path]
    kept = []
    for w in writer.writers:
        if w.blob_count or w.skipped_count:
            kept.append(w.path)
        else:
            w.abort()
    return kept


def publish(
    root: Path,
    segments: list[Path],
    build_config: dict[str, Any],
    *,
    replace: bool,
    n_shards: int = 0,
) -> dict[str, Any]:
    """Move finished segments into place, then switch the manifest to them in one rename.

    replace=True starts a new index (old segments and deletions are dropped after the
    switch) of n_shards shards (0: not sharded); otherwise the segments are added to the
    current manifest, whose shards they must be written for.
    """
    manifest = _current_or_new(root, build_config, replace)
    if replace and n_shards:
        manifest["shards"] = n_shards
    elif replace:
        manifest.pop("shards", None)
    names = []
    for path in segments:
        name = f"seg-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        home = path.parent
        os.replace(path, home / name)
        fsync_dir(home)
        names.append(
            name if home == root / SEGMENTS_DIR else (home / name).relative_to(root).as_posix()
        )
    old = set(manifest["segments"])
    old_deletions = manifest.get("deletions")
    manifest["segments"] = names if replace else manifest["segments"] + names
    if replace:
        manifest["deletions"] = None
    write_manifest(root, manifest)
    if replace:
        collect_garbage(root, keep=set(names), old=old, old_deletions=old_deletions)
        for stale in sorted(root.glob(f"{shards.SHARDS_DIR}/[0-9]*")):
            if int(stale.name) >= n_shards:  # shards of a previous build with more of them
                shutil.rmtree(stale, ignore_errors=True)
    return manifest


def _current_or_new(root: Path, build_config: dict[str, Any], replace: bool) -> dict[str, Any]:
    if (root / MANIFEST_FILE).exists():
        manifest = read_manifest(root)
        if replace:
            fresh = new_manifest(build_config)
            fresh["created"] = manifest.get("created", fresh["created"])
            fresh["segments"] = manifest["segments"]
            fresh["deletions"] = manifest.get("deletions")
            return fresh
        if manifest["config"] != build_config:
            raise IndexFormatError(
                f"index {root} was built with {manifest['config']}, not {build_config}"
            )
        return manifest
    if not replace:
        raise IndexFormatError(
            f"no index at {root}: build one first with 'attribution index build'"
        )
    return new_manifest(build_config)


def collect_garbage(
    root: Path, keep: set[str], old: set[str], old_deletions: str | None = None
) -> None:
    """Remove segments and deletion lists the manifest no longer names."""
    for name in old - keep:
        shutil.rmtree(shards.segment_path(root, name), ignore_errors=True)
    if old_deletions:
        (root / old_deletions).unlink(missing_ok=True)
    for stale in [*(root / SEGMENTS_DIR).glob(".tmp-*"), *root.glob("shards/*/.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)
