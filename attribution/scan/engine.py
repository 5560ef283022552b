"""The scan pipeline: read -> hash -> cache look-up -> attribute (in workers) -> judge -> spool.

Items stream from the PATHs in order; misses of the result cache go to worker processes in
batches, with a bounded number in flight, and every record leaves in input order (so a
resumed scan writes the same report as an uninterrupted one). Workers are forked after the
index is opened and warmed, so they share its memory maps.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from attribution.core.policy import Policy
from attribution.index.store import Index, warm_up
from attribution.scan import worker
from attribution.scan.cache import ResultCache
from attribution.scan.progress import ScanProgress
from attribution.scan.records import FileRecord, Problem, ScanItem, Spool, Summary, git_blob_sha1

BATCH_FILES = 32
BATCH_BYTES = 2_000_000
MAX_QUEUED = 4096  # records waiting behind an unfinished batch
IN_FLIGHT = 8  # batches submitted per worker before waiting (a slow file must not idle the rest)


@dataclass
class _Entry:
    """A place in the output order: a problem, a ready record, or a batch of work."""

    problem: Problem | None = None
    record: FileRecord | None = None
    items: list[tuple[ScanItem, str]] = field(default_factory=list)  # (item, blob id)
    size: int = 0
    future: cf.Future[list[dict[str, Any]]] | None = None


class Pipeline:
    """Feeds items through cache and workers; records leave in input order."""

    def __init__(
        self,
        index: Index,
        cache: ResultCache | None,
        jobs: int,
        policy: Policy | None,
        memory_budget: int = 0,
        file_timeout: float = 0.0,
    ) -> None:
        self.index, self.cache, self.jobs, self.policy = index, cache, jobs, policy
        self.memory_budget, self.file_timeout = memory_budget, file_timeout
        self.summary = Summary()
        self.spool = Spool()
        self._queue: deque[_Entry] = deque()
        self._open: _Entry | None = None  # the batch still being filled
        self._in_flight = 0
        self._pool: cf.ProcessPoolExecutor | None = None

    def start(self) -> None:
        """Fork the workers now (they inherit the opened index, and nothing opened later)."""
        if self.jobs <= 1 or self._pool is not None:
            return
        ctx = multiprocessing.get_context("fork")
        self._pool = cf.ProcessPoolExecutor(
            self.jobs, ctx, worker.init_worker, (os.getpid(), self.memory_budget)
        )
        self._pool.submit(int).result()  # a fork pool starts all its workers at once

    # ---------------------------------------------------------------- input side
    def run(self, items: Iterable[ScanItem | Problem], progress: ScanProgress) -> None:
        try:
            for item in items:
                self._feed(item)
                self._emit(block=False, progress=progress)
            self._close_batch()
            while self._queue:
                self._emit(block=True, progress=progress)
        finally:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
            if self.cache is not None:
                self.cache.commit()

    def _feed(self, item: ScanItem | Problem) -> None:
        if isinstance(item, Problem):
            self._queue.append(_Entry(problem=item))
            return
        blob_id = git_blob_sha1(item.data)
        answer = self.cache.get(blob_id, item.language) if self.cache else None
        if answer is not None and _stale_timeout(answer, self.file_timeout):
            answer = None
        if answer is not None and "error" in answer:
            self._queue.append(_Entry(problem=_query_problem(item, answer["error"])))
            return
        if answer is not None:
            self._queue.append(_Entry(record=self._record(item, blob_id, answer, cached=True)))
            return
        if self._open is None:
            self._open = _Entry()
            self._queue.append(self._open)
        self._open.items.append((item, blob_id))
        self._open.size += len(item.data)
        if len(self._open.items) >= BATCH_FILES or self._open.size >= BATCH_BYTES:
            self._close_batch()

    def _close_batch(self) -> None:
        if self._open is not None:
            self._submit(self._open)
            self._open = None

    def _submit(self, entry: _Entry) -> None:
        jobs = [(it.data, it.language, it.filename, blob) for it, blob in entry.items]
        self._in_flight += 1
        if self.jobs <= 1:
            entry.future = cf.Future()
            entry.future.set_result(worker.attribute_batch(jobs))
            return
        if self._pool is None:
            self.start()
        assert self._pool is not None
        entry.future = self._pool.submit(worker.attribute_batch, jobs)

    # ---------------------------------------------------------------- output side
    def _emit(self, block: bool, progress: ScanProgress) -> None:
        """Write out ready entries from the front; wait for the first when `block`, or when
        too much work or too many records are queued."""
        while self._queue:
            head = self._queue[0]
            if head.future is None and head.problem is None and head.record is None:
                if not block:
                    return  # the batch being filled
                self._close_batch()
            assert head.problem or head.record or head.future
            busy = self._in_flight > IN_FLIGHT * self.jobs or len(self._queue) > MAX_QUEUED
            if head.future is not None and not head.future.done() and not (block or busy):
                return
            self._queue.popleft()
            self._write(head)
            progress.update(self.summary.files, self.summary.bytes, self.summary.findings)

    def _write(self, entry: _Entry) -> None:
        if entry.problem is not None:
            if entry.problem.reason == "ignored":
                self.summary.ignored_paths += 1
            else:
                self.summary.problem(entry.problem)
            return
        if entry.record is not None:
            self._keep(entry.record)
            return
        self._in_flight -= 1
        for (item, blob_id), answer in zip(entry.items, self._answers(entry), strict=True):
            if self.cache is not None:
                self.cache.put(blob_id, item.language, answer)
            if "error" in answer:
                self.summary.problem(_query_problem(item, answer["error"]))
                continue
            self._keep(self._record(item, blob_id, answer, cached=False))

    def _answers(self, entry: _Entry) -> list[dict[str, Any]]:
        assert entry.future is not None
        try:
            return entry.future.result()
        except BrokenProcessPool:
            self._restart_pool()
            died = "a worker process died on this batch (out of memory?)"
            return [{"error": died} for _ in entry.items]

    def _restart_pool(self) -> None:
        """A dead worker breaks every pending future: start a new pool and resubmit."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        for entry in self._queue:
            future = entry.future
            if future is not None and entry.items and (not future.done() or future.exception()):
                self._in_flight -= 1
                self._submit(entry)

    def _keep(self, record: FileRecord) -> None:
        self.summary.add(record)
        self.spool.add(record)

    def _record(
        self, item: ScanItem, blob_id: str, answer: dict[str, Any], cached: bool
    ) -> FileRecord:
        result = answer["result"]
        if self.policy is not None:
            for m in result["matches"]:
                d = self.policy.decide(m)
                m["policy"] = {"status": d.status, "rule": d.rule, "reason": d.reason}
        sha1 = hashlib.sha1(item.data, usedforsecurity=False).hexdigest()
        return FileRecord(
            item.path,
            item.rel,
            item.kind,
            blob_id,
            sha1,
            len(item.data),
            result,
            answer["excerpts"],
            cached,
            item.line,
            item.item_id,
        )


