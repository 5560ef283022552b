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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from attribution.core.paths import vendored_dir
from attribution.index import integrity, kept, lookup
from attribution.index.format import REMOVALS_LOG, fsync_dir, read_manifest, write_manifest
from attribution.index.optout import OptOut
from attribution.index.segment import VIEWS, Segment
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


def copy_segment(writer: Any, seg: Segment, is_deleted: Any) -> None:
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
