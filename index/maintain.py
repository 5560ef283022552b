"""Changes to a built index: removing sources (the deletion list) and merging segments."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.format import REMOVALS_LOG, read_manifest, write_manifest
from index.segment import VIEWS, Segment
from index.store import Index
from index.writer import locked, new_segment, publish


@dataclass(frozen=True)
class Removal:
    """What one removal rule matched."""

    rule: str
    sources: int
    blobs: int
    repos: int


def _matching_sids(seg: Segment, kind: str, value: str) -> list[tuple[int, int, str]]:
    """(sid, blob_local, repo) of sources matching a rule in one segment."""
    base = "SELECT s.sid, s.blob_local, r.name FROM sources s JOIN repos r ON r.repo_id = s.repo_id"
    if kind == "repo":
        return seg.db.execute(base + " WHERE r.name = ?", (value,)).fetchall()
    if kind == "author":
        sql = base + " WHERE s.sid IN (SELECT sid FROM people WHERE value = ?)"
        return seg.db.execute(sql, (value.casefold(),)).fetchall()
    if kind == "blob":
        sql = base + " JOIN blobs b ON b.local = s.blob_local WHERE b.blob_id = ?"
        return seg.db.execute(sql, (value.lower(),)).fetchall()
    raise ValueError(f"unknown removal rule {kind!r}; known: repo, author, blob")


def remove(root: str | Path, rules: list[tuple[str, str]]) -> list[Removal]:
    """Add the sources matching each (kind, value) rule to the deletion list.

    Takes effect for every query that opens the index afterwards; the bytes go at the
    next merge. Each removal is logged (time, rule, counts; never the code)."""
    root = Path(root)
    with locked(root):
        manifest = read_manifest(root)
        index = Index(root)
        try:
            found: list[Removal] = []
            sids: set[int] = set(index.deleted.tolist())
            for kind, value in rules:
                rows = [r for seg in index.segments for r in _matching_sids(seg, kind, value)]
                new = {r[0] for r in rows} - sids
                sids |= new
                found.append(
                    Removal(
                        f"{kind}:{value}",
                        len(new),
                        len({r[1] for r in rows}),
                        len({r[2] for r in rows}),
                    )
                )
        finally:
            index.close()
        _write_deletions(root, manifest, sids)
        _log(root, found)
    return found


def _write_deletions(root: Path, manifest: dict[str, Any], sids: set[int]) -> None:
    old = manifest.get("deletions")
    name = f"deletions-{uuid.uuid4().hex[:12]}.npy"
    np.save(root / name, np.array(sorted(sids), dtype=np.int64))
    manifest["deletions"] = name
    write_manifest(root, manifest)
    if old:
        (root / old).unlink(missing_ok=True)


def _log(root: Path, removals: list[Removal]) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(root / REMOVALS_LOG, "a", encoding="utf-8") as log:
        for r in removals:
            log.write(json.dumps({"time": now, **r.__dict__}) + "\n")


def merge(root: str | Path, extra_segments: list[str | Path] | None = None) -> dict[str, Any]:
    """Merge every segment (and segment directories built elsewhere) into one.

    Deleted sources are purged; blobs left without a source are dropped; identical
    contents in several segments are stored once."""
    root = Path(root)
    with locked(root):
        index = Index(root)
        outside = [Segment(Path(p)) for p in extra_segments or []]
        writer = new_segment(root, index.config.sketch_perm // 8)
        try:
            for seg in index.segments:
                _copy_segment(writer, seg, index.is_deleted)
            for seg in outside:
                _copy_segment(writer, seg, lambda sid: False)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        finally:
            index.close()
            for seg in outside:
                seg.close()
        return publish(root, [writer], index.config.build_dict(), replace=True)


def _copy_segment(writer: Any, seg: Segment, is_deleted: Any) -> None:
    """Append a segment's live sources, their blobs, fingerprints and sketches."""
    live: dict[int, list[Any]] = {}
    for local, rec in seg.source_records():
        if not is_deleted(rec.key):
            live.setdefault(local, []).append(rec)
    remap = np.full(seg.n_blobs, -1, dtype=np.int64)
    for row in seg.blob_rows():
        local, blob_id = row[0], row[1]
        if local not in live:
            continue
        existing = writer.local_of(blob_id)
        if existing is None:
            existing = writer.add_stored(
                row[1:], seg.token_record(local), seg.content_record(local)
            )
            remap[local] = existing
        for rec in live[local]:
            writer.add_source(rec)
    for view in VIEWS:
        blobs = remap[np.asarray(seg.fp_blob[view], dtype=np.int64)]
        keep = blobs >= 0
        writer.add_arrays(view, np.asarray(seg.fp_hash[view])[keep], blobs[keep])
    sk_blobs = remap[np.asarray(seg.sketch_blob, dtype=np.int64)]
    keep = sk_blobs >= 0
    writer.add_arrays("sketch", np.asarray(seg.sketch)[keep], sk_blobs[keep])
    for reason, count in seg.skipped().items():
        writer.count_skipped(reason, count)
