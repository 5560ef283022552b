"""Changes to a built index: removing sources (the deletion list) and merging segments.

A removal follows content by default: the sources elsewhere holding the same content as
a removed source (the identical blob, or the same exact-view token stream: the same code
with other whitespace, comments or layout) go with it. See index/lookup.py for what is
and is not followed.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from attribution.core.paths import vendored_dir
from attribution.index import integrity, kept, lookup
from attribution.index.format import REMOVALS_LOG, fsync_dir, read_manifest, write_manifest
from attribution.index.optout import OptOut
from attribution.index.segment import VIEWS, Segment, SourceRecord
from attribution.index.store import Index
from attribution.index.writer import locked, new_writer, publish, segment_writers

# A deletion list replaced by a newer one stays this long, for readers that read the
# manifest naming it just before the switch (they open it a moment later).
DELETIONS_GRACE_S = 600.0


@dataclass(frozen=True)
class Removal:
    """What one removal rule took out of the index (sources newly removed)."""

    rule: str
    sources: int  # every source removed by the rule, copies included
    blobs: int
    repos: int
    copies: int = 0  # of those: sources elsewhere holding the same content
    copy_repos: int = 0  # repositories those copies were in
    near_copies: int = 0  # of the copies: same tokens, other bytes (layout, comments)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def removal_line(r: Removal) -> str:
    """One line for people: what a rule removed, and how many copies went with it."""
    line = f"{r.rule}: removed {r.sources:,} sources ({r.blobs:,} blobs, {r.repos:,} repos)"
    if r.copies:
        where = "repository" if r.copy_repos == 1 else "repositories"
        line += f", {r.copies:,} of them copies of its content in {r.copy_repos:,} {where}"
        if r.near_copies:
            line += f" ({r.near_copies:,} differing only in layout or comments)"
    return line


def remove(root: str | Path, rules: list[tuple[str, str]], *, follow: bool = True) -> list[Removal]:
    """Add the sources matching each (kind, value) rule to the deletion list; kinds are
    repo, author, blob and path (the caller's own files). With `follow`, the copies of
    their content elsewhere go too.

    Takes effect for every query that opens the index afterwards (all rules at once: a
    reader sees the index before or after, never between); the bytes go at the next
    merge. Each removal is logged (time, rule, counts; never the code)."""
    selections = [
        _Selection(f"{k}:{v}", k, partial(lookup.find, kind=k, value=v)) for k, v in rules
    ]
    return _remove(Path(root), selections, follow)


def enforce(
    root: str | Path, opt_out: OptOut, *, follow: bool = True, keep: bool = True
) -> list[Removal]:
    """Apply an opt-out list to an index: a removal of each of its rules, and of the
    copies of the files a build left out for it (`opt_out.excluded`). `keep=False`: the
    rules are already kept with the index (kept.py)."""
    selections = [
        _Selection(f"{k}:{v}", k, partial(lookup.find, kind=k, value=v)) for k, v in opt_out.rules()
    ]
    if opt_out.excluded:
        seen = sorted(opt_out.excluded)
        selections.append(
            _Selection(
                f"content:{len(seen)} files left out at build",
                "content",
                partial(_shared, blob_ids=seen),
            )
        )
    return _remove(Path(root), selections, follow, keep=keep)


@dataclass(frozen=True)
class _Selection:
    """A removal rule: its name in answers and the log, its kind, and what it selects."""

    rule: str
    kind: str
    select: Callable[[Index], list[lookup.Hit]]


def _shared(index: Index, blob_ids: list[str]) -> list[lookup.Hit]:
    """Sources holding these contents, unless the content is everybody's (too short)."""
    return [h for h in lookup.by_blobs(index, blob_ids) if h.tokens >= index.config.min_tokens]


def _remove(
    root: Path, selections: list[_Selection], follow: bool, *, keep: bool = True
) -> list[Removal]:
    """Write the new deletion list, keep the rules with the index (kept.py), log the
    removal, and only then switch the manifest: a removal killed before the switch is
    completed by the next writer (sweep.py), never live and unlogged."""
    with locked(root):
        manifest = read_manifest(root)
        with Index(root) as index:
            deleted: set[int] = set(index.deleted.tolist())
            found: list[Removal] = []
            entries: list[dict[str, Any]] = []
            for selection in selections:
                removal, sids, entry = _apply(index, selection, follow, deleted)
                deleted |= sids
                found.append(removal)
                entries.append(entry)
        name = _write_deletion_list(root, deleted)
        if keep:
            kept.record(root, entries)
        _log(root, found, follow, {"deletions": name, "previous": manifest.get("deletions")})
        _switch_deletions(root, manifest, name)
    return found


def _vendored(hit: lookup.Hit) -> bool:
    """Under a vendored directory: a copy of someone else's code, not the repo's own."""
    return vendored_dir(hit.path) is not None


def _apply(
    index: Index, selection: _Selection, follow: bool, deleted: set[int]
) -> tuple[Removal, set[int], dict[str, Any]]:
    kind = selection.kind
    hits = [h for h in selection.select(index) if h.sid not in deleted]
    copies: list[lookup.Hit] = []
    seeds: list[lookup.Hit] = []
    near: set[str] = set()
    if follow:
        # vendored files are someone else's code (their authors are those of the repository
        # that vendored them): the copies of it elsewhere are not the repository's own
        seeds = [h for h in hits if kind not in ("repo", "author") or not _vendored(h)]
        taken = {h.sid for h in hits} | deleted
        found, near = lookup.copies(index, seeds)
        copies = [c for c in found if c.sid not in taken]
    every = hits + copies
    removal = Removal(
        rule=selection.rule,
        sources=len(every),
        blobs=len({h.blob_id for h in every}),
        repos=len({h.repo for h in every}),
        copies=len(copies),
        copy_repos=len({c.repo for c in copies}),
        near_copies=sum(c.blob_id in near for c in copies),
    )
    followed = [*seeds, *copies]
    alone = {h.sid for h in every} - {h.sid for h in followed}
    entry = {
        "rule": selection.rule,
        "follow": follow,
        "blobs": sorted({h.blob_id for h in followed}),
        "sources": sorted(alone),
    }
    return removal, {h.sid for h in every}, entry


def _write_deletion_list(root: Path, sids: set[int]) -> str:
    """A new deletion list, durable; its name."""
    name = f"deletions-{uuid.uuid4().hex[:12]}.npy"
    with open(root / name, "wb") as f:
        np.save(f, np.array(sorted(sids), dtype=np.int64))
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(root)
    return name


def _switch_deletions(root: Path, manifest: dict[str, Any], name: str) -> None:
    """The manifest switched to a deletion list (one rename)."""
    old = manifest.get("deletions")
    manifest["deletions"] = name
    write_manifest(root, manifest)
    if old:
        (root / old).touch(exist_ok=True)  # its grace period starts now
    _sweep_deletions(root, keep={name, old} - {None})


def _sweep_deletions(root: Path, keep: set[str | None]) -> None:
    """Delete replaced deletion lists once no reader can still be opening them."""
    now = time.time()
    for path in root.glob("deletions-*.npy"):
        if path.name in keep:
            continue
        try:
            if now - path.stat().st_mtime > DELETIONS_GRACE_S:
                path.unlink()
        except FileNotFoundError:
            pass


def _log(root: Path, removals: list[Removal], follow: bool, switch: dict[str, Any]) -> None:
    """One line per rule, durable before the removal takes effect; `switch` names the
    deletion list it switches to and the one before (for sweep.py's roll-forward)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with open(root / REMOVALS_LOG, "a", encoding="utf-8") as log:
        for r in removals:
            log.write(json.dumps({"time": now, "follow": follow, **r.to_json(), **switch}) + "\n")
        log.flush()
        os.fsync(log.fileno())


def merge(root: str | Path, extra_segments: list[str | Path] | None = None) -> dict[str, Any]:
    """Merge every segment (and segment directories built elsewhere) into one.

    Deleted sources are purged; blobs left without a source are dropped; identical
    contents in several segments are stored once."""
    root = Path(root)
    with locked(root):
        index = Index(root)
        outside = [Segment(Path(p)) for p in extra_segments or []]
        writer = new_writer(root, index.config.sketch_perm // 8, index.n_shards)
        try:
            for seg in [*index.segments, *outside]:  # damaged bytes are never copied on
                problems = integrity.verify_files(seg.path, seg.info)
                if problems:
                    raise integrity.damaged(seg.path, "; ".join(problems))
            for seg in index.segments:
                copy_segment(writer, seg, index.is_deleted)
            for seg in outside:
                copy_segment(writer, seg, lambda sid: False)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        finally:
            index.close()
            for seg in outside:
                seg.close()
        manifest = publish(
            root,
            segment_writers(writer),
            index.config.build_dict(),
            replace=True,
            n_shards=index.n_shards,
        )
        _sweep_deletions(root, keep=set())
        return manifest


CHUNK_ROWS = 1 << 20  # rows of a segment's arrays copied at once by a merge

SOURCES_BY_BLOB = """SELECT s.blob_local, b.blob_id, b.language, b.size, b.tokens, b.lines,
    r.name, r.url, s.path, s.license, s.license_type, s.license_evidence, s.authors,
    s.copyright, (SELECT json_group_array(p.value) FROM people p
                  WHERE p.sid = s.sid AND p.kind = 'email')
    FROM sources s JOIN repos r ON r.repo_id = s.repo_id
    JOIN blobs b ON b.local = s.blob_local ORDER BY s.blob_local, s.sid"""


def copy_segment(writer: Any, seg: Segment, is_deleted: Any) -> None:
    """Append a segment's live sources, their blobs, fingerprints and sketches; streamed
    (records read with pread, arrays in chunks), so memory does not grow with the segment."""
    remap = _copy_blobs(writer, seg, is_deleted)
    for view in VIEWS:
        for hashes, blobs in _chunks(seg, f"fp_{view}_hash.npy", f"fp_{view}_blob.npy"):
            mapped = remap[blobs.astype(np.int64)]
            keep = mapped >= 0
            writer.add_arrays(view, hashes[keep], mapped[keep])
    for sketches, blobs in _chunks(seg, "sketch.npy", "sketch_blob.npy"):
        mapped = remap[blobs.astype(np.int64)]
        keep = mapped >= 0
        writer.add_arrays("sketch", sketches[keep], mapped[keep])
    for reason, count in seg.skipped().items():
        writer.count_skipped(reason, count)


def _copy_blobs(writer: Any, seg: Segment, is_deleted: Any) -> np.ndarray:
    """Copy the blobs with a live source, then their live sources, blob by blob; the
    writer's local id of each of the segment's blobs (-1: not copied here)."""
    remap = np.full(seg.n_blobs, -1, dtype=np.int64)
    with (
        open(seg.path / "tokens.bin", "rb") as tokens,
        open(seg.path / "content.bin", "rb") as content,
    ):
        for local, row, rec in _live_sources(seg, is_deleted):
            if remap[local] < 0 and writer.local_of(rec.blob_id) is None:
                remap[local] = writer.add_stored(
                    row,
                    _pread(tokens, seg.token_off, local),
                    _pread(content, seg.content_off, local),
                )
            writer.add_source(rec)
    return remap


def _live_sources(
    seg: Segment, is_deleted: Any
) -> Iterator[tuple[int, tuple[Any, ...], SourceRecord]]:
    """(local blob, blob row, source) of every live source, by local blob."""
    for r in seg.db.execute(SOURCES_BY_BLOB):
        rec = SourceRecord(
            repo_name=r[6], path=r[8], blob_id=r[1], repo_url=r[7], license=r[9],
            license_type=r[10], license_evidence=r[11], authors=tuple(json.loads(r[12])),
            emails=tuple(json.loads(r[14])), copyright=tuple(json.loads(r[13])),
        )  # fmt: skip
        if not is_deleted(rec.key):
            yield int(r[0]), tuple(r[1:6]), rec


def _pread(f: Any, offsets: np.ndarray, local: int) -> bytes:
    a, b = int(offsets[local]), int(offsets[local + 1])
    return os.pread(f.fileno(), b - a, a)


def _chunks(seg: Segment, values: str, blobs: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A segment's array and its blob array, CHUNK_ROWS rows at a time, read from the
    files (not through the segment's mappings, whose pages would stay resident)."""
    with open(seg.path / values, "rb") as fv, open(seg.path / blobs, "rb") as fb:
        v_shape, v_dtype = _header(fv)
        b_shape, b_dtype = _header(fb)
        row = int(np.prod(v_shape[1:], dtype=np.int64))
        for at in range(0, b_shape[0], CHUNK_ROWS):
            n = min(CHUNK_ROWS, b_shape[0] - at)
            v = np.fromfile(fv, dtype=v_dtype, count=n * row).reshape(n, *v_shape[1:])
            yield v, np.fromfile(fb, dtype=b_dtype, count=n)


def _header(f: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of an open .npy file, left at its first data byte."""
    fmt = np.lib.format
    version = fmt.read_magic(f)
    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = read(f)
    return shape, dtype
