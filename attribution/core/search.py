"""The query path: tokenize -> look up -> align -> score -> explain.

The search talks to an index through the small `IndexView` protocol, so the on-disk
index (index/store.py) and an in-memory one in a test answer the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

import numpy as np

from attribution.core import align, sketch
from attribution.core.arrays import distinct
from attribution.core.config import Config
from attribution.core.explain import MAX_ORIGINS, authority, closest_first, explain
from attribution.core.fingerprint import kgram_hashes
from attribution.core.languages import (
    IDENTIFIER,
    detect_language,
    guess_language,
    language_for_path,
)
from attribution.core.obligations import compatible
from attribution.core.score import Judgement, accepted, chain_pairs, judge
from attribution.core.tokenize import TokenStream, tokenize_snippet

VIEWS = ("exact", "abstract")
MIN_CANDIDATE_SCORE = 3.0  # an exact k-gram hit weighs 2, an abstracted one 1
CANDIDATE_RATIO = 0.2  # candidates far below the best one are not aligned
EARLY_STOP_RANK = 4  # always align at least this many candidates
EARLY_STOP_RATIO = 0.75  # once the query is covered, skip candidates this much weaker
NEAR_K = 8  # sketch neighbours asked per query sketch


class QueryError(ValueError):
    """A query that cannot be attributed (empty, binary, too large, unknown language)."""


@dataclass(frozen=True)
class Source:
    """One indexed file occurrence, as shown in answers."""

    id: str
    repo_name: str
    path: str
    blob_id: str
    url: str | None = None
    license: str = "NOASSERTION"
    license_type: str = "unknown"
    authors: tuple[str, ...] = ()
    copyright: tuple[str, ...] = ()
    obligations: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "repo_name": self.repo_name,
            "path": self.path,
            "blob_id": self.blob_id,
            "swhid": f"swh:1:cnt:{self.blob_id}",
            "url": self.url,
            "license": self.license,
            "license_type": self.license_type,
            "authors": list(self.authors),
            "copyright": list(self.copyright),
            "obligations": list(self.obligations),
        }


class IndexView(Protocol):
    """What the search needs from an index. Blobs are integer handles."""

    config: Config

    def lookup(self, view: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Postings of query hashes: (index into hashes, blob, document frequency of the hash)."""
        ...

    def near(self, sketches: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sketch neighbours: (index into sketches, blob, estimated Jaccard)."""
        ...

    def tokens(self, blob: int) -> TokenStream:
        """The stored token stream of a blob."""
        ...

    def name_df(self, hashes: np.ndarray) -> tuple[np.ndarray, int] | None:
        """Blobs holding each identifier hash, and blobs in all (None: not known)."""
        ...

    def sources(self, blob: int) -> list[Source]:
        """Live (not removed) sources holding a blob, most authoritative first."""
        ...

    def content(self, blob: int) -> bytes:
        """The stored text of a blob."""
        ...


Postings = tuple[np.ndarray, np.ndarray, np.ndarray]


class Batched(Protocol):
    """Optional hooks of an IndexView that answers elsewhere (index/fanout.py): each asks
    what the search will need in one round of calls instead of one call per item. The
    answers are the same as the plain IndexView's; an index without them is asked item
    by item."""

    def gather(
        self,
        asks: list[tuple[str, np.ndarray]],
        max_df: int,
        sketches: np.ndarray,
        k: int,
        names: np.ndarray,
    ) -> tuple[list[Postings], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per (view, hashes): (index into hashes, blob) of the live postings of the hashes
        held by at most max_df blobs (the others' postings may be left out), and per hash
        its document frequency (0 when no live blob holds it); and near(sketches, k).
        names: identifier hashes name_df may be asked about later."""
        ...

    def prefetch_tokens(self, blobs: list[int]) -> None:
        """Fetch the token streams of these blobs now (tokens() will be asked)."""
        ...

    def prefetch_sources(self, blobs: list[int]) -> None:
        """Fetch the sources of these blobs now (sources() will be asked)."""
        ...


@dataclass
class Found:
    """A judged match of the query against one blob (or several identical ones)."""

    blob: int
    judgement: Judgement
    source_tokens: TokenStream
    key: tuple[Any, ...]
    sources: list[Source] = field(default_factory=list)
    members: list[Found] = field(default_factory=list)  # same matched tokens, other blobs


def attribute(
    code: str | bytes,
    index: IndexView,
    *,
    language: str | None = None,
    filename: str | None = None,
    config: Config | None = None,
    project_license: str | None = None,
    origins_offset: int = 0,
    origins_limit: int | None = MAX_ORIGINS,
) -> dict[str, Any]:
    """Attribute a snippet: the SPEC result (query, verdict, matches, elapsed_ms). With
    the project's own license, each match also says whether its license is compatible.
    Each match lists the copies after its first from origins_offset, origins_limit of them
    (None: all); `copies` counts them all."""
    started = time.perf_counter()
    cfg = config or index.config
    data = code.encode("utf-8", "surrogatepass") if isinstance(code, str) else code
    lang = _query_language(data, language, filename, cfg)
    query = tokenize_snippet(data, lang)
    found = [] if len(query) == 0 else _search(query, index, cfg)
    for f in found[: cfg.top]:
        if len(f.members) > 1:
            f.sources = _closest_first(f, query, data, lang, index)
    matches = [explain(f, query, origins_offset, origins_limit) for f in found[: cfg.top]]
    if project_license:
        for m in matches:
            ok, reason = compatible(m["source"]["license"], project_license)
            m["compatibility"] = {
                "project_license": project_license,
                "compatible": ok,
                "reason": reason,
            }
    return {
        "query": {"language": lang, "lines": _count_lines(data), "tokens": len(query)},
        "verdict": "match" if matches else "no_match",
        "matches": matches,
        "elapsed_ms": round((time.perf_counter() - started) * 1000.0, 3),
    }


def _query_language(data: bytes, language: str | None, filename: str | None, cfg: Config) -> str:
    if not data.strip():
        raise QueryError("empty query: there is no code to attribute")
    if len(data) > cfg.max_query_bytes:
        raise QueryError(
            f"query too large: {len(data):,} bytes (limit {cfg.max_query_bytes:,} bytes)"
        )
    if b"\x00" in data[:8192]:
        raise QueryError("query looks binary (it contains NUL bytes); send source text")
    try:
        lang = detect_language(filename, data[:256], language)
    except ValueError as err:
        raise QueryError(str(err)) from err
    return lang or guess_language(data)


def _count_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _search(query: TokenStream, index: IndexView, cfg: Config) -> list[Found]:
    if len(query) < cfg.min_tokens:
        return []  # too short to hold the evidence a match needs
    candidates, rare, abstract_df = _look_up(query, index, cfg)
    if int((rare["exact"] | rare["abstract"]).sum()) < cfg.min_tokens:
        return []  # only boilerplate: no alignment could reach min_tokens of evidence
    _prefetch(index, "prefetch_tokens", [blob for blob, _ in candidates])
    aligner = _Aligner.of(query, index, cfg, rare, abstract_df)
    found = _group(_align(aligner, candidates), index)
    found.sort(key=lambda f: (-f.judgement.evidence, -f.judgement.score, f.blob))
    return found


def _align(aligner: _Aligner, candidates: list[tuple[int, float]]) -> list[Found]:
    """The matches of the candidates, strongest first. Once the query is covered, the
    candidates past EARLY_STOP_RANK much weaker than the first are skipped: what is left
    are weaker copies of the same code. The spans of those aligned whatever the coverage
    are found at once, then those of the rest at once if the query is not covered yet."""
    blobs = [blob for blob, _ in candidates]
    top = candidates[0][1] if candidates else 0.0
    weak = [
        r >= EARLY_STOP_RANK and w < EARLY_STOP_RATIO * top for r, (_, w) in enumerate(candidates)
    ]
    sure = weak.index(True) if True in weak else len(blobs)  # weights fall with rank
    found: list[Found] = []
    covered = np.zeros(len(aligner.query), dtype=bool)
    aligner.prepare(blobs[:sure])
    for rank, blob in enumerate(blobs):
        if rank >= sure and covered.mean() >= 0.9:
            break
        if rank == sure:
            aligner.prepare(blobs[sure:])
        for f in aligner.align(blob):
            found.append(f)
            for v in f.judgement.spans:
                covered[v.span.qa : v.span.qb] = True
    return found


def _prefetch(index: IndexView, hook: str, blobs: list[int]) -> None:
    """Call one of Batched's prefetch hooks, when the index has it."""
    fetch = getattr(index, hook, None)
    if fetch is not None and blobs:
        fetch(blobs)


def _look_up(
    query: TokenStream, index: IndexView, cfg: Config
) -> tuple[list[tuple[int, float]], dict[str, np.ndarray], np.ndarray]:
    """Candidate blobs (most shared fingerprints first, plus sketch neighbours); for each
    view which query tokens lie in at least one k-gram rare enough to be evidence; and the
    document frequency of each abstracted k-gram of the query (0: not indexed)."""
    n = len(query)
    posts, near = _gather(query, index, cfg)
    rare: dict[str, np.ndarray] = {}
    rare_hit: list[np.ndarray] = []  # blobs sharing a k-gram few indexed blobs hold
    hit_blobs, hit_weights = [], []
    for (view, weight), (qidx, blobs, df_hash) in zip(
        (("exact", 2.0), ("abstract", 1.0)), posts, strict=True
    ):
        rare[view] = rare_tokens(df_hash > cfg.max_df, cfg.k, n)
        df = df_hash[qidx]
        keep = df <= cfg.max_df
        rare_hit.append(blobs[df <= cfg.rare_df])
        key = distinct(blobs[keep].astype(np.int64) * (n + 1) + qidx[keep])
        uniq, counts = np.unique(key // (n + 1), return_counts=True)
        hit_blobs.append(uniq)
        hit_weights.append(weight * counts)
    blobs, score = _scores(hit_blobs, hit_weights, _near_candidates(near, cfg), cfg.k)
    order = np.lexsort((blobs, -score))[: cfg.max_candidates]
    ranked, top = blobs[order], score[order]
    if ranked.size:
        # below MIN_CANDIDATE_SCORE, a blob sharing a rare k-gram is still worth aligning:
        # a short renamed copy keeps only one or two abstracted fingerprints of its source
        rare_blob = np.isin(ranked, np.concatenate(rare_hit))
        ok = (top >= CANDIDATE_RATIO * top[0]) & ((top >= MIN_CANDIDATE_SCORE) | rare_blob)
        ranked, top = ranked[ok], top[ok]
    return list(zip(ranked.tolist(), top.tolist(), strict=True)), rare, posts[1][2]


def _gather(
    query: TokenStream, index: IndexView, cfg: Config
) -> tuple[list[Postings], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Both views' postings (those of k-grams over max_df blobs may be left out) with
    each k-gram's document frequency, and the sketch neighbours of the query."""
    streams = (("exact", query.text_hash), ("abstract", query.abstract))
    asks = [(view, kgram_hashes(tokens, cfg.k)) for view, tokens in streams]
    sketches = _query_sketches(query, cfg)
    gather = getattr(index, "gather", None)
    if gather is not None:
        names = distinct(query.text_hash[query.kind == IDENTIFIER])
        result: tuple[list[Postings], tuple[np.ndarray, np.ndarray, np.ndarray]]
        result = gather(asks, max(cfg.max_df, cfg.rare_df), sketches, NEAR_K, names)
        return result
    posts = []
    for view, hashes in asks:
        qidx, blobs, df = index.lookup(view, hashes)
        df_hash = np.zeros(hashes.shape[0], dtype=np.int64)
        df_hash[qidx] = df
        posts.append((qidx, blobs, df_hash))
    empty = np.zeros(0, dtype=np.int64)
    near = index.near(sketches, NEAR_K) if len(sketches) else (empty, empty, np.zeros(0))
    return posts, near


def _scores(
    hit_blobs: list[np.ndarray], hit_weights: list[np.ndarray], near: dict[int, float], k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate blob (sorted) and its score: its weighted shared k-grams, or its
    sketch similarity times k when that is more."""
    blobs, inverse = np.unique(np.concatenate(hit_blobs), return_inverse=True)
    weights = np.concatenate(hit_weights).astype(np.float64)
    score = np.bincount(inverse, weights=weights, minlength=blobs.shape[0])
    if not near:
        return blobs, score
    near_blobs = np.array(list(near), dtype=np.int64)
    near_score = np.array(list(near.values()), dtype=np.float64) * k
    blobs, inverse = np.unique(np.concatenate([blobs, near_blobs]), return_inverse=True)
    best = np.zeros(blobs.shape[0], dtype=np.float64)
    np.maximum.at(best, inverse, np.concatenate([score, near_score]))
    return blobs, best


def rare_structure_share(abstract_df: np.ndarray, qa: int, qb: int, k: int, rare_df: int) -> float:
    """Of the abstracted k-grams inside query tokens [qa, qb) that are indexed at all, the
    share held by at most rare_df blobs: near 1 for the structure of one file and its
    copies, near 0 for structure that many files share (accessors, argument parsing)."""
    df = abstract_df[qa : max(qa, qb - k + 1)]
    indexed = df > 0
    return float((indexed & (df <= rare_df)).sum()) / max(int(indexed.sum()), 1)


def rare_tokens(common_kgrams: np.ndarray, k: int, n: int) -> np.ndarray:
    """Tokens covered by at least one k-gram that is not common (all tokens when n < k)."""
    if common_kgrams.shape[0] == 0:
        return np.ones(n, dtype=bool)
    rare_k = (~common_kgrams).astype(np.int64)
    csum = np.concatenate([[0], np.cumsum(rare_k)])
    i = np.arange(n)
    lo = np.clip(i - k + 1, 0, rare_k.shape[0])
    hi = np.clip(i + 1, 0, rare_k.shape[0])
    return (csum[hi] - csum[lo]) > 0


def _query_sketches(query: TokenStream, cfg: Config) -> np.ndarray:
    abstract = query.abstract
    units = query.units
    if len(units) == 0 or len(query) > 4 * cfg.sketch_min_tokens:
        units = np.array([[0, len(query)]], dtype=np.int32)
    sketches, _ = sketch.unit_sketches(
        abstract, units, cfg.sketch_shingle, cfg.sketch_perm, cfg.sketch_min_tokens
    )
    return sketches


def _near_candidates(
    near: tuple[np.ndarray, np.ndarray, np.ndarray], cfg: Config
) -> dict[int, float]:
    _, blobs, sims = near
    out: dict[int, float] = {}
    for blob, sim in zip(blobs.tolist(), sims.tolist(), strict=True):
        if sim >= cfg.near_threshold:
            out[blob] = max(out.get(blob, 0.0), sim)
    return out


def shared_name_bits(
    query: TokenStream, source: TokenStream, chain: list[align.Span], index: IndexView
) -> float:
    """How surprising the identifiers a chain keeps identical are: the sum, over distinct
    names, of log2(blobs / blobs holding the name). `self`, `i` and `err` say nothing; a
    kept attribute or API name that few files use says much (0 when the index cannot tell)."""
    qi, si = chain_pairs(chain)
    kept = (query.text_hash[qi] == source.text_hash[si]) & (query.kind[qi] == IDENTIFIER)
    names = distinct(query.text_hash[qi[kept]])
    known = index.name_df(names) if names.size else None
    if known is None:
        return 0.0
    df, total = known
    return float(np.log2(total / np.maximum(df, 1)).sum())


@dataclass(frozen=True)
class _Aligner:
    """Aligns the query with one candidate after another; what depends on the query
    alone (its two views, its useful tokens, its seeds) is computed once."""

    query: TokenStream
    index: IndexView
    cfg: Config
    rare: dict[str, np.ndarray]
    abstract_df: np.ndarray
    views: tuple[np.ndarray, np.ndarray]
    useful: np.ndarray
    seeds: align.QuerySeeds
    prepared: dict[int, tuple[TokenStream, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        query: TokenStream,
        index: IndexView,
        cfg: Config,
        rare: dict[str, np.ndarray],
        abstract_df: np.ndarray,
    ) -> _Aligner:
        views = (query.abstract, query.text_hash)
        useful = rare["exact"] | rare["abstract"]
        seeds = align.QuerySeeds.of(views[0], cfg.seed_tokens)
        return cls(query, index, cfg, rare, abstract_df, views, useful, seeds)

    def prepare(self, blobs: list[int]) -> None:
        """Find the maximal spans of the query against these blobs, all at once."""
        sources = [self.index.tokens(blob) for blob in blobs]
        spans = align.maximal_spans_many(
            self.views,
            [(s.abstract, s.text_hash) for s in sources],
            self.cfg.seed_tokens,
            self.cfg.min_span,
            self.useful,
            self.seeds,
        )
        self.prepared.update(zip(blobs, zip(sources, spans, strict=True), strict=True))

    def align(self, blob: int) -> list[Found]:
        """The accepted matches of the query against one blob."""
        query, cfg, rare = self.query, self.cfg, self.rare
        if blob not in self.prepared:
            self.prepare([blob])
        source, spans = self.prepared.pop(blob)
        s = (source.abstract, source.text_hash)
        out = []
        for found_chain in align.chains(
            self.views, s, cfg.seed_tokens, cfg.min_span, self.useful, cfg.min_tokens, spans=spans
        ):
            chain = align.clip_to_units(found_chain, query.units)
            verdict = judge(query, source, chain, rare["exact"], rare["abstract"])
            share = rare_structure_share(
                self.abstract_df, chain[0].qa, chain[-1].qb, cfg.k, cfg.rare_df
            )
            bits = partial(shared_name_bits, query, source, chain, self.index)
            if not accepted(verdict, share, cfg, bits):
                continue
            matched = np.concatenate([source.text_hash[sp.sa : sp.sb] for sp in chain])
            key = (tuple((sp.qa, sp.qb) for sp in chain), matched.tobytes())
            out.append(Found(blob, verdict, source, key))
        return out


def _group(found: list[Found], index: IndexView) -> list[Found]:
    """One match per distinct matched content; identical contents pool their sources."""
    groups: dict[tuple[Any, ...], list[Found]] = {}
    _prefetch(index, "prefetch_sources", sorted({f.blob for f in found}))
    for f in found:
        f.sources = index.sources(f.blob)
        if f.sources:  # else every source of this blob was removed
            groups.setdefault(f.key, []).append(f)
    return [
        replace(
            members[0],
            sources=sorted((s for m in members for s in m.sources), key=authority),
            members=members,
        )
        for members in groups.values()
    ]


_FAMILY = {"c": "cpp", "tsx": "typescript"}  # a .h file is C by its name, often C++


def _closest_first(
    f: Found, query: TokenStream, data: bytes, lang: str, index: IndexView
) -> list[Source]:
    """The sources of a match whose blobs differ only in what tokens drop (layout,
    comments; a .ts file and the .js compiled from it), in explain.closest_first's order
    with the lines each shares with the query, comments included. A match has at most one
    member per aligned candidate (cfg.max_candidates)."""
    first, last = f.judgement.spans[0].span, f.judgement.spans[-1].span
    q0, q1 = int(query.line[first.qa]), int(query.end_line[last.qb - 1])
    wanted = {line for line in _plain_lines(data, q0, q1) if line}
    shared: dict[str, int] = {}
    for m in f.members:
        s, spans = m.source_tokens, m.judgement.spans
        s0, s1 = int(s.line[spans[0].span.sa]), int(s.end_line[spans[-1].span.sb - 1])
        lines = _plain_lines(index.content(m.blob), s0, s1)
        shared[m.sources[0].blob_id] = len(wanted.intersection(lines))
    family = _FAMILY.get(lang, lang)

    def other_language(src: Source) -> bool:
        path_lang = language_for_path(src.path)
        return path_lang is not None and _FAMILY.get(path_lang, path_lang) != family

    return closest_first(f.sources, other_language, shared)


def _plain_lines(data: bytes, first: int, last: int) -> list[bytes]:
    """Lines first..last (1-based, inclusive) of data, their white space collapsed."""
    return [b" ".join(line.split()) for line in data.split(b"\n", last)[first - 1 : last]]
