"""Seeds of an alignment grown into maximal spans (align.py chains them).

Seeds are equal k-grams (k = `seed_tokens`) of the abstracted views of a query and a
source; seeds on one diagonal that touch merge into a span, which is extended token by
token to be maximal. Spans far from every anchor (a long, partly identical span) are
coincidences of common syntax and dropped.
"""

from __future__ import annotations

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


def seed_pairs(
    q_abs: np.ndarray, s_abs: np.ndarray, seed_tokens: int, seeds: QuerySeeds | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """All (query position, source position) pairs where a seed k-gram is equal.
    seeds: QuerySeeds.of(q_abs, seed_tokens), when made already."""
    seeds = seeds or QuerySeeds.of(q_abs, seed_tokens)
    sh = kgram_hashes(s_abs, seed_tokens)
    if seeds.sorted.size == 0 or sh.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    # the bitmap of the query's seeds rules out most source positions cheaply
    maybe = np.flatnonzero(seeds.bitmap[sh & 0xFFFF])
    order, q_sorted = seeds.order, seeds.sorted
    lo = np.searchsorted(q_sorted, sh[maybe], side="left")
    hi = np.searchsorted(q_sorted, sh[maybe], side="right")
    found = hi > lo
    hit, lo, hi = maybe[found], lo[found], hi[found]
    # drop seeds that occur too often on either side (repetitive code: tables, padding):
    # they prove little and their pairs grow as the product of the two counts
    # (a hit's lo names its hash: the hash's first place among the query's sorted seeds)
    in_source = np.bincount(lo, minlength=q_sorted.shape[0])[lo]
    rare = (in_source <= MAX_SEED_HITS) & (hi - lo <= MAX_SEED_HITS)
    hit, lo, hi = hit[rare], lo[rare], hi[rare]
    reps = hi - lo
    if int(reps.sum()) > MAX_PAIRS:  # keep the pairs of the rarest seeds
        keep = np.argsort(reps, kind="stable")[
            : int(np.searchsorted(np.cumsum(np.sort(reps)), MAX_PAIRS))
        ]
        keep.sort()
        hit, lo, hi, reps = hit[keep], lo[keep], hi[keep], reps[keep]
    s_pos = np.repeat(hit, reps)
    starts = np.repeat(lo - np.cumsum(reps) + reps, reps)
    q_pos = order[starts + np.arange(int(reps.sum()))] if reps.size else np.zeros(0, np.int64)
    return q_pos.astype(np.int64), s_pos.astype(np.int64)


def seed_spans(q_pos: np.ndarray, s_pos: np.ndarray, seed_tokens: int) -> np.ndarray:
    """Merge seeds that touch on one diagonal into spans: rows (qa, qb, sa, sb)."""
    if q_pos.size == 0:
        return np.zeros((0, 4), dtype=np.int64)
    diag = s_pos - q_pos
    # by diagonal, then query position: one key (pairs are distinct, so are their keys)
    order = np.argsort(diag * (int(q_pos.max()) + 1) + q_pos)
    d, q = diag[order], q_pos[order]
    new_run = np.ones(d.shape[0], dtype=bool)
    new_run[1:] = (d[1:] != d[:-1]) | (q[1:] - q[:-1] > seed_tokens)
    starts = q[new_run]
    # q rises along a run: its end is its last seed's
    ends = q[np.append(np.flatnonzero(new_run)[1:] - 1, d.shape[0] - 1)] + seed_tokens
    diags = d[new_run]
    return np.stack([starts, ends, starts + diags, ends + diags], axis=1)


def extend(spans: np.ndarray, q_abs: np.ndarray, s_abs: np.ndarray, seed_tokens: int) -> np.ndarray:
    """Grow spans while the tokens on both sides stay equal (by at most seed_tokens)."""
    qa, qb, sa, sb = (spans[:, i].copy() for i in range(4))
    nq, ns = q_abs.shape[0], s_abs.shape[0]
    left = np.ones(qa.shape[0], dtype=bool)
    right = left.copy()
    for _ in range(seed_tokens):
        left &= (qa > 0) & (sa > 0)
        left[left] = q_abs[qa[left] - 1] == s_abs[sa[left] - 1]
        qa, sa = qa - left, sa - left
        right &= (qb < nq) & (sb < ns)
        right[right] = q_abs[qb[right]] == s_abs[sb[right]]
        qb, sb = qb + right, sb + right
    return np.stack([qa, qb, sa, sb], axis=1)


def exact_counts(spans: np.ndarray, q_exact: np.ndarray, s_exact: np.ndarray) -> np.ndarray:
    """How many token pairs of each span are identical in the exact view."""
    lengths = spans[:, 1] - spans[:, 0]
    span_id = np.repeat(np.arange(spans.shape[0]), lengths)
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    equal = q_exact[spans[span_id, 0] + offset] == s_exact[spans[span_id, 2] + offset]
    return np.bincount(span_id, weights=equal, minlength=spans.shape[0])


def maximal_spans(
    q: tuple[np.ndarray, np.ndarray],
    s: tuple[np.ndarray, np.ndarray],
    seed_tokens: int,
    min_span: int,
    useful: np.ndarray | None = None,
    seeds: QuerySeeds | None = None,
) -> np.ndarray:
    """Maximal equal runs (abstracted view) of at least min_span tokens, near an anchor.

    q and s are (abstracted, exact) token arrays. An anchor is a run of at least 2 * seed_tokens
    tokens of which at least ANCHOR_EXACT are identical: short runs far from any anchor,
    and runs of names alone, are coincidences of common syntax. Runs with fewer than
    min_span / 2 `useful` query tokens (not boilerplate) are dropped too. seeds:
    QuerySeeds.of(q[0], seed_tokens), when made already."""
    q_abs, s_abs = q[0], s[0]
    q_pos, s_pos = seed_pairs(q_abs, s_abs, seed_tokens, seeds)
    spans = extend(seed_spans(q_pos, s_pos, seed_tokens), q_abs, s_abs, seed_tokens)
    # after extension, seed runs of one maximal span coincide: keep one row per (qa, sa)
    _, first = np.unique(spans[:, 0] * (s_abs.shape[0] + 1) + spans[:, 2], return_index=True)
    spans = spans[first]
    length = spans[:, 1] - spans[:, 0]
    keep = length >= min_span
    if useful is not None:
        csum = np.concatenate([[0], np.cumsum(useful, dtype=np.int64)])
        keep &= (csum[spans[:, 1]] - csum[spans[:, 0]]) >= max(min_span // 2, 1)
    spans, length = spans[keep], length[keep]
    if spans.shape[0] > MAX_RAW_SPANS:  # repetitive code: the longest runs say the most
        top = np.argsort(-length, kind="stable")[:MAX_RAW_SPANS]
        spans, length = spans[top], length[top]
    long = length >= 2 * seed_tokens
    if long.any():
        exact = exact_counts(spans[long], q[1], s[1])
        long[long] = exact >= ANCHOR_EXACT * length[long]
    anchors = spans[long][np.argsort(-length[long], kind="stable")[:MAX_ANCHORS]]
    if anchors.shape[0] == 0:
        return anchors
    near = _near_any(spans[:, 0], spans[:, 1], anchors[:, 0], anchors[:, 1], MAX_GAP)
    near &= _near_any(spans[:, 2], spans[:, 3], anchors[:, 2], anchors[:, 3], MAX_GAP)
    spans, length = spans[near], length[near]
    order = np.lexsort((spans[:, 2], spans[:, 0], -length))[:MAX_SPANS]
    spans = spans[order]
    # a fifth column: per-token value, higher where the tokens are identical
    share = exact_counts(spans, q[1], s[1]) / (spans[:, 1] - spans[:, 0])
    value = np.maximum(share * share, 0.1)  # runs of mere look-alike syntax are worth little
    return np.concatenate([spans, (value * VALUE_SCALE).astype(np.int64)[:, None]], axis=1)


def _near_any(a: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, gap: int) -> np.ndarray:
    """Which intervals [a, b) lie within gap tokens of at least one interval [lo, hi)
    (gap >= 0): some lo <= b + gap has hi >= a - gap, found by a prefix maximum of hi
    over the intervals sorted by lo."""
    order = np.argsort(lo, kind="stable")
    reach = np.maximum.accumulate(hi[order])
    below = np.searchsorted(lo[order], b + gap, side="right")
    return (below > 0) & (reach[np.maximum(below - 1, 0)] >= a - gap)
