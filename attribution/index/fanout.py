"""A sharded index whose shards answer elsewhere (Ray Serve replicas, web/ray_serve.py).

`FannedIndex` is the query side of `Index` (the IndexView of core/search.py, plus
find_source) over shard servers each holding `Index(root, shard=s)`: every call goes to
the shards at once and their answers merge as `Index` merges its segments, with the same
blob handles (read from the root manifest), so answers are identical to the in-process
index. A shard that fails or does not answer in time makes the call raise
ShardUnavailable naming it: never a partial answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from attribution.core import search
from attribution.core.config import Config
from attribution.core.sketch import estimate_jaccard
from attribution.core.tokenize import TokenStream
from attribution.index.format import IndexFormatError, read_json, read_manifest
from attribution.index.segment import SEGMENT_FILE
from attribution.index.shards import check, segment_path, segment_shard
from attribution.index.store import LRU, TOKEN_CACHE, top_k

NAME_CACHE = 1_000_000  # identifier document frequencies kept (then forgotten at once)


class ShardUnavailable(IndexFormatError):
    """A shard that is down, damaged or too slow: the answer is an error naming it."""


class Pending(Protocol):
    def result(self) -> Any: ...


# call(shard, method, *args) -> Pending: a request to one shard server, answered later
Call = Callable[..., Pending]


class FannedIndex:
    """The IndexView of a sharded index whose shards are served by `call`."""

    def __init__(self, root: str | Path, call: Call, **query: Any) -> None:
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self.config = Config.from_dict(self.manifest["config"]).with_query(**query)
        self.n_shards = check(self.root, self.manifest)
        if not self.n_shards:
            raise IndexFormatError(f"index {self.root} is not sharded: serve it in process")
        self._call = call
        names = self.manifest["segments"]
        sizes = [int(read_json(segment_path(self.root, n) / SEGMENT_FILE)["blobs"]) for n in names]
        self.bases = np.cumsum([0, *sizes])
        owner = np.array([segment_shard(n) for n in names], dtype=np.int64)
        self._segs = [np.flatnonzero(owner == s) for s in range(self.n_shards)]
        self._local_bases = [np.cumsum([0] + [sizes[g] for g in segs]) for segs in self._segs]
        self._owner = owner
        # one index version's answers, kept: each saves a round trip to a shard
        self._tokens = LRU(TOKEN_CACHE, len)
        self._sources = LRU(4096)
        self._names: dict[int, int] = {}
        self._blobs: int | None = None

    # --- handles: global (as Index numbers blobs) <-> a shard's own --------------------
    def _to_global(self, shard: int, handles: np.ndarray) -> np.ndarray:
        lb = self._local_bases[shard]
        j = np.searchsorted(lb, handles, side="right") - 1
        return self.bases[self._segs[shard][j]] + (handles - lb[j])

    def _to_shard(self, handle: int) -> tuple[int, int]:
        g = int(np.searchsorted(self.bases, handle, side="right")) - 1
        shard = int(self._owner[g])
        j = int(np.searchsorted(self._segs[shard], g))
        return shard, int(self._local_bases[shard][j]) + handle - int(self.bases[g])

    def _all(self, method: str, *args: Any) -> list[Any]:
        pending = [self._call(s, method, *args) for s in range(self.n_shards)]
        return [self._wait(s, p) for s, p in enumerate(pending)]

    def _one(self, handle: int, method: str) -> Any:
        shard, local = self._to_shard(handle)
        return self._wait(shard, self._call(shard, method, local))

    def _wait(self, shard: int, pending: Pending) -> Any:
        try:
            return pending.result()
        except Exception as err:
            cause = getattr(err, "cause", None) or err
            detail = str(cause).strip().splitlines()[-1] if str(cause).strip() else type(cause)
            raise ShardUnavailable(
                f"shard {shard} of {self.n_shards} of {self.root} did not answer: {detail}"
            ) from None

    # --- IndexView ------------------------------------------------------------------------
    def lookup(self, view: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        df = np.zeros(hashes.shape[0], dtype=np.int64)
        parts_q, parts_b = [], []
        for s, (q, b, counts) in enumerate(self._all("postings", view, hashes)):
            df += counts
            parts_q.append(q)
            parts_b.append(self._to_global(s, b))
        qidx = np.concatenate(parts_q)
        return qidx, np.concatenate(parts_b), df[qidx]

    def name_df(self, hashes: np.ndarray) -> tuple[np.ndarray, int] | None:
        wanted = [h for h in hashes.tolist() if h not in self._names]
        if wanted or self._blobs is None:
            asked = np.array(wanted, dtype=hashes.dtype)
            df = np.zeros(asked.shape[0], dtype=np.int64)
            total = 0
            for part in self._all("name_df", asked):
                if part is None:
                    return None
                df += part[0]
                total += part[1]
            if len(self._names) > NAME_CACHE:
                self._names.clear()
            self._names.update(zip(wanted, df.tolist(), strict=True))
            self._blobs = total
        return np.array([self._names[h] for h in hashes.tolist()], dtype=np.int64), self._blobs

    def near(self, sketches: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        parts: list[tuple[np.ndarray, ...]] = []
        for s, (q, h, d, r, live) in enumerate(self._all("near_rows", sketches, k)):
            parts.append((q, self._to_global(s, h), d, r, live))
        q, blobs, dist, _, live = top_k(parts, k)
        return q[live], blobs[live], estimate_jaccard(dist[live], sketches.shape[1] * 8)

    # --- core/search.py's Batched hooks: one round of calls each ---------------------------
    def gather(
        self,
        asks: list[tuple[str, np.ndarray]],
        max_df: int,
        sketches: np.ndarray,
        k: int,
        names: np.ndarray,
    ) -> tuple[list[search.Postings], tuple[np.ndarray, ...]]:
        """Both views' postings, the sketch neighbours and the names' frequencies, in one
        call per shard (each shard leaves out the postings of hashes more than max_df of
        its blobs hold: more of the index's do)."""
        wanted = [h for h in names.tolist() if h not in self._names]
        asked = np.array(wanted, dtype=names.dtype)
        answers = self._all("look_up_round", asks, max_df, sketches, k, asked)
        posts = [self._merge_postings([a[0][j] for a in answers]) for j in range(len(asks))]
        self._remember_names(wanted, [a[2] for a in answers])
        empty = np.zeros(0, dtype=np.int64)
        if not len(sketches):
            return posts, (empty, empty, np.zeros(0))
        parts: list[tuple[np.ndarray, ...]] = []
        for s, (q, h, d, r, live) in enumerate(a[1] for a in answers):
            parts.append((q, self._to_global(s, h), d, r, live))
        q, blobs, dist, _, live = top_k(parts, k)
        near = (q[live], blobs[live], estimate_jaccard(dist[live], sketches.shape[1] * 8))
        return posts, near

    def _merge_postings(self, parts: list[tuple[np.ndarray, ...]]) -> search.Postings:
        df = np.zeros(parts[0][2].shape[0], dtype=np.int64)
        live = np.zeros(df.shape[0], dtype=bool)
        for _, _, counts, alive in parts:
            df += counts
            live |= alive
        blobs = [self._to_global(s, p[1]) for s, p in enumerate(parts)]
        qidx = np.concatenate([p[0] for p in parts])
        return qidx, np.concatenate(blobs).astype(np.int64), np.where(live, df, 0)

    def _remember_names(self, wanted: list[int], parts: list[Any]) -> None:
        if any(part is None for part in parts):
            return  # a segment without name tables: name_df answers None when asked
        df = np.zeros(len(wanted), dtype=np.int64)
        for part in parts:
            df += part[0]
        if len(self._names) > NAME_CACHE:
            self._names.clear()
        self._names.update(zip(wanted, df.tolist(), strict=True))
        self._blobs = sum(int(part[1]) for part in parts)

    def prefetch_tokens(self, blobs: list[int]) -> None:
        self._fetch_many(self._tokens, "tokens_many", blobs)

    def prefetch_sources(self, blobs: list[int]) -> None:
        self._fetch_many(self._sources, "sources_many", blobs)

    def _fetch_many(self, cache: LRU, method: str, blobs: list[int]) -> None:
        """The values of the blobs the cache lacks, one call per shard holding some."""
        by_shard: dict[int, list[tuple[int, int]]] = {}
        for blob in blobs:
            if blob not in cache:
                shard, local = self._to_shard(blob)
                by_shard.setdefault(shard, []).append((blob, local))
        pending = {s: self._call(s, method, [lo for _, lo in b]) for s, b in by_shard.items()}
        for s, p in pending.items():
            for (blob, _), value in zip(by_shard[s], self._wait(s, p), strict=True):
                cache.get_or(blob, lambda v=value: v)

    def tokens(self, blob: int) -> TokenStream:
        result: TokenStream = self._tokens.get_or(blob, lambda: self._one(blob, "tokens"))
        return result

    def sources(self, blob: int) -> list[search.Source]:
        return list(self._sources.get_or(blob, lambda: self._one(blob, "sources")))

    def content(self, blob: int) -> bytes:
        return bytes(self._one(blob, "content"))

    def find_source(self, source_id: str) -> tuple[search.Source, int] | None:
        for s, found in enumerate(self._all("find_source", source_id)):
            if found is not None:
                src, local = found
                return src, int(self._to_global(s, np.array([local]))[0])
        return None

    def close(self) -> None:
        pass
