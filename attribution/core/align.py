"""Exact alignment of a query against one source: maximal matching spans, chained.

Seeds are equal k-grams (k = `seed_tokens`) of the abstracted views; seeds on one diagonal
that touch merge into a span, which is extended token by token to be maximal (seeds.py).
Spans are chained in order on both sides (a weighted longest-increasing-chain), allowing
gaps for inserted, deleted or changed statements. A chain is one match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attribution.core.seeds import (  # the seeding half, re-exported
    ANCHOR_EXACT,
    MAX_ANCHORS,
    MAX_GAP,
    MAX_PAIRS,
    MAX_RAW_SPANS,
    MAX_SEED_HITS,
    MAX_SPANS,
    VALUE_SCALE,
    QuerySeeds,
    exact_counts,
    extend,
    maximal_spans,
    maximal_spans_many,
    seed_pairs,
    seed_spans,
)

__all__ = [
    "ANCHOR_EXACT",
    "MAX_ANCHORS",
    "MAX_GAP",
    "MAX_PAIRS",
    "MAX_RAW_SPANS",
    "MAX_SEED_HITS",
    "MAX_SPANS",
    "VALUE_SCALE",
    "QuerySeeds",
    "Span",
    "best_chain",
    "chains",
    "clip_to_units",
    "exact_counts",
    "extend",
    "extend_chain",
    "maximal_spans",
    "maximal_spans_many",
    "seed_pairs",
    "seed_spans",
]

GRAZE = 12  # tokens a chain may reach into a neighbouring function before it is cut
MAX_CHAINS = 3  # matches per source (a query may hold several regions of one file)
GAP_OPEN = 2.0  # what joining two spans costs in a chain
TAIL_BAND = 16  # tokens skipped on either side when extending a chain's ends
TAIL_WINDOW = 16  # tokens looked at beyond the band
TAIL_RUN = 2  # shortest run added at a chain's ends (where it ends the query)
TAIL_SOLID = 4  # shortest run added at a chain's ends anywhere else
TAIL_STEPS = 4  # runs added at each end at most
FRINGE = 3  # differing tokens cut off a chain's ends at most
WEAK_END = 0.7  # a chain's end span less identical than this is dropped


@dataclass(frozen=True)
class Span:
    """A run of tokens equal in the abstracted view: query [qa, qb) against source [sa, sb)
    (maximal as found; a chain may trim it)."""

    qa: int
    qb: int
    sa: int
    sb: int

    def __len__(self) -> int:
        return self.qb - self.qa


@dataclass(frozen=True)
class _Links:
    """Spans sorted by (qa, sa), each one's own score, and per span its possible
    predecessors: (j, gain, skew, spread) for every span j it may follow, trimmed at its
    start by shift[i, j]."""

    spans: np.ndarray
    score: list[float]
    preds: list[list[tuple[int, float, float, float]]]
    shift: np.ndarray


def _links(spans: np.ndarray, min_span: int) -> _Links:
    spans = spans[np.lexsort((spans[:, 2], spans[:, 0]))]
    n = spans.shape[0]
    qa, qb, sa, sb = (spans[:, i] for i in range(4))
    per_token = spans[:, 4] / VALUE_SCALE
    score = (qb - qa) * per_token
    # every (span i, predecessor j) at once: row i follows column j
    shift = np.maximum(np.maximum(qb[None, :] - qa[:, None], sb[None, :] - sa[:, None]), 0)
    length = qb[:, None] - (qa[:, None] + shift)
    gap_q = qa[:, None] + shift - qb[None, :]
    gap_s = sa[:, None] + shift - sb[None, :]
    ok = (length >= min_span) & (gap_q <= MAX_GAP) & (gap_s <= MAX_GAP)
    ok &= (qa[None, :] < qa[:, None]) & np.tri(n, k=-1, dtype=bool)
    rows, cols = np.nonzero(ok)  # row-major: each row's predecessors in order
    gain = length[rows, cols] * per_token[rows]
    skew = 0.5 * np.abs(gap_q[rows, cols] - gap_s[rows, cols])
    spread = 0.25 * (gap_q[rows, cols] + gap_s[rows, cols])
    preds: list[list[tuple[int, float, float, float]]] = [[] for _ in range(n)]
    for i, j, g, k, d in zip(
        rows.tolist(), cols.tolist(), gain.tolist(), skew.tolist(), spread.tolist(), strict=True
    ):
        preds[i].append((j, g, k, d))
    return _Links(spans, score.tolist(), preds, shift)


def best_chain(spans: np.ndarray, min_span: int) -> list[Span]:
    """The chain of spans, increasing on both sides, with the most tokens net of gaps.

    A span may be trimmed at its start to follow its predecessor on both sides."""
    links = _links(spans, min_span)
    return _best_chain(links, [True] * len(links.score))


def _best_chain(links: _Links, left: list[bool]) -> list[Span]:
    """best_chain over the sorted spans left marks (a dynamic programme over each span's
    possible predecessors: a few hundred pairs at most)."""
    score = list(links.score)
    back = [-1] * len(score)
    for i, preds in enumerate(links.preds):
        if not left[i]:
            continue
        best, top = -1, -math.inf
        for j, gain, skew, spread in preds:
            if left[j]:
                value = score[j] + gain - GAP_OPEN - skew - spread
                if value > top:
                    best, top = j, value
        if best >= 0 and top > score[i]:
            score[i], back[i] = top, best
    end, top = -1, -math.inf
    for i, value in enumerate(score):
        if left[i] and value > top:
            end, top = i, value
    chain = []
    while end >= 0:
        qa, qb, sa, sb = (int(x) for x in links.spans[end, :4])
        j = back[end]
        d = int(links.shift[end, j]) if j >= 0 else 0
        chain.append(Span(qa + d, qb, sa + d, sb))
        end = j
    chain.reverse()
    return chain


_BAND_Q, _BAND_S = (g.ravel() for g in np.mgrid[0 : TAIL_BAND + 1, 0 : TAIL_BAND + 1])


_DIAGONAL = _BAND_S - _BAND_Q + TAIL_BAND  # the diagonal each start lies on
_ALONG = TAIL_BAND + TAIL_WINDOW  # tokens read along a diagonal
_OFFSETS = np.arange(_ALONG)
_WIDE = _ALONG + 2 * TAIL_BAND  # source tokens the band reads
_ROWS = _OFFSETS[None, :] + np.arange(2 * TAIL_BAND + 1)[:, None]  # diagonal d: row d + band
_SKIPPED = _BAND_Q + _BAND_S
# an edit skips tokens on one side (insertion, deletion) or both alike (a change); a run
# found after skipping on both sides, or far away, must be longer to count
_NEEDED = TAIL_RUN + _SKIPPED // 16


class _Band:
    """The exact views of a query and a source, read a window at a time around a chain's
    end; tokens beyond either end read as pads that equal nothing."""

    def __init__(self, q_exact: np.ndarray, s_exact: np.ndarray) -> None:
        self.q, self.s = q_exact, s_exact
        low = 0
        if not (_unsigned(q_exact) and _unsigned(s_exact)):
            low = min(int(q_exact.min(initial=0)), int(s_exact.min(initial=0)))
        self.q_pad, self.s_pad = low - 1, low - 2

    def next_run(self, qi: int, si: int, step: int) -> tuple[int, int, int] | None:
        """The best identical run (>= TAIL_RUN tokens) starting within TAIL_BAND tokens
        of (qi, si) in direction step: (tokens skipped in the query, in the source, run
        length)."""
        # a start skipping bq query and bs source tokens lies on diagonal bs - bq: row
        # bs - bq + TAIL_BAND of `equal` compares the query's token qi + step * u (u in
        # [0, _ALONG)) with the source's si + step * (u + bs - bq)
        if step > 0:
            q_row = _window(self.q, qi, _ALONG, self.q_pad)
            s_row = _window(self.s, si - TAIL_BAND, _WIDE, self.s_pad)
        else:
            q_row = _window(self.q, qi - _ALONG + 1, _ALONG, self.q_pad)[::-1]
            s_row = _window(self.s, si + TAIL_BAND - _WIDE + 1, _WIDE, self.s_pad)[::-1]
        equal = q_row[None, :] == s_row[_ROWS]
        if not (equal[:, 1:] & equal[:, :-1]).any():
            return None  # no two equal tokens in a row: no run of TAIL_RUN (2) at all
        # run length from each offset: distance to the next mismatch (the row's end if none)
        stop = np.where(equal, _ALONG, _OFFSETS[None, :])
        upto = np.minimum.accumulate(stop[:, ::-1], axis=1)[:, ::-1] - _OFFSETS[None, :]
        run = np.minimum(upto[_DIAGONAL, _BAND_Q], TAIL_WINDOW)
        ok = run >= _NEEDED
        if not ok.any():
            return None
        best = int(np.argmax(np.where(ok, run - _SKIPPED, -(1 << 30))))
        return int(_BAND_Q[best]), int(_BAND_S[best]), int(run[best])


def _unsigned(a: np.ndarray) -> bool:
    return bool(np.issubdtype(a.dtype, np.unsignedinteger))


def _window(a: np.ndarray, start: int, length: int, pad: int) -> np.ndarray:
    """a[start : start + length], pad where that reaches beyond a."""
    lo, hi = max(start, 0), min(start + length, a.shape[0])
    if lo == start and hi == start + length:
        return a[lo:hi]
    out = np.full(length, pad, dtype=np.int64)
    if hi > lo:
        out[lo - start : hi - start] = a[lo:hi]
    return out


def _identical_share(
    q: tuple[np.ndarray, np.ndarray], s: tuple[np.ndarray, np.ndarray], sp: Span
) -> float:
    n = sp.qb - sp.qa
    same = int(np.count_nonzero(q[1][sp.qa : sp.qb] == s[1][sp.sa : sp.sb]))
    return same / n if n > 0 else math.nan


def _chain_share(
    q: tuple[np.ndarray, np.ndarray], s: tuple[np.ndarray, np.ndarray], chain: list[Span]
) -> float:
    same = sum(_identical_share(q, s, sp) * len(sp) for sp in chain)
    return same / max(sum(len(sp) for sp in chain), 1)


def _trim_weak_ends(
    chain: list[Span], q: tuple[np.ndarray, np.ndarray], s: tuple[np.ndarray, np.ndarray]
) -> list[Span]:
    """Drop spans at either end of a chain that are mostly look-alike syntax, not copy."""
    while len(chain) > 1 and _identical_share(q, s, chain[-1]) < WEAK_END:
        chain = chain[:-1]
    while len(chain) > 1 and _identical_share(q, s, chain[0]) < WEAK_END:
        chain = chain[1:]
    return _trim_fringe(chain, q[1], s[1])


def _trim_fringe(chain: list[Span], q_exact: np.ndarray, s_exact: np.ndarray) -> list[Span]:
    """Cut up to FRINGE differing tokens off the chain's two ends when identical tokens
    lie just inside: a look-alike `def ID` after a copied block is not part of it."""
    first, last = chain[0], chain[-1]
    cut = 0
    while (
        cut < FRINGE
        and len(last) - cut > 1
        and q_exact[last.qb - 1 - cut] != s_exact[last.sb - 1 - cut]
    ):
        cut += 1
    if 0 < cut < FRINGE and q_exact[last.qb - 1 - cut] == s_exact[last.sb - 1 - cut]:
        last = Span(last.qa, last.qb - cut, last.sa, last.sb - cut)
        chain = [*chain[:-1], last] if len(chain) > 1 else [last]
        first = chain[0]
    cut = 0
    while (
        cut < FRINGE and len(first) - cut > 1 and q_exact[first.qa + cut] != s_exact[first.sa + cut]
    ):
        cut += 1
    if 0 < cut < FRINGE and q_exact[first.qa + cut] == s_exact[first.sa + cut]:
        chain = [Span(first.qa + cut, first.qb, first.sa + cut, first.sb), *chain[1:]]
    return chain


def extend_chain(
    chain: list[Span],
    q: tuple[np.ndarray, np.ndarray],
    s: tuple[np.ndarray, np.ndarray],
    band: _Band | None = None,
) -> list[Span]:
    """Add the short runs a chain's ends miss (a return after the last edit). Runs are
    of identical tokens, so a chain does not creep into code that merely looks alike
    (the next fragment of a query). band: _Band(q[1], s[1]), when made already."""
    q_exact, s_exact = q[1], s[1]
    band = band or _Band(q_exact, s_exact)
    for _ in range(TAIL_STEPS):
        last = chain[-1]
        if last.qb >= q_exact.shape[0] or last.sb >= s_exact.shape[0]:
            break
        found = band.next_run(last.qb, last.sb, 1)
        if found is None:
            break
        dq, ds, n = found
        if n < TAIL_SOLID and last.qb + dq + n != q_exact.shape[0]:
            break  # a short run counts only where it ends the query (`return x` after an edit)
        chain = [*chain, Span(last.qb + dq, last.qb + dq + n, last.sb + ds, last.sb + ds + n)]
    for _ in range(TAIL_STEPS):
        first = chain[0]
        if first.qa == 0 or first.sa == 0:
            break
        found = band.next_run(first.qa - 1, first.sa - 1, -1)
        if found is None:
            break
        dq, ds, n = found
        qb, sb = first.qa - dq, first.sa - ds
        if n < TAIL_SOLID and qb - n != 0:
            break
        chain = [Span(qb - n, qb, sb - n, sb), *chain]
    return chain


def chains(
    q: tuple[np.ndarray, np.ndarray],
    s: tuple[np.ndarray, np.ndarray],
    seed_tokens: int,
    min_span: int,
    useful: np.ndarray | None = None,
    min_total: int = 0,
    seeds: QuerySeeds | None = None,
    spans: np.ndarray | None = None,
) -> list[list[Span]]:
    """Up to MAX_CHAINS chains, disjoint on the query side, sought while the spans left
    hold min_total tokens (a chain found may hold fewer: judging it decides). seeds:
    QuerySeeds.of(q[0], seed_tokens), when made already (a query aligned with many
    sources); spans: maximal_spans(q, s, ...), when found already (maximal_spans_many)."""
    found: list[list[Span]] = []
    if spans is None:
        spans = maximal_spans(q, s, seed_tokens, min_span, useful, seeds)
    if spans.shape[0] == 0:
        return found
    links = _links(spans, min_span)  # pairwise costs, once for every chain sought
    qa, qb = links.spans[:, 0], links.spans[:, 1]
    left = np.ones(qa.shape[0], dtype=bool)
    band = _Band(q[1], s[1])
    while len(found) < MAX_CHAINS and int((qb - qa)[left].sum()) >= max(min_total, 1):
        best = _best_chain(links, left.tolist())
        chain = extend_chain(_trim_weak_ends(best, q, s), q, s, band)
        chain = _outside(chain, [(c[0].qa, c[-1].qb) for c in found])
        if chain and (not found or _chain_share(q, s, chain) >= WEAK_END):
            found.append(chain)  # a second region must be a copy, not look-alike syntax
        lo, hi = (chain[0].qa, chain[-1].qb) if chain else (0, q[0].shape[0])
        left &= (qb <= lo) | (qa >= hi)
    return found


def _outside(chain: list[Span], claimed: list[tuple[int, int]]) -> list[Span]:
    """The parts of a chain outside query ranges that earlier chains claimed (an extended
    end must not walk into another match)."""
    for lo, hi in claimed:
        kept = []
        for sp in chain:
            if sp.qb <= lo or sp.qa >= hi:
                kept.append(sp)
            elif sp.qa < lo:
                kept.append(Span(sp.qa, lo, sp.sa, sp.sa + lo - sp.qa))
            elif sp.qb > hi:
                kept.append(Span(hi, sp.qb, sp.sa + hi - sp.qa, sp.sb))
        chain = kept
    return chain


def clip_to_units(chain: list[Span], units: np.ndarray, graze: int = GRAZE) -> list[Span]:
    """Cut a chain where it only grazes a function of the query: fewer than `graze` tokens
    into a function that starts inside it (a following `def` header), or out of one it
    starts in. Copies end where functions end."""
    qa, qb = chain[0].qa, chain[-1].qb
    for a, b in units.tolist():
        if qa < a < qb and qb - a < graze and b > qb - 1:
            qb = a  # grazes the next function's head
        if qa < b < qb and b - qa < graze and a < qa:
            qa = b  # grazes the previous function's tail
    out = []
    for sp in chain:
        lo, hi = max(sp.qa, qa), min(sp.qb, qb)
        if hi > lo:
            out.append(Span(lo, hi, sp.sa + lo - sp.qa, sp.sa + hi - sp.qa))
    return out or chain
