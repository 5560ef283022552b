"""The query tail's faster alignment and look-up (issue 14) compute what the plain
formulations compute: each piece against a direct reading of its definition, on random
input with many ties and repeats."""

from __future__ import annotations

import numpy as np
import pytest

from attribution.core import align, seeds
from attribution.core.align import Span
from attribution.index import near

SEED, MIN_SPAN = 6, 8


def _pair(rng: np.random.Generator, alphabet: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """A query and a source made of noisy pieces of it (few distinct tokens: many runs)."""
    q = rng.integers(0, alphabet, int(rng.integers(1, 200)))
    pieces = []
    for _ in range(int(rng.integers(1, 5))):
        a = int(rng.integers(0, q.shape[0]))
        pieces += [rng.integers(0, alphabet, int(rng.integers(0, 8))), q[a : a + 60]]
    s = np.concatenate(pieces)
    s[rng.integers(0, s.shape[0], 3)] = rng.integers(0, alphabet, 3)
    return q, s


def _next_run_by_reading(q: np.ndarray, s: np.ndarray, qi: int, si: int, step: int) -> object:
    """Every start (bq, bs) in the band, its run read token by token."""
    best = None
    for bq in range(align.TAIL_BAND + 1):
        for bs in range(align.TAIL_BAND + 1):
            run = 0
            while run < align.TAIL_WINDOW:
                a, b = qi + step * (bq + run), si + step * (bs + run)
                if not (0 <= a < q.shape[0] and 0 <= b < s.shape[0]) or q[a] != s[b]:
                    break
                run += 1
            skipped = bq + bs
            counts = run >= align.TAIL_RUN + skipped // 16
            if counts and (best is None or run - skipped > best[0]):
                best = (run - skipped, (bq, bs, run))
    return None if best is None else best[1]


def test_chain_end_runs_are_those_read_start_by_start() -> None:
    rng = np.random.default_rng(11)
    for _ in range(40):
        q, s = _pair(rng, alphabet=3)
        band = align._Band(q, s)
        for _ in range(5):
            qi, si = int(rng.integers(0, q.shape[0])), int(rng.integers(0, s.shape[0]))
            for step in (1, -1):
                assert band.next_run(qi, si, step) == _next_run_by_reading(q, s, qi, si, step)


def _extend_stepwise(spans: np.ndarray, q: np.ndarray, s: np.ndarray, k: int) -> np.ndarray:
    out = []
    for qa, qb, sa, sb in spans.tolist():
        for _ in range(k):
            if qa > 0 and sa > 0 and q[qa - 1] == s[sa - 1]:
                qa, sa = qa - 1, sa - 1
            else:
                break
        for _ in range(k):
            if qb < q.shape[0] and sb < s.shape[0] and q[qb] == s[sb]:
                qb, sb = qb + 1, sb + 1
            else:
                break
        out.append((qa, qb, sa, sb))
    return np.array(out, dtype=np.int64).reshape(-1, 4)


def test_extension_grows_each_span_token_by_token() -> None:
    rng = np.random.default_rng(12)
    for _ in range(60):
        q, s = _pair(rng)
        spans = align.seed_spans(*align.seed_pairs(q, s, SEED), SEED)
        assert np.array_equal(align.extend(spans, q, s, SEED), _extend_stepwise(spans, q, s, SEED))


def test_nearness_to_anchors_is_that_of_every_pair() -> None:
    rng = np.random.default_rng(13)
    for _ in range(200):
        a = rng.integers(0, 400, int(rng.integers(1, 40)))
        b = a + rng.integers(1, 60, a.shape[0])
        lo = rng.integers(0, 400, int(rng.integers(1, 10)))
        hi = lo + rng.integers(1, 60, lo.shape[0])
        dist = np.maximum(np.maximum(a[:, None] - hi[None, :], lo[None, :] - b[:, None]), 0)
        want = (dist <= align.MAX_GAP).any(axis=1)
        assert np.array_equal(seeds._near_any(a, b, lo, hi, align.MAX_GAP), want)


def _best_chain_by_matrix(spans: np.ndarray, min_span: int) -> list[Span]:
    """The dynamic programme as rows of whole matrices (its earlier formulation)."""
    spans = spans[np.lexsort((spans[:, 2], spans[:, 0]))]
    n = spans.shape[0]
    qa, qb, sa, sb = (spans[:, i] for i in range(4))
    per_token = spans[:, 4] / align.VALUE_SCALE
    score = (qb - qa) * per_token
    back, start_shift = np.full(n, -1), np.zeros(n, dtype=np.int64)
    shift = np.maximum(np.maximum(qb[None, :] - qa[:, None], sb[None, :] - sa[:, None]), 0)
    length = qb[:, None] - (qa[:, None] + shift)
    gap_q, gap_s = qa[:, None] + shift - qb[None, :], sa[:, None] + shift - sb[None, :]
    ok = (length >= min_span) & (gap_q <= align.MAX_GAP) & (gap_s <= align.MAX_GAP)
    ok &= (qa[None, :] < qa[:, None]) & np.tri(n, k=-1, dtype=bool)
    gain = length * per_token[:, None]
    skew, spread = 0.5 * np.abs(gap_q - gap_s), 0.25 * (gap_q + gap_s)
    for i in range(n):
        value = score[:i] + gain[i, :i] - align.GAP_OPEN - skew[i, :i] - spread[i, :i]
        value[~ok[i, :i]] = -np.inf
        if i and value.max() > score[i]:
            best = int(np.argmax(value))
            score[i], back[i], start_shift[i] = value[best], best, shift[i, best]
    chain, i = [], int(np.argmax(score))
    while i >= 0:
        d = int(start_shift[i])
        chain.append(Span(int(qa[i]) + d, int(qb[i]), int(sa[i]) + d, int(sb[i])))
        i = int(back[i])
    return chain[::-1]


def test_best_chain_is_that_of_the_matrix_programme() -> None:
    rng = np.random.default_rng(14)
    tried = 0
    for _ in range(150):
        q, s = _pair(rng, alphabet=4)
        spans = align.maximal_spans((q, q), (s, s), SEED, MIN_SPAN)
        if spans.shape[0] == 0:
            continue
        tried += 1
        assert align.best_chain(spans, MIN_SPAN) == _best_chain_by_matrix(spans, MIN_SPAN)
    assert tried > 50


def test_query_seeds_made_once_change_nothing() -> None:
    rng = np.random.default_rng(15)
    for _ in range(40):
        q, _ = _pair(rng, alphabet=4)
        seeds = align.QuerySeeds.of(q, SEED)
        for _ in range(3):
            _, s = _pair(rng, alphabet=4)
            got = align.chains((q, q), (s, s), SEED, MIN_SPAN, min_total=10, seeds=seeds)
            assert got == align.chains((q, q), (s, s), SEED, MIN_SPAN, min_total=10)


@pytest.mark.parametrize("copies", [3, 20, 200])
def test_nearest_rows_hold_every_tie_at_the_kth_distance(copies: int) -> None:
    """Sketches repeated `copies` times tie at the k-th distance: within the spare
    neighbours asked for (20) and beyond them (200: a range search)."""
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(16)
    base = rng.integers(0, 256, (30, 8), dtype=np.uint8)
    table = np.concatenate([np.repeat(base[:3], copies, axis=0), base[3:]])
    index = faiss.IndexBinaryFlat(64)
    index.add(table)
    queries = np.concatenate([base[:4], rng.integers(0, 256, (3, 8), dtype=np.uint8)])
    k = 8
    q, rows, dist = near.nearest_rows(index, queries, k)
    bits = np.unpackbits(queries[:, None, :] ^ table[None, :, :], axis=2).sum(axis=2)
    for j in range(queries.shape[0]):
        kth = np.sort(bits[j])[k - 1]
        want = np.flatnonzero(bits[j] <= kth)
        got = np.sort(rows[q == j])
        assert np.array_equal(got, want)
        assert np.array_equal(dist[q == j][np.argsort(rows[q == j])], bits[j][want])


def test_seed_spans_are_those_of_seeds_sorted_by_diagonal_then_query() -> None:
    """Seeds merged in the order (diagonal, query position) read pair by pair."""
    rng = np.random.default_rng(5)
    for _ in range(300):
        q, s = _pair(rng)
        q_pos, s_pos = seeds.seed_pairs(q, s, SEED)
        pairs = sorted(zip((s_pos - q_pos).tolist(), q_pos.tolist(), strict=True))
        expected: list[list[int]] = []
        for d, qp in pairs:  # a seed touching the run before it on its diagonal joins it
            last = expected[-1] if expected else None
            if last and last[2] - last[0] == d and qp - (last[1] - SEED) <= SEED:
                last[1], last[3] = qp + SEED, qp + SEED + d
            else:
                expected.append([qp, qp + SEED, qp + d, qp + SEED + d])
        got = seeds.seed_spans(q_pos, s_pos, SEED)
        assert got.tolist() == expected


def _sources(rng: np.random.Generator, q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sources of several kinds for one query: none, shorter than a seed, noisy pieces of
    it, and now and then one so repetitive that its seed pairs and runs reach their caps."""
    out = []
    for kind in rng.integers(0, 5, int(rng.integers(1, 7))).tolist():
        if kind == 0:
            s = rng.integers(0, 6, int(rng.integers(0, SEED)))
        elif kind == 1 and q.shape[0] > 1000:
            s = rng.integers(0, 2, 2500)
        else:
            s = _pair(rng)[1] if kind < 4 else np.concatenate([q[:50], q[:50]])
        out.append((s, s * 3 + rng.integers(0, 2, s.shape[0])))
    return out


def test_spans_found_for_many_sources_at_once_are_each_ones_alone() -> None:
    """Each source's maximal spans are the same aligned with others as alone, including
    sources over MAX_PAIRS seed pairs and MAX_RAW_SPANS runs beside ordinary ones."""
    rng = np.random.default_rng(17)
    capped = 0
    for trial in range(80):
        q = rng.integers(0, 2, 1500) if trial % 8 == 0 else _pair(rng)[0]
        qv = (q, q * 3 + rng.integers(0, 2, q.shape[0]))
        useful = rng.random(q.shape[0]) < 0.9 if trial % 2 else None
        sources = _sources(rng, q)
        together = align.maximal_spans_many(qv, sources, SEED, MIN_SPAN, useful)
        assert len(together) == len(sources)
        for s, got in zip(sources, together, strict=True):
            alone = align.maximal_spans(qv, s, SEED, MIN_SPAN, useful)
            assert got.shape[1] == 5 and np.array_equal(got, alone)
            capped += int(align.seed_pairs(q, s[0], SEED)[0].shape[0] >= align.MAX_PAIRS - 64)
    assert capped > 0, "no source reached the cap on seed pairs"


def test_the_spans_kept_are_the_longest_then_first_on_both_sides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where more spans qualify than MAX_SPANS, the longest are kept, ties to the first
    in the query, then in the source: the first MAX_SPANS of all of them in that order."""
    rng = np.random.default_rng(18)
    q = rng.integers(0, 8, 400)

    def pieces() -> np.ndarray:  # 80 pieces of the query between noise: many spans
        starts = rng.integers(0, 380, 80).tolist()
        return np.concatenate([np.r_[q[a : a + 20], rng.integers(8, 9, 3)] for a in starts])

    sources = [(s, s) for s in (pieces() for _ in range(4))]
    capped = align.maximal_spans_many((q, q), sources, SEED, MIN_SPAN)
    monkeypatch.setattr(seeds, "MAX_SPANS", 10**6)
    full = align.maximal_spans_many((q, q), sources, SEED, MIN_SPAN)
    assert sum(all_.shape[0] > align.MAX_SPANS for all_ in full) >= 3
    for got, all_ in zip(capped, full, strict=True):
        order = np.lexsort((all_[:, 2], all_[:, 0], all_[:, 0] - all_[:, 1]))
        assert np.array_equal(got, all_[order][: align.MAX_SPANS])