def _stale_timeout(answer: dict[str, Any], limit: float) -> bool:
    """A cached time-out under a shorter limit than this scan's (or none) is tried again."""
    timed_out = answer.get("timeout")
    return timed_out is not None and (limit <= 0 or float(timed_out) < limit)


def _query_problem(item: ScanItem, error: str) -> Problem:
    return Problem(item.path, "query", error, item.line)


def run_scan(
    items: Iterable[ScanItem | Problem],
    index: Index,
    *,
    jobs: int = 1,
    open_cache: Callable[[], ResultCache | None] = lambda: None,
    policy: Policy | None = None,
    progress: ScanProgress | None = None,
    file_timeout: float = 0.0,
    memory_budget: int = 0,
) -> tuple[Summary, Spool]:
    """Scan the items against an open index; the totals and the spooled records.

    Workers fork before the result cache opens, so no SQLite handle is shared with them."""
    started = time.monotonic()
    warm_up(index)  # before the workers fork from us
    worker.set_index(index, file_timeout)
    pipeline = Pipeline(index, None, max(1, jobs), policy, memory_budget, file_timeout)
    shown = progress or ScanProgress([], enabled=False)
    try:
        pipeline.start()
        pipeline.cache = open_cache()
        pipeline.run(items, shown)
    finally:
        shown.done()
        worker.set_index(None)
        if pipeline.cache is not None:
            pipeline.cache.close()
    pipeline.summary.seconds = time.monotonic() - started
    return pipeline.summary, pipeline.spool
