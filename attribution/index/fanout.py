"""A sharded index whose shards answer elsewhere (Ray Serve replicas, web/ray_serve.py).

`FannedIndex` is the query side of `Index` (the IndexView of core/search.py, plus
find_source) over shard servers each holding `Index(root, shard=s)`: every call goes to
the shards at once and their answers merge as `Index` merges its segments, with the same
blob handles (read from the root manifest), so answers are identical to the in-process
index. A shard that fails or does not answer in time makes the call raise
ShardUnavailable naming it: never a partial answer.

A search asks in rounds: its look-up (postings, neighbours, names' frequencies) in one,
its candidates' tokens and sources in another, and, when some match has copies to
order, the found blobs' texts in a third. A round is one call per shard, or, when
`call` has a `round` method (web/ray_serve.py: groups of shards per replica), one call
per server holding some of the shards asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from attribution.core import search
from attribution.core.config import Config
from attribution.core.tokenize import TokenStream
from attribution.index.format import IndexFormatError, read_json, read_manifest
from attribution.index.near import live_near, top_k
from attribution.index.segment import SEGMENT_FILE
from attribution.index.shards import check, segment_path, segment_shard
from attribution.index.store import LRU, TOKEN_CACHE

NAME_CACHE = 1_000_000  # identifier document frequencies kept (then forgotten at once)
CONTENT_CACHE = 64 << 20  # bytes of blob texts kept


class ShardUnavailable(IndexFormatError):
    """A shard that is down, damaged or too slow: the answer is an error naming it."""


class Pending(Protocol):
    def result(self) -> Any: ...


# call(shard, method, *args) -> Pending: a request to one shard server, answered later;
# call.round([(shard, method, args), ...]) -> [Pending, ...], when present, sends a round
Call = Callable[..., Pending]
Request = tuple[int, str, tuple[Any, ...]]


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
        self._content = LRU(CONTENT_CACHE, len)
        self._names: dict[int, int] = {}
        self._blobs: int | None = None
        self._query = threading.local()  # the blobs whose sources this thread's query asked

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

    def _round(self, requests: list[Request]) -> list[Any]:
        """The answers of one round of requests, sent at once."""
        batch = getattr(self._call, "round", None)
        if batch is not None:
            pending = list(batch(requests))
        else:
            pending = [self._call(shard, method, *args) for shard, method, args in requests]
        return [self._wait(r[0], p) for r, p in zip(requests, pending, strict=True)]

    def _all(self, method: str, *args: Any) -> list[Any]:
        return self._round([(s, method, args) for s in range(self.n_shards)])

    def _one(self, handle: int, method: str) -> Any:
        shard, local = self._to_shard(handle)
        return self._round([(shard, method, (local,))])[0]

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
        q, blobs, sims = live_near(top_k(parts, k), sketches.shape[1] * 8)
        return q, blobs, sims

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
        return posts, live_near(top_k(parts, k), sketches.shape[1] * 8)

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
        """The candidates' tokens, and their sources too: the blobs a search finds are
        among its candidates, so prefetch_sources then asks nothing."""
        self._query.found = None
        self._fetch([(self._tokens, "tokens_many", blobs), (self._sources, "sources_many", blobs)])

    def prefetch_sources(self, blobs: list[int]) -> None:
        self._query.found = list(blobs)  # the blobs whose content() may be asked next
        self._fetch([(self._sources, "sources_many", blobs)])

    def prefetch_content(self, blobs: list[int]) -> None:
        """The texts of these blobs, in one round (content() will be asked)."""
        self._fetch([(self._content, "content", blobs)])

    def _fetch(self, wants: list[tuple[LRU, str, list[int]]]) -> None:
        """The values the caches lack, in one round: per method, one call per shard
        holding some of its blobs (`content`, which Index answers for one blob, one call
        per blob: a round that has `round` batches them per server)."""
        requests: list[Request] = []
        into: list[tuple[LRU, list[int], bool]] = []  # (cache, blobs, answer is a list)
        for cache, method, blobs in wants:
            for shard, (handles, local) in self._missing(cache, blobs).items():
                if method == "content":
                    requests += [(shard, method, (lo,)) for lo in local]
                    into += [(cache, [h], False) for h in handles]
                else:
                    requests.append((shard, method, (local,)))
                    into.append((cache, handles, True))
        if not requests:
            return
        for (cache, handles, many), answer in zip(into, self._round(requests), strict=True):
            for blob, value in zip(handles, answer if many else [answer], strict=True):
                cache.get_or(blob, lambda v=value: v)

    def _missing(self, cache: LRU, blobs: list[int]) -> dict[int, tuple[list[int], list[int]]]:
        """By shard, the blobs (global handles, the shard's own) the cache lacks."""
        by_shard: dict[int, tuple[list[int], list[int]]] = {}
        for blob in dict.fromkeys(blobs):
            if blob not in cache:
                shard, local = self._to_shard(blob)
                handles, own = by_shard.setdefault(shard, ([], []))
                handles.append(blob)
                own.append(local)
        return by_shard

    def tokens(self, blob: int) -> TokenStream:
        result: TokenStream = self._tokens.get_or(blob, lambda: self._one(blob, "tokens"))
        return result

    def sources(self, blob: int) -> list[search.Source]:
        return list(self._sources.get_or(blob, lambda: self._one(blob, "sources")))

    def content(self, blob: int) -> bytes:
        """A blob's text. The first asked after a search's sources fetches the texts of
        all the blobs it found, in one round (matches with copies ask for several)."""
        if blob not in self._content:
            found = getattr(self._query, "found", None) or []
            self.prefetch_content([blob, *(b for b in found if b != blob)])
        return bytes(self._content.get_or(blob, lambda: self._one(blob, "content")))

    def find_source(self, source_id: str) -> tuple[search.Source, int] | None:
        for s, found in enumerate(self._all("find_source", source_id)):
            if found is not None:
                src, local = found
                return src, int(self._to_global(s, np.array([local]))[0])
        return None

    def close(self) -> None:
        pass
