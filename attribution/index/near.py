"""The sketch search of an opened index: nearest function sketches by Hamming distance,
exact (faiss compares every row), on threads beside the query's own work.

faiss releases the GIL, so with a core free a search overlaps the k-gram look-up. A
large sketch table is searched in parts, one per thread, and the parts' nearest rows
merged (top_k, as segments' and shards' are): the same rows as one search, in less wall
time when the cores are free, for the same CPU time.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from attribution.core.sketch import estimate_jaccard

TIE_SPARE = 56  # neighbours asked beyond k + 1: most ties at the k-th distance end within
THREADS = 2  # threads a process searches sketches on (at most its cores)
PART_ROWS = 100_000  # a table is split in parts of at least this many rows


def _one_omp_thread() -> None:
    import faiss

    faiss.omp_set_num_threads(1)  # per thread: a new thread would start with every core


class _Beside:
    """This process's threads for sketch searches. Re-made in a forked child, which
    inherits no threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                workers = min(THREADS, os.cpu_count() or 1)
                self._pool = ThreadPoolExecutor(workers, "attribution-sketch", _one_omp_thread)
                self._pid = os.getpid()
            return self._pool.submit(fn, *args)


BESIDE = _Beside()


def nearest_rows(index: Any, sketches: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """(query, row, distance) of the rows of a faiss binary index within each query's k
    nearest distances, ties at the k-th distance all included (faiss picks among them
    arbitrarily; the caller breaks them by row)."""
    sk = np.ascontiguousarray(sketches)
    total = int(index.ntotal)
    dist, ids = index.search(sk, min(k + 1 + TIE_SPARE, total))
    dist, ids = dist.astype(np.int64), ids.astype(np.int64)
    n = sk.shape[0]
    if total <= k:
        return np.repeat(np.arange(n), total), ids.ravel(), dist.ravel()
    tied = dist[:, k] == dist[:, k - 1]
    clear = np.flatnonzero(~tied)
    q = [np.repeat(clear, k)]
    rows, dists = [ids[clear, :k].ravel()], [dist[clear, :k].ravel()]
    for j in np.flatnonzero(tied).tolist():
        radius = int(dist[j, k - 1])
        if dist[j, -1] > radius or dist.shape[1] == total:  # every tied row was returned
            within = dist[j] <= radius
            i, d = ids[j, within], dist[j, within]
        else:  # more ties than asked for: every row that near
            _, d, i = index.range_search(sk[j : j + 1], radius + 1)
        q.append(np.full(i.shape[0], j, dtype=np.int64))
        rows.append(i.astype(np.int64))
        dists.append(d.astype(np.int64))
    return np.concatenate(q), np.concatenate(rows), np.concatenate(dists)


def top_k(parts: list[tuple[np.ndarray, ...]], k: int) -> tuple[np.ndarray, ...]:
    """Per query, the first k of (query, handle, distance, row, live) rows in the order
    (distance, handle, row): the merge of per-segment (or per-shard) nearest rows."""
    if not parts:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty, empty, np.zeros(0, dtype=bool)
    q, h, d, r, live = (np.concatenate([p[j] for p in parts]) for j in range(5))
    order = np.lexsort((r, h, d, q))
    q, h, d, r, live = q[order], h[order], d[order], r[order], live[order]
    first = np.ones(q.shape[0], dtype=bool)
    first[1:] = q[1:] != q[:-1]
    starts = np.flatnonzero(first)
    rank = np.arange(q.shape[0]) - np.repeat(starts, np.diff(np.append(starts, q.shape[0])))
    keep = rank < k
    return q[keep], h[keep], d[keep], r[keep], live[keep]


def live_near(rows: tuple[np.ndarray, ...], bits: int) -> tuple[np.ndarray, ...]:
    """(query, handle, estimated Jaccard) of top_k's rows whose blob is not removed."""
    q, handles, dist, _, live = rows
    return q[live], handles[live], estimate_jaccard(dist[live], bits)


class SketchTable:
    """One segment's sketch table in faiss binary indexes, made on first use: (first row,
    index) per part."""

    def __init__(self, sketch: np.ndarray) -> None:
        import faiss

        faiss.omp_set_num_threads(1)  # one query is small: threads cost more than they give
        n = sketch.shape[0]
        count = max(1, min(THREADS, os.cpu_count() or 1, n // PART_ROWS))
        self.parts: list[tuple[int, Any]] = []
        bounds = [n * j // count for j in range(count + 1)]
        for lo, hi in itertools.pairwise(bounds):
            index = faiss.IndexBinaryFlat(sketch.shape[1] * 8)
            index.add(np.ascontiguousarray(sketch[lo:hi]))
            self.parts.append((lo, index))

    def search(
        self, sketches: np.ndarray, k: int, beside: bool
    ) -> Callable[[], list[tuple[np.ndarray, ...]]]:
        """nearest_rows of each part begun (each on a thread of its own when beside);
        the function returned waits for them: (query, row, distance) per part."""
        jobs: list[tuple[int, Future[Any]]] = []
        for lo, index in self.parts:
            if beside:
                jobs.append((lo, BESIDE.submit(nearest_rows, index, sketches, k)))
            else:
                done: Future[Any] = Future()
                done.set_result(nearest_rows(index, sketches, k))
                jobs.append((lo, done))

        def wait() -> list[tuple[np.ndarray, ...]]:
            out: list[tuple[np.ndarray, ...]] = []
            for lo, job in jobs:
                q, rows, dist = job.result()
                out.append((q, rows + lo, dist))
            return out

        return wait
