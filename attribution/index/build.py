"""Build: read -> tokenize -> fingerprint -> write, in parallel, one segment per run.

A segment depends only on the files given to it, so separate machines can each build
segments of their share of a corpus and the segments merge (index/maintain.py).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attribution.core import sketch
from attribution.core.config import Config
from attribution.core.fingerprint import fingerprints
from attribution.core.license_header import LATER_CHARS
from attribution.core.licenses import RepoContext
from attribution.core.tokenize import tokenize
from attribution.index import codec, kept
from attribution.index.format import MANIFEST_FILE, read_manifest
from attribution.index.guards import check_replace as _check_replace
from attribution.index.ingest import (
    IngestLimits,
    Repository,
    Skipped,
    SourceFile,
    read_installed,
    read_sources,
)
from attribution.index.maintain import enforce
from attribution.index.optout import OptOut
from attribution.index.progress import Progress
from attribution.index.segment import BlobRecord, SegmentWriter, SourceRecord
from attribution.index.shards import ShardedWriter, check_count, shard_count
from attribution.index.shards import check as check_shards
from attribution.index.shards import prepare as prepare_shards
from attribution.index.workers import die_with_parent
from attribution.index.writer import (
    check_buildable,
    live_sources,
    locked,
    new_writer,
    publish,
    release_inherited,
    segment_writers,
)

BATCH_FILES = 64
BATCH_BYTES = 4_000_000
# files attributed before the repository contexts are dropped: a context caches facts per
# directory (~320 bytes each), so a repository of a million directories would hold ~320 MB
CONTEXT_FILES = 100_000
HEAD_CHARS = 8192
EMBEDDED = "installed"  # the SOURCE name of the embedded default


def analyze(data: bytes, language: str, cfg: Config) -> BlobRecord:
    """Tokens, fingerprints of both views, function sketches and compressed bytes of a blob."""
    stream = tokenize(data, language)
    fps = {
        "exact": np.unique(fingerprints(stream.text_hash, cfg.k, cfg.window)[0]),
        "abstract": np.unique(fingerprints(stream.abstract, cfg.k, cfg.window)[0]),
    }
    sketches, _ = sketch.unit_sketches(
        stream.abstract, stream.units, cfg.sketch_shingle, cfg.sketch_perm, cfg.sketch_min_tokens
    )
    return BlobRecord(
        blob_id=codec.blob_id(data),
        language=language,
        size=len(data),
        tokens=len(stream),
        lines=data.count(b"\n") + 1,
        fingerprints=fps,
        sketches=sketches,
        token_record=codec.encode_tokens(stream),
        content_record=codec.compress(data),
        names=stream.identifiers(),
    )


_worker_config: Config | None = None


def _init_worker(parent: int, cfg: Config) -> None:
    global _worker_config
    die_with_parent(parent)
    release_inherited()
    _worker_config = cfg


def _analyze_batch(
    items: list[tuple[bytes, str]], cfg: Config | None = None
) -> list[BlobRecord | str]:
    """Analyze files in a worker; a file that fails gives its error text instead."""
    cfg = cfg or _worker_config
    assert cfg is not None
    out: list[BlobRecord | str] = []
    for data, language in items:
        try:
            out.append(analyze(data, language, cfg))
        except (ValueError, RecursionError, MemoryError, RuntimeError) as err:
            out.append(f"{type(err).__name__}: {err}")
    return out


@dataclass
class BuildReport:
    """What a build read, wrote and skipped."""

    files: int = 0
    blobs: int = 0
    source_bytes: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    examples: list[Skipped] = field(default_factory=list)
    opted_out: int = 0
    resumed_units: int = 0  # a resumed Ray build: units found finished (ray_build.py)
    replaced_sources: int | None = None  # live sources of the index a build replaced
    published: bool = False  # False: nothing was written (the index is as it was)

    def skip(self, item: Skipped) -> None:
        self.skipped[item.reason] = self.skipped.get(item.reason, 0) + 1
        if len(self.examples) < 200:
            self.examples.append(item)


@dataclass
class _Batch:
    items: list[tuple[bytes, str]] = field(default_factory=list)
    sources: list[list[SourceRecord]] = field(default_factory=list)
    paths: list[tuple[str, str]] = field(default_factory=list)
    size: int = 0


class Builder:
    """Feeds files to workers in bounded batches and writes their results in order."""

    def __init__(
        self, writer: SegmentWriter | ShardedWriter, cfg: Config, jobs: int, opt_out: OptOut
    ) -> None:
        self.writer, self.cfg, self.jobs, self.opt_out = writer, cfg, jobs, opt_out
        self.report = BuildReport()
        self.progress = Progress("indexing")
        self._contexts: dict[str, RepoContext] = {}
        self._attributed = 0  # files attributed with the contexts held
        self._in_flight: dict[str, list[SourceRecord]] = {}
        self._batch = _Batch()
        self._pending: deque[tuple[_Batch, cf.Future[list[BlobRecord | str]] | None]] = deque()
        self._pool: cf.ProcessPoolExecutor | None = None
        if jobs > 1:
            ctx = multiprocessing.get_context("fork")
            self._pool = cf.ProcessPoolExecutor(jobs, ctx, _init_worker, (os.getpid(), cfg))

    def run(self, items: Iterable[SourceFile | Skipped]) -> BuildReport:
        try:
            for item in items:
                if isinstance(item, Skipped):
                    self.report.skip(item)
                    self.writer.count_skipped(item.reason)
                else:
                    self._add(item)
            self._flush_batch()
            while self._pending:
                self._collect()
        finally:
            if self._pool:
                self._pool.shutdown(cancel_futures=True)
            self.progress.done()
        return self.report

    def _add(self, item: SourceFile) -> None:
        record = self._source_record(item)
        if self.opt_out.excludes(record):
            self.report.opted_out += 1
            return
        if self.writer.has_blob(record.blob_id):
            self.writer.add_source(record)
            self.report.files += 1
            return
        waiting = self._in_flight.get(record.blob_id)
        if waiting is not None:
            waiting.append(record)
            return
        self._in_flight[record.blob_id] = [record]
        b = self._batch
        b.items.append((item.data, item.language))
        b.sources.append(self._in_flight[record.blob_id])
        b.paths.append((item.repo.name, item.path))
        b.size += len(item.data)
        if len(b.items) >= BATCH_FILES or b.size >= BATCH_BYTES:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if not self._batch.items:
            return
        batch, self._batch = self._batch, _Batch()
        future = self._pool.submit(_analyze_batch, batch.items) if self._pool else None
        self._pending.append((batch, future))
        while len(self._pending) > 2 * self.jobs:
            self._collect()

    def _collect(self) -> None:
        batch, future = self._pending.popleft()
        results = future.result() if future else _analyze_batch(batch.items, self.cfg)
        for result, sources, (repo, path), (data, _) in zip(
            results, batch.sources, batch.paths, batch.items, strict=True
        ):
            self._in_flight.pop(sources[0].blob_id, None)
            if isinstance(result, str):
                item = Skipped(repo, path, "unreadable", f"could not tokenize: {result}")
                self.report.skip(item)
                self.writer.count_skipped("unreadable", len(sources))
                continue
            self.writer.add_blob(result)
            for src in sources:
                self.writer.add_source(src)
            self.report.files += len(sources)
            self.report.blobs += 1
            self.report.source_bytes += len(data)
            self.progress.update(self.report.files, self.report.source_bytes, self.report.skipped)

    def _context(self, repo: Repository) -> RepoContext:
        self._attributed += 1
        if self._attributed > CONTEXT_FILES or len(self._contexts) > 10_000:
            self._contexts.clear()  # the same answers from fresh ones: they only cache
            self._attributed = 1
        ctx = self._contexts.get(repo.name)
        if ctx is None:
            ctx = RepoContext(
                repo.metadata_files,
                declared_license=repo.declared_license,
                declared_authors=repo.declared_authors,
            )
            self._contexts[repo.name] = ctx
        return ctx

    def _source_record(self, item: SourceFile) -> SourceRecord:
        ctx = self._context(item.repo)
        head = item.data[:HEAD_CHARS].decode("utf-8", "replace")
        beyond = item.data[HEAD_CHARS : HEAD_CHARS + LATER_CHARS].decode("utf-8", "replace")
        fa = ctx.attribute_file(
            item.path,
            head,
            declared_license=item.declared_license,
            declared_authors=item.declared_authors,
            beyond=beyond,
        )
        return SourceRecord(
            repo_name=item.repo.name,
            path=item.path,
            blob_id=codec.blob_id(item.data),
            repo_url=item.repo.url or ctx.url,
            license=fa.license,
            license_type=fa.license_type,
            license_evidence=fa.license_evidence,
            authors=_with_history(fa.authors, item.git_authors),
            emails=fa.emails,
            copyright=fa.copyright,
        )


MAX_HISTORY_AUTHORS = 10  # git-history authors kept per file, most commits first


def _with_history(authors: tuple[str, ...], history: tuple[str, ...] | None) -> tuple[str, ...]:
    """The file's own authors (notice, package), then those of its git history."""
    extra = [a for a in (history or ())[:MAX_HISTORY_AUTHORS] if a not in authors]
    return (*authors, *extra)


