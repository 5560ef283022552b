"""`attribution index verify [--deep]`: is every file of an index sound?

Without --deep: what opening the index checks (the manifest against its schema, the
shards, the deletion list, each segment's sizes, headers and array shapes). With
--deep: every byte of every segment against the checksums written with it (integrity.py);
segments written before checksums are read through instead (SQLite's integrity check,
every token record and content decoded). Each damaged file is one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attribution.index import integrity, shards
from attribution.index.format import MANIFEST_FILE, IndexFormatError, read_manifest
from attribution.index.segment import Segment


@dataclass
class Verdict:
    """What verify found: damaged files (one line each), and what was checked."""

    problems: list[str] = field(default_factory=list)
    segments: int = 0
    files: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def sound(self) -> bool:
        return not self.problems


def verify(root: str | Path, *, deep: bool = False) -> Verdict:
    """Check an index; raises IndexFormatError only when there is no index at root."""
    root = Path(root)
    if not (root / MANIFEST_FILE).exists():
        read_manifest(root)  # the usual "no index at ..." line
    out = Verdict()
    try:
        manifest = read_manifest(root)
        shards.check(root, manifest)
    except IndexFormatError as err:
        out.problems.append(_line(err))
        return out
    _check_deletions(root, manifest.get("deletions"), out)
    for name in manifest["segments"]:
        _check_segment(shards.segment_path(root, name), deep, out)
    leftovers = [*root.glob("segments/.tmp-*"), *root.glob("shards/*/.tmp-*")]
    if leftovers:
        out.notes.append(
            f"{len(leftovers)} unfinished segment folders (the next write sweeps them)"
        )
    return out


def check_deletions(root: Path, name: str | None) -> list[str]:
    """The problems of an index's deletion list, a line each (empty: sound)."""
    out = Verdict()
    _check_deletions(root, name, out)
    return out.problems


def _line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text.split("; run 'attribution index verify")[0]


def _check_deletions(root: Path, name: str | None, out: Verdict) -> None:
    if not name:
        return
    path = root / name
    try:
        ids = integrity.load_array(path, mmap_mode=None)
    except IndexFormatError as err:
        out.problems.append(_line(err))
        return
    out.files += 1
    if (
        ids.dtype != np.int64
        or ids.ndim != 1
        or (ids.size > 1 and bool(np.any(ids[1:] < ids[:-1])))
    ):
        out.problems.append(f"{path}: not a sorted list of source ids")


def check_segment(path: Path, deep: bool = True) -> list[str]:
    """The damaged files of one segment, a line each (empty: sound)."""
    out = Verdict()
    _check_segment(path, deep, out)
    return out.problems


def _check_segment(path: Path, deep: bool, out: Verdict) -> None:
    out.segments += 1
    if not path.is_dir():
        out.problems.append(f"{path}: the segment is missing")
        return
    try:
        seg = Segment(path)
    except IndexFormatError as err:
        out.problems.append(_line(err))
        return
    try:
        files = seg.info.get("files")
        out.files += len(files) if isinstance(files, dict) else 0
        if not deep:
            return
        if isinstance(files, dict):
            out.problems += integrity.verify_files(path, seg.info)
        else:
            _read_through(seg, out)
    finally:
        seg.close()


def _read_through(seg: Segment, out: Verdict) -> None:
    """A segment without checksums: SQLite's own check, and every record decoded."""
    try:
        rows = seg.db.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            out.problems.append(f"{seg.path / 'meta.sqlite'}: {rows[0][0]}")
        for local in range(seg.n_blobs):
            seg.tokens(local)
            seg.content(local)
    except IndexFormatError as err:
        out.problems.append(_line(err))
