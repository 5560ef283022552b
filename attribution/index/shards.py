"""Shards: one index directory split by blob id into N parts served side by side.

Every blob lives in exactly one shard, chosen by its id (`shard_of`), so all sources of a
content, and every copy of it, sit together. The root manifest stays the one mutable
name: it lists every shard's segments, so a build, add, remove or merge switches all
shards at once. See FORMAT.md ("Shards").
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from attribution.index.format import (
    SEGMENTS_DIR,
    IndexFormatError,
    read_json,
    write_json,
)
from attribution.index.segment import BlobRecord, SegmentWriter, SourceRecord

SHARDS_DIR = "shards"
SHARD_FILE = "SHARD.json"
MAX_SHARDS = 4096
_SHARD_SEGMENT = re.compile(r"^shards/(\d{3,4})/seg-[^/]+$")
_LOCAL_BITS = 32  # ShardedWriter ids: shard << 32 | local id in the shard's writer


def shard_of(blob_id: str, shards: int) -> int:
    """The shard of a blob: a range of its id's first 32 bits (so shards, concatenated in
    order, list blobs in blob id order, as one unsharded segment does)."""
    return (int(blob_id[:8], 16) * shards) >> 32


def shard_count(manifest: dict[str, Any]) -> int:
    """Shards of an index (0: not sharded)."""
    return int(manifest.get("shards") or 0)


def shard_dir(root: Path, shard: int) -> Path:
    return root / SHARDS_DIR / f"{shard:03d}"


def segment_path(root: Path, name: str) -> Path:
    """Where a segment named in a manifest lives: `segments/NAME`, or `shards/NNN/NAME`
    for the segments of a sharded index (named by that relative path)."""
    return root / name if "/" in name else root / SEGMENTS_DIR / name


def segment_shard(name: str) -> int | None:
    """The shard a manifest's segment name belongs to (None: not a shard's segment)."""
    m = _SHARD_SEGMENT.match(name)
    return int(m.group(1)) if m else None


def check_count(shards: int) -> int:
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"--shards must be between 1 and {MAX_SHARDS}, not {shards}")
    return shards


def prepare(root: Path, shards: int, build_config: dict[str, Any]) -> None:
    """Create the shard directories of a new sharded index, each with its SHARD.json."""
    for s in range(shards):
        d = shard_dir(root, s)
        d.mkdir(parents=True, exist_ok=True)
        info = {"shard": s, "shards": shards, "config": build_config}
        if not (d / SHARD_FILE).exists() or read_json(d / SHARD_FILE) != info:
            write_json(d / SHARD_FILE, info)


def check(root: Path, manifest: dict[str, Any], only: int | None = None) -> int:
    """Refuse an index whose shards are missing, damaged or of another build: one line
    naming the shard. Returns the number of shards (0: not sharded)."""
    n = shard_count(manifest)
    if only is not None and not 0 <= only < n:
        has = f"it has {n} shards" if n else "it is not sharded"
        raise IndexFormatError(f"index {root} has no shard {only} ({has})")
    for s in range(n) if only is None else [only]:
        _check_shard(root, manifest, s, n)
    return n


def _check_shard(root: Path, manifest: dict[str, Any], s: int, n: int) -> None:
    d = shard_dir(root, s)
    where = f"shard {s} of {n} ({d})"
    try:
        info = read_json(d / SHARD_FILE)
    except FileNotFoundError:
        raise IndexFormatError(f"{where} is missing: {SHARD_FILE} not found") from None
    except (OSError, ValueError) as err:
        raise IndexFormatError(f"{where} is damaged: unreadable {SHARD_FILE}: {err}") from None
    if not isinstance(info, dict) or not isinstance(info.get("config"), dict):
        raise IndexFormatError(f"{where} is damaged: {SHARD_FILE} is not a shard's JSON object")
    if info.get("shard") != s or info.get("shards") != n:
        raise IndexFormatError(
            f"{where} belongs elsewhere: it says shard {info.get('shard')} of {info.get('shards')}"
        )
    if info.get("config") != manifest["config"]:
        theirs, ours = info.get("config") or {}, manifest["config"]
        diff = ", ".join(
            f"{k}={theirs.get(k)!r} (index: {ours.get(k)!r})"
            for k in sorted(set(theirs) | set(ours))
            if theirs.get(k) != ours.get(k)
        )
        raise IndexFormatError(f"{where} was built with another config: {diff}")
    for name in manifest["segments"]:
        if segment_shard(name) == s and not (root / name).is_dir():
            raise IndexFormatError(f"{where} is damaged: its segment {name} is missing")


class ShardedWriter:
    """One SegmentWriter per shard behind the SegmentWriter methods a build and a merge
    use; each blob, and each source, goes to its blob's shard. Ids it hands out (by
    add_stored and local_of) are shard << 32 | local id."""

    def __init__(self, writers: list[SegmentWriter]) -> None:
        self.writers = writers
        self.n = len(writers)

    def _of(self, blob_id: str) -> SegmentWriter:
        return self.writers[shard_of(blob_id, self.n)]

    def has_blob(self, blob_id: str) -> bool:
        return self._of(blob_id).has_blob(blob_id)

    def add_blob(self, rec: BlobRecord) -> int:
        return self._of(rec.blob_id).add_blob(rec)

    def add_source(self, src: SourceRecord) -> None:
        self._of(src.blob_id).add_source(src)

    def count_skipped(self, reason: str, n: int = 1) -> None:
        self.writers[0].count_skipped(reason, n)  # not a blob's: kept once, in shard 0

    def local_of(self, blob_id: str) -> int | None:
        s = shard_of(blob_id, self.n)
        local = self.writers[s].local_of(blob_id)
        return None if local is None else (s << _LOCAL_BITS) | local

    def add_stored(self, row: tuple[Any, ...], token_record: bytes, content_record: bytes) -> int:
        s = shard_of(row[0], self.n)
        return (s << _LOCAL_BITS) | self.writers[s].add_stored(row, token_record, content_record)

    def add_arrays(self, view: str, hashes: np.ndarray, blobs: np.ndarray) -> None:
        ids = np.asarray(blobs, dtype=np.int64)
        shard = ids >> _LOCAL_BITS
        for s in np.unique(shard).tolist():
            mine = shard == s
            local = (ids[mine] & ((1 << _LOCAL_BITS) - 1)).astype(np.uint32)
            self.writers[s].add_arrays(view, hashes[mine], local)

    @property
    def blob_count(self) -> int:
        return sum(w.blob_count for w in self.writers)

    def finish(self) -> list[dict[str, Any]]:
        return [w.finish() for w in self.writers]

    def abort(self) -> None:
        for w in self.writers:
            w.abort()
