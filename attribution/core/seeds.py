"""Seeds of an alignment grown into maximal spans (align.py chains them).

Seeds are equal k-grams (k = `seed_tokens`) of the abstracted views of a query and a
source; seeds on one diagonal that touch merge into a span, which is extended token by
token to be maximal. Spans far from every anchor (a long, partly identical span) are
coincidences of common syntax and dropped.

A query is aligned with several candidate sources: every stage runs over all of them at
once (`Sources`: their views end to end, each row of a stage tagged with its source), so
that a query's cost is a few array operations per stage, not per stage and source. Each
source's spans are those it would get alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from attribution.core.fingerprint import kgram_hashes

MAX_SEED_HITS = 64  # a seed repeated more often than this in the source proves little
MAX_PAIRS = 50_000  # seed pairs of one query and one source at most
MAX_RAW_SPANS = 1024  # runs considered at all
MAX_ANCHORS = 128  # anchors other runs must lie near
MAX_SPANS = 48  # longest spans kept for chaining
MAX_GAP = 80  # tokens between two spans of one chain, on either side
ANCHOR_EXACT = 0.3  # share of identical tokens an anchor span needs
VALUE_SCALE = 1 << 20  # fixed-point scale of a span's per-token value

Views = tuple[np.ndarray, np.ndarray]  # (abstracted, exact) token arrays


@dataclass(frozen=True)
class QuerySeeds:
    """The query's side of seed_pairs, the same for every source it is aligned with:
    its seed k-gram hashes, sorted (with their positions), and a 64 Ki-entry bitmap of
    their low bits."""

    sorted: np.ndarray
    order: np.ndarray
    bitmap: np.ndarray

    @classmethod
    def of(cls, q_abs: np.ndarray, seed_tokens: int) -> QuerySeeds:
        qh = kgram_hashes(q_abs, seed_tokens)
        bitmap = np.zeros(1 << 16, dtype=bool)
        bitmap[qh & 0xFFFF] = True
        order = np.argsort(qh, kind="stable")
        return cls(qh[order], order, bitmap)


@dataclass(frozen=True)
class Sources:
    """Sources' two views end to end: source i holds [start[i], start[i] + size[i])."""

    abstract: np.ndarray
    exact: np.ndarray
    start: np.ndarray
    size: np.ndarray

    @classmethod
    def of(cls, views: Sequence[Views]) -> Sources:
        size = np.array([v[0].shape[0] for v in views], dtype=np.int64)
        start = np.cumsum(size) - size
        return cls(
            np.concatenate([v[0] for v in views]), np.concatenate([v[1] for v in views]),
            start, size,
        )  # fmt: skip


