"""Exact alignment of a query against one source: maximal matching spans, chained.

Seeds are equal k-grams (k = `seed`) of the abstracted views; seeds on one diagonal
that touch merge into a span, which is extended token by token to be maximal. Spans
are chained in order on both sides (a weighted longest-increasing-chain), allowing
gaps for inserted, deleted or changed statements. A chain is one match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attribution.fingerprint import kgram_hashes

MAX_SEED_HITS = 64  # a seed repeated more often than this in the source proves little
MAX_SPANS = 120  # longest spans kept for chaining
MAX_GAP = 80  # tokens between two spans of one chain, on either side
MAX_CHAINS = 3  # matches per source (a query may hold several regions of one file)


@dataclass(frozen=True)
class Span:
    """A maximal run of equal abstracted tokens: query [qa, qb) against source [sa, sb)."""

    qa: int
    qb: int
    sa: int
    sb: int

    def __len__(self) -> int:
        return self.qb - self.qa


def seed_pairs(q_abs: np.ndarray, s_abs: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """All (query position, source position) pairs where a seed k-gram is equal."""
    qh = kgram_hashes(q_abs, seed)
    sh = kgram_hashes(s_abs, seed)
    if qh.size == 0 or sh.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(qh, kind="stable")
    q_sorted = qh[order]
    lo = np.searchsorted(q_sorted, sh, side="left")
    hi = np.searchsorted(q_sorted, sh, side="right")
    hit = np.flatnonzero(hi > lo)
    # drop source seeds that occur too often (repetitive code: tables, padding)
    uniq, inverse, counts = np.unique(sh[hit], return_inverse=True, return_counts=True)
    hit = hit[counts[inverse] <= MAX_SEED_HITS]
    lo, hi = lo[hit], hi[hit]
    reps = hi - lo
    s_pos = np.repeat(hit, reps)
    starts = np.repeat(lo - np.cumsum(reps) + reps, reps)
    q_pos = order[starts + np.arange(int(reps.sum()))] if reps.size else np.zeros(0, np.int64)
    return q_pos.astype(np.int64), s_pos.astype(np.int64)


def seed_spans(q_pos: np.ndarray, s_pos: np.ndarray, seed: int) -> list[Span]:
    """Merge seeds that touch on one diagonal into spans."""
    if q_pos.size == 0:
        return []
    diag = s_pos - q_pos
    order = np.lexsort((q_pos, diag))
    d, q = diag[order], q_pos[order]
    new_run = np.ones(d.shape[0], dtype=bool)
    new_run[1:] = (d[1:] != d[:-1]) | (q[1:] - q[:-1] > seed)
    run_id = np.cumsum(new_run) - 1
    starts = q[new_run]
    ends = np.zeros(starts.shape[0], dtype=np.int64)
    np.maximum.at(ends, run_id, q + seed)
    diags = d[new_run]
    return [
        Span(int(a), int(b), int(a + dd), int(b + dd))
        for a, b, dd in zip(starts.tolist(), ends.tolist(), diags.tolist(), strict=True)
    ]


def extend(span: Span, q_abs: np.ndarray, s_abs: np.ndarray) -> Span:
    """Grow a span while the tokens on both sides stay equal."""
    qa, sa = span.qa, span.sa
    while qa > 0 and sa > 0 and q_abs[qa - 1] == s_abs[sa - 1]:
        qa, sa = qa - 1, sa - 1
    qb, sb = span.qb, span.sb
    nq, ns = q_abs.shape[0], s_abs.shape[0]
    while qb < nq and sb < ns and q_abs[qb] == s_abs[sb]:
        qb, sb = qb + 1, sb + 1
    return Span(qa, qb, sa, sb)


def maximal_spans(q_abs: np.ndarray, s_abs: np.ndarray, seed: int, min_span: int) -> list[Span]:
    """Maximal equal runs of at least min_span tokens (and at least one seed long)."""
    q_pos, s_pos = seed_pairs(q_abs, s_abs, seed)
    spans = {extend(sp, q_abs, s_abs) for sp in seed_spans(q_pos, s_pos, seed)}
    kept = [sp for sp in spans if len(sp) >= min_span]
    kept.sort(key=lambda sp: (-len(sp), sp.qa, sp.sa))
    return kept[:MAX_SPANS]


def _trimmed(prev: Span, cur: Span) -> Span | None:
    """cur, trimmed at its start so it follows prev on both sides; None if it can't."""
    shift = max(prev.qb - cur.qa, prev.sb - cur.sa, 0)
    if cur.qa + shift >= cur.qb:
        return None
    sp = Span(cur.qa + shift, cur.qb, cur.sa + shift, cur.sb)
    gap_q, gap_s = sp.qa - prev.qb, sp.sa - prev.sb
    if gap_q > MAX_GAP or gap_s > MAX_GAP:
        return None
    return sp


def _gap_penalty(prev: Span, cur: Span) -> float:
    gap_q, gap_s = cur.qa - prev.qb, cur.sa - prev.sb
    return 0.5 * abs(gap_q - gap_s) + 0.1 * (gap_q + gap_s)


def best_chain(spans: list[Span], min_span: int) -> list[Span]:
    """The chain of spans, increasing on both sides, with the most tokens net of gaps."""
    if not spans:
        return []
    spans = sorted(spans, key=lambda sp: (sp.qa, sp.sa))
    n = len(spans)
    score = [float(len(sp)) for sp in spans]
    back: list[tuple[int, Span] | None] = [None] * n
    for i in range(n):
        for j in range(i):
            if spans[j].qa >= spans[i].qa and spans[j].sa >= spans[i].sa:
                continue
            piece = _trimmed(spans[j], spans[i])
            if piece is None or len(piece) < min_span:
                continue
            value = score[j] + len(piece) - _gap_penalty(spans[j], piece)
            if value > score[i]:
                score[i], back[i] = value, (j, piece)
    return _walk_back(spans, score, back)


def _walk_back(
    spans: list[Span], score: list[float], back: list[tuple[int, Span] | None]
) -> list[Span]:
    """Follow the best predecessors from the best-scoring span."""
    chain: list[Span] = []
    i: int | None = max(range(len(spans)), key=lambda x: score[x])
    while i is not None:
        link = back[i]
        if link is None:
            chain.append(spans[i])
            i = None
        else:
            i, piece = link
            chain.append(piece)
    chain.reverse()
    return chain


def chains(q_abs: np.ndarray, s_abs: np.ndarray, seed: int, min_span: int) -> list[list[Span]]:
    """Up to MAX_CHAINS disjoint (on the query side) chains, best first."""
    spans = maximal_spans(q_abs, s_abs, seed, min_span)
    found: list[list[Span]] = []
    while spans and len(found) < MAX_CHAINS:
        chain = best_chain(spans, min_span)
        if not chain:
            break
        found.append(chain)
        lo, hi = chain[0].qa, chain[-1].qb
        spans = [sp for sp in spans if sp.qb <= lo or sp.qa >= hi]
    return found
