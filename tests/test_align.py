"""Invariants of the exact alignment (attribution/core/align.py), as properties.

Two kinds of input: token arrays drawn at random (a query, and a source made of pieces
of it with noise between, its "identifiers" optionally renamed), and small Python
programs generated from templates and tokenized for real (attribution.core.tokenize).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from attribution.core import align
from attribution.core.align import Span
from attribution.core.config import Config
from attribution.core.tokenize import tokenize

SEED = Config().seed_tokens
MIN_SPAN = Config().min_span
IDENT = 20  # in the arrays below, tokens >= IDENT are identifiers: one class when abstracted
ALPHABET = 40

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

View = tuple[np.ndarray, np.ndarray]  # (abstracted, exact), as align takes them


def views(exact: list[int]) -> View:
    e = np.array(exact, dtype=np.int64)
    return np.where(e >= IDENT, IDENT, e), e


@st.composite
def query_and_source(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """A query, and a source of pieces of it (moved, repeated, with tokens changed) with
    other tokens between, its identifiers consistently renamed half of the time."""
    token = st.integers(0, ALPHABET - 1)
    query = draw(st.lists(token, min_size=2 * SEED, max_size=160))
    n = len(query)
    piece = st.tuples(st.integers(0, n - 1), st.integers(1, 80), st.lists(token, max_size=6))
    source: list[int] = []
    for start, length, noise in draw(st.lists(piece, min_size=1, max_size=4)):
        source += noise + query[start : start + length]
    for at, new in draw(st.lists(st.tuples(st.integers(0, len(source) - 1), token), max_size=4)):
        source[at] = new
    if draw(st.booleans()):
        names = list(range(IDENT, ALPHABET))
        renaming = dict(zip(names, draw(st.permutations(names)), strict=True))
        source = [renaming.get(t, t) for t in source]
    return query, source


@st.composite
def reordered(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """A query of blocks, and a source holding them in another order (several matches,
    since a chain keeps the order on both sides), with a few tokens changed."""
    token = st.integers(0, ALPHABET - 1)
    blocks = draw(st.lists(st.lists(token, min_size=12, max_size=40), min_size=2, max_size=4))
    order = draw(st.permutations(range(len(blocks))))
    source: list[int] = []
    for i in order:
        source += draw(st.lists(token, max_size=5)) + blocks[i]
    for at, new in draw(st.lists(st.tuples(st.integers(0, len(source) - 1), token), max_size=3)):
        source[at] = new
    return [t for b in blocks for t in b], source


def _not_repetitive(*streams: list[int]) -> bool:
    """No seed k-gram so frequent that align drops it (MAX_SEED_HITS)."""
    for tokens in streams:
        counts = Counter(tuple(tokens[i : i + SEED]) for i in range(len(tokens) - SEED + 1))
        if counts and max(counts.values()) > align.MAX_SEED_HITS // 2:
            return False
    return True


def assert_well_formed(chain: list[Span], q: View, s: View) -> None:
    """Inside bounds, equal lengths on both sides, equal in the abstracted view, in order
    on both sides without overlap."""
    assert chain, "a chain is never empty"
    for sp in chain:
        assert 0 <= sp.qa < sp.qb <= q[0].shape[0]
        assert 0 <= sp.sa < sp.sb <= s[0].shape[0]
        assert sp.qb - sp.qa == sp.sb - sp.sa
        assert np.array_equal(q[0][sp.qa : sp.qb], s[0][sp.sa : sp.sb])
    for a, b in itertools.pairwise(chain):
        assert b.qa >= a.qb and b.sa >= a.sb


# --- the stages, on random token arrays ------------------------------------------------------


@PROPERTY
@given(query_and_source())
def test_seed_pairs_are_exactly_the_equal_k_grams(pair: tuple[list[int], list[int]]) -> None:
    query, source = pair
    assume(_not_repetitive(query, source))
    q, s = views(query)[0], views(source)[0]
    q_pos, s_pos = align.seed_pairs(q, s, SEED)
    found = set(zip(q_pos.tolist(), s_pos.tolist(), strict=True))
    expected = {
        (i, j)
        for i in range(len(query) - SEED + 1)
        for j in range(len(source) - SEED + 1)
        if np.array_equal(q[i : i + SEED], s[j : j + SEED])
    }
    assert found == expected


@PROPERTY
@given(query_and_source())
def test_maximal_spans_are_maximal_equal_runs_near_an_anchor(
    pair: tuple[list[int], list[int]],
) -> None:
    query, source = pair
    assume(_not_repetitive(query, source))
    q, s = views(query), views(source)
    spans = align.maximal_spans(q, s, SEED, MIN_SPAN)
    assert spans.shape[0] <= align.MAX_SPANS
    for qa, qb, sa, sb, value in spans.tolist():
        assert_well_formed([Span(qa, qb, sa, sb)], q, s)
        assert qb - qa >= MIN_SPAN
        assert qa == 0 or sa == 0 or q[0][qa - 1] != s[0][sa - 1]  # cannot grow left
        assert qb == len(query) or sb == len(source) or q[0][qb] != s[0][sb]  # nor right
        assert 0.1 * align.VALUE_SCALE - 1 <= value <= align.VALUE_SCALE
    if spans.shape[0]:  # an anchor: 2 * seed tokens, ANCHOR_EXACT of them identical
        lengths = spans[:, 1] - spans[:, 0]
        shares = align.exact_counts(spans, q[1], s[1]) / lengths
        assert ((lengths >= 2 * SEED) & (shares >= align.ANCHOR_EXACT)).any()


@PROPERTY
@given(query_and_source())
def test_best_chain_is_monotone_non_overlapping_and_of_long_spans(
    pair: tuple[list[int], list[int]],
) -> None:
    query, source = pair
    q, s = views(query), views(source)
    spans = align.maximal_spans(q, s, SEED, MIN_SPAN)
    assume(spans.shape[0] > 0)
    chain = align.best_chain(spans, MIN_SPAN)
    assert_well_formed(chain, q, s)
    assert all(len(sp) >= MIN_SPAN for sp in chain)


@PROPERTY
@given(st.one_of(query_and_source(), reordered()), st.integers(0, 40))
def test_chains_are_well_formed_and_disjoint_on_the_query_side(
    pair: tuple[list[int], list[int]], min_total: int
) -> None:
    query, source = pair
    q, s = views(query), views(source)
    found = align.chains(q, s, SEED, MIN_SPAN, min_total=min_total)
    assert len(found) <= align.MAX_CHAINS
    claimed = np.zeros(len(query), dtype=np.int64)
    for chain in found:
        assert_well_formed(chain, q, s)
        for sp in chain:
            claimed[sp.qa : sp.qb] += 1
    assert claimed.max(initial=0) <= 1  # no query token in two matches


@PROPERTY
@given(st.lists(st.integers(0, ALPHABET - 1), min_size=2 * SEED, max_size=160))
def test_identical_inputs_give_one_full_span(tokens: list[int]) -> None:
    assume(_not_repetitive(tokens))
    q = views(tokens)
    n = len(tokens)
    assert align.chains(q, q, SEED, MIN_SPAN) == [[Span(0, n, 0, n)]]


@PROPERTY
@given(query_and_source(), st.data())
def test_clipping_to_units_keeps_a_part_of_the_chain(
    pair: tuple[list[int], list[int]], data: st.DataObject
) -> None:
    query, source = pair
    q, s = views(query), views(source)
    found = align.chains(q, s, SEED, MIN_SPAN)
    assume(found)
    cuts = sorted(data.draw(st.sets(st.integers(0, len(query)), max_size=6)) | {0, len(query)})
    units = np.array(list(itertools.pairwise(cuts)), dtype=np.int64).reshape(-1, 2)
    for chain in found:
        clipped = align.clip_to_units(chain, units)
        assert_well_formed(clipped, q, s)
        for sp in clipped:  # every clipped span is a part of one span of the chain
            assert any(
                o.qa <= sp.qa and sp.qb <= o.qb and sp.sa - sp.qa == o.sa - o.qa for o in chain
            )


# --- generated programs, tokenized for real --------------------------------------------------

NAMES = ["total", "items", "count", "value", "result", "node", "limit", "index", "acc", "item"]
STATEMENTS = [
    "{a} = {b} + {n}",
    "{a} = {f}({b}, {c})",
    "if {a} > {b}:\n        {c} = {a} - {n}",
    "for {a} in range({b}):\n        {c} = {c} * {a}",
    "{a}.append({b})",
    "while {a} < {b}:\n        {a} += {n}",
    "{a} = [{b} for {c} in {a} if {c}]",
    "{a} = {{'{a}': {b}, 'n': {n}}}",
]


@st.composite
def programs(draw: st.DrawFn) -> str:
    """A few Python functions of statements drawn from STATEMENTS over NAMES."""
    name = st.sampled_from(NAMES)
    functions = []
    for _ in range(draw(st.integers(1, 3))):
        lines = [f"def {draw(name)}({draw(name)}, {draw(name)}):"]
        for _ in range(draw(st.integers(2, 7))):
            template = draw(st.sampled_from(STATEMENTS))
            names = {k: draw(name) for k in "abcf"}
            lines.append("    " + template.format(n=draw(st.integers(0, 99)), **names))
        lines.append(f"    return {draw(name)}")
        functions.append("\n".join(lines) + "\n")
    return "\n\n".join(functions)


def renamed(code: str) -> str:
    """The same program with every name of NAMES consistently replaced by another."""
    return re.sub(r"\b(" + "|".join(NAMES) + r")\b", lambda m: m[1].upper() + "_x", code)


def program_views(code: str) -> View:
    stream = tokenize(code, "python")
    return stream.abstract.astype(np.int64), stream.text_hash.astype(np.int64)


@PROPERTY
@given(programs())
def test_an_identical_program_aligns_as_one_full_span(code: str) -> None:
    q = program_views(code)
    n = q[0].shape[0]
    assert align.chains(q, q, SEED, MIN_SPAN) == [[Span(0, n, 0, n)]]


@PROPERTY
@given(programs())
def test_a_renamed_program_aligns_on_the_abstracted_view(code: str) -> None:
    q, s = program_views(code), program_views(renamed(code))
    assert not np.array_equal(q[1], s[1])  # names differ in the exact view ...
    assert np.array_equal(q[0], s[0])  # ... not in the abstracted one
    n = q[0].shape[0]
    found = align.chains(q, s, SEED, MIN_SPAN)
    assert len(found) == 1
    (chain,) = found
    assert_well_formed(chain, q, s)
    assert all(sp.qa == sp.sa for sp in chain)  # token i of the query against token i
    # whole, but for the renamed names the chain's ends may shed (align.FRINGE)
    assert chain[0].qa < align.FRINGE and chain[-1].qb > n - align.FRINGE
    assert sum(len(sp) for sp in chain) > n - 2 * align.FRINGE


@PROPERTY
@given(programs(), programs())
def test_a_program_inside_another_aligns_where_it_was_put(code: str, other: str) -> None:
    """A program pasted between two others is found whole: one span of identical tokens."""
    q = program_views(code)
    s = program_views(other + "\n\n" + code + "\n\n" + other)
    n = q[0].shape[0]
    found = align.chains(q, s, SEED, MIN_SPAN)
    (span,) = found[0]
    assert (span.qa, span.qb) == (0, n)
    assert np.array_equal(q[1], s[1][span.sa : span.sb])


def test_clipping_cuts_a_chain_that_only_grazes_a_function() -> None:
    chain = [Span(10, 60, 110, 160)]
    units = np.array([[0, 55], [55, 90]])  # the chain reaches 5 tokens into the second
    assert align.clip_to_units(chain, units) == [Span(10, 55, 110, 155)]
    units = np.array([[0, 40], [40, 90]])  # 20 tokens into it: more than a graze
    assert align.clip_to_units(chain, units) == chain
    units = np.array([[0, 15], [15, 90]])  # 5 tokens of the first one's tail
    assert align.clip_to_units(chain, units) == [Span(15, 60, 115, 160)]
