"""`attribution index repair`: drop the damaged segments of an index, keep the rest.

As Lucene's CheckIndex -exorcise and Elasticsearch's remove-corrupted-data do: a deep
verify names each damaged segment (and each damaged shard's segments) with the sources it
holds, and only on confirmation a manifest without them is published, under the writer
lock, in one rename, logged in removals.jsonl first like a removal. What was dropped
comes back by adding its SOURCE again (`index add`). Damage repair cannot drop (the
manifest, the deletion list) is named, and needs a rebuild.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attribution.index import integrity, shards
from attribution.index.format import (
    REMOVALS_LOG,
    SEGMENT_FILE,
    IndexFormatError,
    read_json,
    read_manifest,
    write_manifest,
)
from attribution.index.verify import check_deletions, check_segment
from attribution.index.writer import locked

SHOWN_REPOS = 5


class IndexChangedError(IndexFormatError):
    """The index was written to between its check and its repair."""


@dataclass
class DamagedSegment:
    """A segment repair drops: what is wrong with it and what it holds."""

    name: str  # as the manifest names it
    problems: list[str]
    sources: int | None  # its live sources (None: unknown, its metadata unreadable)
    repos: list[str] = field(default_factory=list)  # the most common first
    exact: bool = True  # False: counted from SEGMENT.json (removed sources included)


@dataclass
class Diagnosis:
    """What repair found in an index."""

    root: Path
    manifest: dict[str, Any]
    damaged: list[DamagedSegment] = field(default_factory=list)
    unrepairable: list[str] = field(default_factory=list)  # damage outside segments
    bad_shards: list[int] = field(default_factory=list)  # SHARD.json to write again

    @property
    def sources(self) -> int:
        return sum(d.sources or 0 for d in self.damaged)


def diagnose(root: str | Path) -> Diagnosis:
    """Check every byte of every segment (verify --deep); nothing is written."""
    root = Path(root)
    manifest = read_manifest(root)  # a damaged manifest: one line, and nothing to drop
    out = Diagnosis(root, manifest)
    out.unrepairable = check_deletions(root, manifest.get("deletions"))
    deleted = _deleted(root, manifest) if not out.unrepairable else np.zeros(0, np.int64)
    out.bad_shards = _bad_shards(root, manifest)
    for name in manifest["segments"]:
        path = shards.segment_path(root, name)
        problems = check_segment(path, deep=True)
        shard = shards.segment_shard(name)
        if shard in out.bad_shards:
            problems = problems or [f"{path}: in shard {shard}, whose {shards.SHARD_FILE} is bad"]
        if problems:
            out.damaged.append(_held(path, name, problems, deleted))
    return out


def _bad_shards(root: Path, manifest: dict[str, Any]) -> list[int]:
    """Shards whose SHARD.json is missing, damaged or of another build."""
    n = shards.shard_count(manifest)
    bad = []
    for s in range(n):
        try:
            shards.check(root, {**manifest, "segments": []}, only=s)
        except IndexFormatError:
            bad.append(s)
    return bad


def _deleted(root: Path, manifest: dict[str, Any]) -> np.ndarray:
    name = manifest.get("deletions")
    if not name:
        return np.zeros(0, np.int64)
    return np.asarray(integrity.load_array(root / name, mmap_mode=None), dtype=np.int64)


def _held(path: Path, name: str, problems: list[str], deleted: np.ndarray) -> DamagedSegment:
    """The sources a damaged segment holds: from its metadata when SQLite can read it,
    else the count its SEGMENT.json recorded."""
    try:
        uri = f"file:{path / 'meta.sqlite'}?mode=ro&immutable=1"
        with sqlite3.connect(uri, uri=True) as db:
            rows = db.execute(
                "SELECT s.sid, r.name FROM sources s JOIN repos r ON r.repo_id = s.repo_id"
            ).fetchall()
        live = [repo for sid, repo in rows if not _in(deleted, int(sid))]
        repos = [r for r, _ in sorted(Counter(live).items(), key=lambda rc: (-rc[1], rc[0]))]
        return DamagedSegment(name, problems, len(live), repos)
    except (sqlite3.Error, ValueError, TypeError, OverflowError):
        pass
    try:
        count = int(read_json(path / SEGMENT_FILE)["sources"])
    except (OSError, ValueError, KeyError, TypeError):
        return DamagedSegment(name, problems, None, exact=False)
    return DamagedSegment(name, problems, count, exact=False)


def _in(sorted_ids: np.ndarray, sid: int) -> bool:
    i = int(np.searchsorted(sorted_ids, sid))
    return i < sorted_ids.shape[0] and int(sorted_ids[i]) == sid


def drop(diagnosis: Diagnosis) -> dict[str, Any]:
    """Publish the index without its damaged segments; returns the new manifest.
    Refuses (IndexChangedError) when the index was written to since `diagnose`."""
    root = diagnosis.root
    if diagnosis.unrepairable:
        raise IndexFormatError(
            f"index {root}: {diagnosis.unrepairable[0]}; repair drops damaged segments only: "
            f"rebuild the index from its sources ('attribution index build ... --replace')"
        )
    gone = {d.name for d in diagnosis.damaged}
    with locked(root):
        manifest = read_manifest(root)
        if manifest != diagnosis.manifest:
            raise IndexChangedError(
                f"index {root} was written to since it was checked; nothing was dropped "
                f"(run 'attribution index repair' again)"
            )
        _log(root, diagnosis)
        n = shards.shard_count(manifest)
        if diagnosis.bad_shards:
            shards.prepare(root, n, manifest["config"])  # empty shards, sound again
        manifest["segments"] = [s for s in manifest["segments"] if s not in gone]
        write_manifest(root, manifest)
        for name in sorted(gone):
            shutil.rmtree(shards.segment_path(root, name), ignore_errors=True)
    return manifest


def _log(root: Path, diagnosis: Diagnosis) -> None:
    """One line per dropped segment in removals.jsonl, durable before the switch."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(root / REMOVALS_LOG, "a", encoding="utf-8") as log:
        for d in diagnosis.damaged:
            entry = {
                "time": now,
                "rule": f"repair:{d.name}",
                "sources": d.sources,
                "repos": len(d.repos) if d.exact else None,
                "damaged": d.problems[:10],
            }
            log.write(json.dumps(entry) + "\n")
        log.flush()
        os.fsync(log.fileno())