def seed_pairs(
    q_abs: np.ndarray, s_abs: np.ndarray, seed_tokens: int, seeds: QuerySeeds | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (query position, source position) pairs where a seed k-gram is equal.
    seeds: QuerySeeds.of(q_abs, seed_tokens), when made already."""
    seeds = seeds or QuerySeeds.of(q_abs, seed_tokens)
    _, q_pos, s_pos = _pairs(q_abs, Sources.of([(s_abs, s_abs)]), seed_tokens, seeds)
    return q_pos, s_pos


def _pairs(
    q_abs: np.ndarray, src: Sources, seed_tokens: int, seeds: QuerySeeds
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """seed_pairs of every source: (source, query position, source position)."""
    sh = kgram_hashes(src.abstract, seed_tokens)
    # the bitmap of the query's seeds rules out most source positions cheaply
    maybe = np.flatnonzero(seeds.bitmap[sh & 0xFFFF]) if seeds.sorted.size else sh[:0]
    group = np.searchsorted(src.start, maybe, side="right") - 1
    hit = maybe - src.start[group]
    inside = hit <= src.size[group] - seed_tokens  # a k-gram within one source
    maybe, group, hit = maybe[inside], group[inside], hit[inside]
    order, q_sorted = seeds.order, seeds.sorted
    wanted = sh[maybe]
    lo = np.searchsorted(q_sorted, wanted, side="left")
    hi = np.searchsorted(q_sorted, wanted, side="right")
    found = hi > lo
    group, hit, lo, hi = group[found], hit[found], lo[found], hi[found]
    # drop seeds that occur too often on either side (repetitive code: tables, padding):
    # they prove little and their pairs grow as the product of the two counts
    # (a hit's lo names its hash: the hash's first place among the query's sorted seeds)
    key = group * q_sorted.shape[0] + lo
    in_source = np.bincount(key)[key]
    rare = (in_source <= MAX_SEED_HITS) & (hi - lo <= MAX_SEED_HITS)
    group, hit, lo, hi = group[rare], hit[rare], lo[rare], hi[rare]
    keep = _rarest_pairs(group, hi - lo)
    group, hit, lo, hi = group[keep], hit[keep], lo[keep], hi[keep]
    reps = hi - lo
    s_pos = np.repeat(hit, reps)
    starts = np.repeat(lo - np.cumsum(reps) + reps, reps)
    q_pos = order[starts + np.arange(s_pos.shape[0])].astype(np.int64)
    return np.repeat(group, reps), q_pos, s_pos.astype(np.int64)


def _rarest_pairs(group: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """Which hits to keep: all of a source's, unless their pairs exceed MAX_PAIRS; then
    the rarest seeds' (most pairs first dropped, the later hit first on a tie)."""
    keep = np.ones(reps.shape[0], dtype=bool)
    total = np.bincount(group, weights=reps) if group.size else np.zeros(0)
    for g in np.flatnonzero(total > MAX_PAIRS).tolist():
        mine = np.flatnonzero(group == g)
        rank = np.argsort(reps[mine], kind="stable")
        fits = int(np.searchsorted(np.cumsum(reps[mine][rank]), MAX_PAIRS))
        keep[mine[rank[fits:]]] = False
    return keep


def seed_spans(q_pos: np.ndarray, s_pos: np.ndarray, seed_tokens: int) -> np.ndarray:
    """Merge seeds that touch on one diagonal into spans: rows (qa, qb, sa, sb)."""
    return _runs(np.zeros_like(q_pos), q_pos, s_pos, seed_tokens)[1]


def _runs(
    group: np.ndarray, q_pos: np.ndarray, s_pos: np.ndarray, seed_tokens: int
) -> tuple[np.ndarray, np.ndarray]:
    """seed_spans of every source: (source, spans), by source, diagonal, query position."""
    if q_pos.size == 0:
        return group[:0], np.zeros((0, 4), dtype=np.int64)
    diag = s_pos - q_pos
    low, width = int(diag.min()), int(q_pos.max()) + 1
    height = int(diag.max()) - low + 1
    # by source, diagonal, then query position: one key (pairs are distinct, so are keys)
    key = np.sort((group * height + diag - low) * width + q_pos)
    line, q = np.divmod(key, width)
    new_run = np.ones(key.shape[0], dtype=bool)
    new_run[1:] = (line[1:] != line[:-1]) | (q[1:] - q[:-1] > seed_tokens)
    starts = q[new_run]
    # q rises along a run: its end is its last seed's
    ends = q[np.append(np.flatnonzero(new_run)[1:] - 1, key.shape[0] - 1)] + seed_tokens
    group, diags = np.divmod(line[new_run], height)
    diags += low
    return group, np.stack([starts, ends, starts + diags, ends + diags], axis=1)


def extend(spans: np.ndarray, q_abs: np.ndarray, s_abs: np.ndarray, seed_tokens: int) -> np.ndarray:
    """Grow spans while the tokens on both sides stay equal (by at most seed_tokens)."""
    group = np.zeros(spans.shape[0], dtype=np.int64)
    return _extend(group, spans, q_abs, Sources.of([(s_abs, s_abs)]), seed_tokens)


def _extend(
    group: np.ndarray, spans: np.ndarray, q_abs: np.ndarray, src: Sources, seed_tokens: int
) -> np.ndarray:
    """extend of every source's spans."""
    qa, qb, sa, sb = (spans[:, i] for i in range(4))
    left = _equal_run(group, qa - 1, sa - 1, -1, q_abs, src, seed_tokens)
    right = _equal_run(group, qb, sb, 1, q_abs, src, seed_tokens)
    return np.stack([qa - left, qb + right, sa - left, sb + right], axis=1)


def _equal_run(
    group: np.ndarray,
    qi: np.ndarray,
    si: np.ndarray,
    step: int,
    q_abs: np.ndarray,
    src: Sources,
    most: int,
) -> np.ndarray:
    """For each row, how many token pairs (qi + step * j, si + step * j), j = 0, 1, ...,
    are equal before the first that differs or lies beyond either side (at most `most`).
    Most rows differ at once (a seed run ends where its tokens do): the first pair is
    read for all rows, the next ones only for the rows it leaves."""
    base, size, nq = src.start[group], src.size[group], q_abs.shape[0]

    def prefix(rows: np.ndarray, n: int) -> np.ndarray:
        steps = step * np.arange(n)
        qj, sj, limit = qi[rows, None] + steps, si[rows, None] + steps, size[rows, None]
        equal = (qj >= 0) & (sj >= 0) & (qj < nq) & (sj < limit)
        qj, sj = np.clip(qj, 0, nq - 1), np.clip(sj, 0, limit - 1) + base[rows, None]
        equal &= q_abs[qj] == src.abstract[sj]
        return np.logical_and.accumulate(equal, axis=1).sum(axis=1)

    run = prefix(np.arange(qi.shape[0]), 1)
    rows = np.flatnonzero(run)
    run[rows] = prefix(rows, most)
    return run


def exact_counts(spans: np.ndarray, q_exact: np.ndarray, s_exact: np.ndarray) -> np.ndarray:
    """How many token pairs of each span are identical in the exact view."""
    lengths = spans[:, 1] - spans[:, 0]
    span_id = np.repeat(np.arange(spans.shape[0]), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    equal = q_exact[spans[span_id, 0] + offset] == s_exact[spans[span_id, 2] + offset]
    return np.bincount(span_id, weights=equal, minlength=spans.shape[0])


def maximal_spans(
    q: Views,
    s: Views,
    seed_tokens: int,
    min_span: int,
    useful: np.ndarray | None = None,
    seeds: QuerySeeds | None = None,
) -> np.ndarray:
    """Maximal equal runs (abstracted view) of at least min_span tokens, near an anchor.

    q and s are (abstracted, exact) token arrays. An anchor is a run of at least 2 * seed_tokens
    tokens of which at least ANCHOR_EXACT are identical: short runs far from any anchor,
    and runs of names alone, are coincidences of common syntax. Runs with fewer than
    min_span / 2 `useful` query tokens (not boilerplate) are dropped too. Rows: (qa, qb,
    sa, sb, value), value the per-token worth of the span (VALUE_SCALE: all identical),
    the longest first (then by qa, sa); at most MAX_SPANS. seeds: QuerySeeds.of(q[0],
    seed_tokens), when made already."""
    return maximal_spans_many(q, [s], seed_tokens, min_span, useful, seeds)[0]


def maximal_spans_many(
    q: Views,
    sources: Sequence[Views],
    seed_tokens: int,
    min_span: int,
    useful: np.ndarray | None = None,
    seeds: QuerySeeds | None = None,
) -> list[np.ndarray]:
    """maximal_spans of the query against each source, found for all of them at once."""
    if not sources:
        return []
    src = Sources.of(sources)
    seeds = seeds or QuerySeeds.of(q[0], seed_tokens)
    group, spans = _runs(*_pairs(q[0], src, seed_tokens, seeds), seed_tokens)
    # runs of one diagonal start over seed_tokens apart, so their extensions never meet:
    # every extended run is a distinct maximal span
    spans = _extend(group, spans, q[0], src, seed_tokens)
    length = spans[:, 1] - spans[:, 0]
    keep = length >= min_span
    if useful is not None:
        csum = np.concatenate([[0], np.cumsum(useful, dtype=np.int64)])
        keep &= (csum[spans[:, 1]] - csum[spans[:, 0]]) >= max(min_span // 2, 1)
    group, spans = group[keep], spans[keep]
    if group.size > MAX_RAW_SPANS and np.bincount(group).max() > MAX_RAW_SPANS:
        rows = _longest(group, spans, MAX_RAW_SPANS)  # repetitive code: the longest say the most
        group, spans = group[rows], spans[rows]
    near = _near_anchors(group, spans, q[1], src, seed_tokens)
    group, spans = group[near], spans[near]
    rows = _longest(group, spans, MAX_SPANS)
    group, spans = group[rows], spans[rows]
    # a fifth column: per-token value, higher where the tokens are identical
    share = _exact_counts(group, spans, q[1], src) / (spans[:, 1] - spans[:, 0])
    value = np.maximum(share * share, 0.1)  # runs of mere look-alike syntax are worth little
    out = np.concatenate([spans, (value * VALUE_SCALE).astype(np.int64)[:, None]], axis=1)
    return np.split(out, np.cumsum(np.bincount(group, minlength=len(sources)))[:-1])


def _longest(group: np.ndarray, spans: np.ndarray, cap: int) -> np.ndarray:
    """Rows of each source's `cap` longest spans (ties: by qa, then sa), in the order
    (source, longest first, qa, sa)."""
    length = spans[:, 1] - spans[:, 0]
    order = np.lexsort((spans[:, 2], spans[:, 0], -length, group))
    group = group[order]
    rank = np.arange(order.shape[0]) - np.searchsorted(group, group, side="left")
    return order[rank < cap]


def _exact_counts(
    group: np.ndarray, spans: np.ndarray, q_exact: np.ndarray, src: Sources
) -> np.ndarray:
    """exact_counts of every source's spans."""
    at = spans[:, :3].copy()
    at[:, 2] += src.start[group]  # where each span starts in the sources end to end
    return exact_counts(at, q_exact, src.exact)


def _near_anchors(
    group: np.ndarray, spans: np.ndarray, q_exact: np.ndarray, src: Sources, seed_tokens: int
) -> np.ndarray:
    """Which spans lie within MAX_GAP tokens, on both sides, of an anchor of their source:
    one of its MAX_ANCHORS longest spans of 2 * seed_tokens with ANCHOR_EXACT identical."""
    length = spans[:, 1] - spans[:, 0]
    long = length >= 2 * seed_tokens
    if long.any():
        exact = _exact_counts(group[long], spans[long], q_exact, src)
        long[long] = exact >= ANCHOR_EXACT * length[long]
    anchors = np.flatnonzero(long)
    if anchors.size == 0:
        return long
    if np.bincount(group[anchors]).max() > MAX_ANCHORS:
        anchors = anchors[_longest(group[anchors], spans[anchors], MAX_ANCHORS)]
    # each source's positions moved a stride apart, so only its own anchors are near
    stride = max(int(spans[:, 1].max(initial=0)), int(spans[:, 3].max(initial=0))) + 2 * MAX_GAP + 1
    at = spans + (group * stride)[:, None]
    near = _near_any(at[:, 0], at[:, 1], at[anchors, 0], at[anchors, 1], MAX_GAP)
    near &= _near_any(at[:, 2], at[:, 3], at[anchors, 2], at[anchors, 3], MAX_GAP)
    return near


def _near_any(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap: int) -> np.ndarray:
    """Which intervals [a, b) lie within gap tokens of at least one interval [lo, hi)
    (gap >= 0): some lo <= b + gap has hi >= a - gap, found by a prefix maximum of hi
    over the intervals sorted by lo."""
    order = np.argsort(lo, kind="stable")
    reach = np.maximum.accumulate(hi[order])
    below = np.searchsorted(lo[order], b + gap, side="right")
    return (below > 0) & (reach[np.maximum(below - 1, 0)] >= a - gap)