def read_all(specs: list[str], limits: IngestLimits) -> Iterator[SourceFile | Skipped]:
    """Every file of every SOURCE, in order. `installed` is the embedded default (every
    Python distribution installed here); `installed:flask,numpy` names some of them."""
    for spec in specs:
        name, _, only = spec.partition(":")
        if name == EMBEDDED and not Path(spec).exists():
            wanted = [n for n in only.split(",") if n] if only else None
            yield from read_installed(limits, only=wanted)
        else:
            yield from read_sources(spec, limits)


def build(
    specs: list[str],
    root: str | Path,
    *,
    config: Config | None = None,
    jobs: int | None = None,
    replace: bool = True,
    opt_out: OptOut | None = None,
    limits: IngestLimits | None = None,
    on_report: Callable[[BuildReport], Any] | None = None,
    shards: int | None = None,
    shrink: bool = False,
) -> BuildReport:
    """Index SOURCEs into a new segment (one per shard of a sharded index); replace=True
    makes it the whole index (build, of `shards` shards, None: unsharded), False adds it
    (add, to the index's own shards). The previous index stays readable until the final
    rename, and stays as it was when nothing is indexed; replacing an index by one of
    fewer sources needs `shrink` (IndexShrinkError). The opt-outs kept with the index
    (kept.py) are honoured, their copies removed after the build."""
    root = Path(root)
    cfg = config or Config()
    if replace:
        check_buildable(root)
    rules = opt_out or OptOut()
    with locked(root):
        before = live_sources(root) if replace else None
        existed = (root / MANIFEST_FILE).exists()
        held = kept.opt_out(root)
        n_shards = _shards_for(root, cfg, shards, replace)
        writer = new_writer(root, cfg.sketch_perm // 8, n_shards)
        try:
            builder = Builder(writer, cfg, jobs or os.cpu_count() or 1, rules.merged(held))
            report = builder.run(read_all(specs, limits or IngestLimits()))
            report.replaced_sources = before
            _check_replace(root, report, before, shrink)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        if report.files or (replace and not existed):
            publish(root, segment_writers(writer), cfg.build_dict(), replace=replace,
                    n_shards=n_shards)  # fmt: skip
            report.published = True
        else:
            writer.abort()  # nothing indexed: the index stays exactly as it was
    if report.published and held:
        enforce(root, OptOut(held.repos, held.authors, excluded=rules.excluded), keep=False)
    if on_report:
        on_report(report)
    return report


def _shards_for(root: Path, cfg: Config, shards: int | None, replace: bool) -> int:
    """The shards a build writes (0: unsharded): those asked for by a build, the index's
    own for an add; a build's shard directories are made ready here."""
    if not replace:
        if not (root / MANIFEST_FILE).exists():
            return 0  # publish refuses: there is no index to add to
        manifest = read_manifest(root)
        check_shards(root, manifest)
        return shard_count(manifest)
    if shards is None:
        return 0
    prepare_shards(root, check_count(shards), cfg.build_dict())
    return shards
