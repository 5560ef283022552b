"""An index directory opened for queries: its segments, minus the deletion list."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from attribution.core import search
from attribution.core.config import Config
from attribution.core.tokenize import TokenStream
from attribution.index import codec, shards
from attribution.index.format import read_manifest
from attribution.index.integrity import damaged, load_array
from attribution.index.near import SketchTable, live_near, top_k
from attribution.index.segment import Segment

TOKEN_CACHE = 2_000_000  # tokens of decoded streams kept per process (about 60 MB)

_SOURCE_SQL = """
SELECT s.sid, s.path, s.license, s.license_type, s.authors, s.copyright, r.name, r.url
FROM sources s JOIN repos r ON r.repo_id = s.repo_id WHERE s.blob_local = ?
"""


# a query long enough to reach every stage (look-up, sketch neighbours, alignment)
WARM_UP = "def warm_up(items, key):\n" + "".join(
    f"    total_{i} = sum(item[key] * {i} for item in items if item)\n" for i in range(4)
)


def warm_up(index: Any) -> None:
    """Make a long-running process ready to answer (serve, lsp, scan, the proxy): load what
    the first query loads lazily (the sketch indexes, the caches), then move every object
    alive to the collector's permanent generation (gc.freeze). A full collection then walks
    only what queries made since, not every module and table loaded so far: it otherwise
    lands on a query now and then, and was most of the slowest 1% (docs/scale.md). Objects
    that are frozen are still freed by reference counting (an Index is); a forked worker also
    shares their pages instead of copying them when the collector marks them."""
    with contextlib.suppress(search.QueryError):
        search.attribute(WARM_UP, index, language="python")
    settle()


def settle() -> None:
    """Freeze what this process holds now (warm_up's second half, for a process whose
    index answers elsewhere: Ray Serve's router)."""
    gc.unfreeze()  # what an earlier warm-up froze and has since become garbage goes now
    gc.collect()
    gc.freeze()


@functools.lru_cache(maxsize=4096)
def obligations_of(expression: str) -> tuple[str, ...]:
    """What reusing code under a license requires (empty when the module is absent)."""
    try:
        from attribution.core.obligations import obligations
    except ImportError:  # pragma: no cover - the licenses module ships with the core
        return ()
    return tuple(obligations(expression))


def _ranges(table: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each hash's postings lie in a sorted fingerprint table: [lo, hi)."""
    lo = np.searchsorted(table, hashes, side="left").astype(np.int64)
    return lo, np.searchsorted(table, hashes, side="right").astype(np.int64)


def _postings(seg: Segment, view: str, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
    """(index into the hashes, local blob) of the postings in the ranges [lo, hi)."""
    counts = hi - lo
    total = int(counts.sum())
    qidx = np.repeat(np.arange(lo.shape[0]), counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    blobs = np.asarray(seg.fp_blob[view][starts + np.arange(total)], dtype=np.int64)
    if total and int(blobs.max()) >= seg.n_blobs:
        raise damaged(seg.path / f"fp_{view}_blob.npy", "names a blob it does not hold")
    return qidx, blobs


class LRU(OrderedDict[Any, Any]):
    """A least-recently-used cache bounded by the total weight of its values."""

    def __init__(self, budget: int, weigh: Any = lambda value: 1) -> None:
        super().__init__()
        self.budget, self.weigh, self.weight = budget, weigh, 0
        self.lock = threading.Lock()

    def get_or(self, key: Any, make: Any) -> Any:
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = make()
        with self.lock:
            if key not in self:
                self[key] = value
                self.weight += self.weigh(value)
            while self.weight > self.budget and len(self) > 1:
                _, old = self.popitem(last=False)
                self.weight -= self.weigh(old)
        return value


class Index:
    """Read side of an index directory; implements attribution.core.search.IndexView."""

    def __init__(self, root: str | Path, *, shard: int | None = None, **query: Any) -> None:
        """Open an index (all its shards), or with `shard` one shard of a sharded index."""
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self.config = Config.from_dict(self.manifest["config"]).with_query(**query)
        self.n_shards = shards.check(self.root, self.manifest, shard)
        self.segment_names = [
            n
            for n in self.manifest["segments"]
            if shard is None or shards.segment_shard(n) == shard
        ]
        self.segments = [Segment(shards.segment_path(self.root, n)) for n in self.segment_names]
        self.bases = np.cumsum([0] + [s.n_blobs for s in self.segments]).tolist()
        self.deleted = self._load_deletions()
        self.dead = [self._dead_blobs(s) for s in self.segments]
        self._tokens = LRU(TOKEN_CACHE, len)  # decoded token streams, by tokens held
        self._sources = LRU(4096)
        self._faiss: dict[int, SketchTable] = {}

    def _load_deletions(self) -> np.ndarray:
        name = self.manifest.get("deletions")
        if not name:
            return np.zeros(0, dtype=np.int64)
        path = self.root / name
        ids = load_array(path, mmap_mode=None)
        if ids.ndim != 1 or ids.dtype != np.int64:
            raise damaged(path, f"a {ids.dtype} array of {ids.ndim} axes, not a list of ids")
        return ids

    def _dead_blobs(self, seg: Segment) -> np.ndarray:
        """Blobs of a segment whose every source is deleted."""
        dead = np.zeros(seg.n_blobs, dtype=bool)
        if self.deleted.size == 0:
            return dead
        live = np.zeros(seg.n_blobs, dtype=np.int64)
        for sid, blob in seg.db.execute("SELECT sid, blob_local FROM sources"):
            if not self.is_deleted(sid):
                live[blob] += 1
        dead[live == 0] = True
        return dead

    def is_deleted(self, sid: int) -> bool:
        i = int(np.searchsorted(self.deleted, sid))
        return i < self.deleted.size and int(self.deleted[i]) == sid

    def _locate(self, handle: int) -> tuple[Segment, int]:
        seg = int(np.searchsorted(self.bases, handle, side="right")) - 1
        return self.segments[seg], handle - int(self.bases[seg])

    # --- IndexView -----------------------------------------------------------------
    def lookup(self, view: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        qidx, blobs, df = self.postings(view, hashes)
        return qidx, blobs, df[qidx]

    def postings(self, view: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(index into hashes, blob handle) of each live posting, and per hash the blobs
        holding it (removed ones included: document frequencies change at merge)."""
        df = np.zeros(hashes.shape[0], dtype=np.int64)
        parts_q, parts_b = [], []
        for i, seg in enumerate(self.segments):
            qidx, local, counts = seg.lookup(view, hashes)
            df += counts
            live = ~self.dead[i][local]
            parts_q.append(qidx[live])
            parts_b.append(local[live] + int(self.bases[i]))
        qidx = np.concatenate(parts_q) if parts_q else np.zeros(0, np.int64)
        blobs = np.concatenate(parts_b) if parts_b else np.zeros(0, np.int64)
        return qidx, blobs, df

    def capped(self, view: str, hashes: np.ndarray, max_df: int) -> tuple[np.ndarray, ...]:
        """postings() without the postings of hashes more than max_df blobs of this index
        hold (a shard's count is at most the whole index's, so a shard keeps every posting
        a search may weigh), plus per hash whether a live blob holds it. Counting needs no
        posting: a hash's blobs are the width of its range in the sorted table."""
        spans = [_ranges(seg.fp_hash[view], hashes) for seg in self.segments]
        df = np.zeros(hashes.shape[0], dtype=np.int64)
        for lo, hi in spans:
            df += hi - lo
        wanted = df <= max_df
        live = np.zeros(hashes.shape[0], dtype=bool)
        parts_q, parts_b = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
        for i, (seg, (lo, hi)) in enumerate(zip(self.segments, spans, strict=True)):
            dead = self.dead[i]
            if not dead.any():  # every posting is live: fetch only the wanted ones
                live |= hi > lo
                qidx, local = _postings(seg, view, lo, np.where(wanted, hi, lo))
            else:  # which hashes a live blob holds needs every posting
                qidx, local = _postings(seg, view, lo, hi)
                alive = ~dead[local]
                live[qidx[alive]] = True
                keep = alive & wanted[qidx]
                qidx, local = qidx[keep], local[keep]
            parts_q.append(qidx)
            parts_b.append(local + int(self.bases[i]))
        return np.concatenate(parts_q), np.concatenate(parts_b), df, live

    def gather(
        self,
        asks: list[tuple[str, np.ndarray]],
        max_df: int,
        sketches: np.ndarray,
        k: int,
        names: np.ndarray,
    ) -> tuple[list[search.Postings], tuple[np.ndarray, ...]]:
        """core/search.py's Batched.gather in process (names are not prefetched: name_df
        reads memory-mapped tables)."""
        near = self._near_rows(sketches, k, beside=True) if len(sketches) else None
        posts = []
        for view, hashes in asks:
            qidx, blobs, df, live = self.capped(view, hashes, max_df)
            posts.append((qidx, blobs, np.where(live, df, 0)))
        if near is None:
            empty = np.zeros(0, dtype=np.int64)
            return posts, (empty, empty, np.zeros(0))
        return posts, live_near(near(), sketches.shape[1] * 8)

    def look_up_round(
        self,
        asks: list[tuple[str, np.ndarray]],
        max_df: int,
        sketches: np.ndarray,
        k: int,
        names: np.ndarray,
    ) -> tuple[list[tuple[np.ndarray, ...]], tuple[np.ndarray, ...] | None, Any]:
        """A shard's part of a search's first round (index/fanout.py): capped postings per
        ask, the nearest sketch rows and the names' document frequencies."""
        near = self._near_rows(sketches, k, beside=True) if len(sketches) else None
        posts = [self.capped(view, hashes, max_df) for view, hashes in asks]
        return posts, None if near is None else near(), self.name_df(names)

    def tokens_many(self, blobs: list[int]) -> list[TokenStream]:
        return [self.tokens(b) for b in blobs]

    def sources_many(self, blobs: list[int]) -> list[list[search.Source]]:
        return [self.sources(b) for b in blobs]

    def name_df(self, hashes: np.ndarray) -> tuple[np.ndarray, int] | None:
        """Blobs holding each identifier hash, and blobs in all (None: a segment of the
        index predates name tables). Removed blobs still count until the next merge."""
        df = np.zeros(hashes.shape[0], dtype=np.int64)
        for seg in self.segments:
            part = seg.name_df(hashes)
            if part is None:
                return None
            df += part
        return df, int(self.bases[-1])

    def near(self, sketches: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k nearest function sketches of the whole index per query sketch (ties
        broken by blob handle, then row), minus those of removed blobs."""
        q, blobs, sims = live_near(self.near_rows(sketches, k), sketches.shape[1] * 8)
        return q, blobs, sims

    def near_rows(self, sketches: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        """(query, blob handle, distance, row, live) of each query's k nearest sketch rows
        in the order (distance, handle, row), removed blobs' included: the same rows
        however the index is split into segments or shards."""
        return self._near_rows(sketches, k, beside=False)()

    def _near_rows(
        self, sketches: np.ndarray, k: int, beside: bool
    ) -> Callable[[], tuple[np.ndarray, ...]]:
        """near_rows begun, each part of each segment's table on a thread of its own when
        beside (near.py); the function returned waits for them and merges."""
        started = [
            (i, self._sketch_table(i).search(sketches, k, beside))
            for i, seg in enumerate(self.segments)
            if seg.sketch.shape[0]
        ]

        def merge() -> tuple[np.ndarray, ...]:
            parts: list[tuple[np.ndarray, ...]] = []
            for i, wait in started:
                for q, rows, dist in wait():
                    local = np.asarray(self.segments[i].sketch_blob[rows], dtype=np.int64)
                    parts.append((q, local + int(self.bases[i]), dist, rows, ~self.dead[i][local]))
            return top_k(parts, k)

        return merge

    def _sketch_table(self, i: int) -> SketchTable:
        table = self._faiss.get(i)
        if table is None:
            table = self._faiss[i] = SketchTable(self.segments[i].sketch)
        return table

    def tokens(self, blob: int) -> TokenStream:
        seg, local = self._locate(blob)
        result: TokenStream = self._tokens.get_or(blob, lambda: seg.tokens(local))
        return result

    def sources(self, blob: int) -> list[search.Source]:
        cached: list[search.Source] = self._sources.get_or(blob, lambda: self._read_sources(blob))
        return list(cached)

    def _read_sources(self, blob: int) -> list[search.Source]:
        seg, local = self._locate(blob)
        blob_id = seg.db.execute("SELECT blob_id FROM blobs WHERE local = ?", (local,)).fetchone()[
            0
        ]
        out = [
            self._source(row, blob_id)
            for row in seg.db.execute(_SOURCE_SQL, (local,))
            if not self.is_deleted(row[0])
        ]
        out.sort(key=search.authority)
        return out

    @staticmethod
    def _source(row: tuple[Any, ...], blob_id: str) -> search.Source:
        sid, path, lic, lic_type, authors, copyright_, repo, url = row
        return search.Source(
            id=codec.source_id(sid),
            repo_name=repo,
            path=path,
            blob_id=blob_id,
            url=url,
            license=lic,
            license_type=lic_type,
            authors=tuple(json.loads(authors)),
            copyright=tuple(json.loads(copyright_)),
            obligations=obligations_of(lic),
        )

    # --- look-ups by id ---------------------------------------------------------------
    def find_source(self, source_id: str) -> tuple[search.Source, int] | None:
        """A source by its public id, with its blob handle; None when unknown or removed."""
        sid = codec.parse_source_id(source_id)
        if self.is_deleted(sid):
            return None
        for i, seg in enumerate(self.segments):
            row = seg.db.execute("SELECT blob_local FROM sources WHERE sid = ?", (sid,)).fetchone()
            if row:
                handle = int(self.bases[i]) + int(row[0])
                for src in self.sources(handle):
                    if src.id == source_id:
                        return src, handle
        return None

    def content(self, blob: int) -> bytes:
        seg, local = self._locate(blob)
        return seg.content(local)

    def close(self) -> None:
        for seg in self.segments:
            seg.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
