"""Judge an aligned chain: how much evidence, which match type, what score.

Evidence counts aligned token pairs. An identical pair weighs 1 inside a run of at least
EXACT_RUN identical tokens and GLUE_WEIGHT in a shorter run (the punctuation between
renamed names). A renamed identifier weighs RENAMED_WEIGHT when the renaming is
consistent and the name recurs (the query name always maps to the same source name and
back, as when a model renames a variable), SINGLE_WEIGHT for a consistent single use,
and nothing when it is inconsistent (structure alone is no evidence). A changed string
or number weighs at most LITERAL_WEIGHT: a table with other values is another table.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from attribution.core.align import Span
from attribution.core.config import Config
from attribution.core.languages import IDENTIFIER
from attribution.core.tokenize import TokenStream

EXACT, RENAMED, NEAR = "exact", "renamed", "near"
RENAMED_WEIGHT = 0.9  # a consistently renamed, recurring name (below an identical one)
INCONSISTENT_WEIGHT = 0.0
SINGLE_WEIGHT = 0.45
LITERAL_WEIGHT = 0.25  # a changed string or number, however consistent
EXACT_RUN = 5  # identical tokens in a row that count in full
GLUE_WEIGHT = 0.25  # identical tokens in shorter runs (punctuation between renamed names)
GAP_OPEN, GAP_EXTEND, GAP_SKEW = 2.0, 0.25, 0.25  # evidence lost per gap, per gap token
CERTAINTY_SCALE = 60.0  # evidence (tokens) at which the score reaches 1 - 1/e
STRONG_SCORE = 0.4  # a renamed or near match this sure needs no rare structure
WHOLE_COPY = 0.9  # coverage of a renamed match that copies (nearly) the whole query
RARE_WHOLE_COPY = 0.3  # rare-structure share that lets such a copy pass below min_score
WHOLE_COPY_EVIDENCE = 1.1  # ... renamed, with this much more evidence than an exact match
NEAR_IDENTICAL = 0.95  # ... near, with this share of its aligned tokens identical
NAME_BITS = 20.0  # ... renamed, keeping identical names this surprising (sum of log2 idf)
NAMED_COPY_EVIDENCE = 0.6  # ... in which case this share of min_tokens of evidence is enough
FEW_PAIRS = 96  # renamed pairs below which counting them in dicts is cheaper than numpy


@dataclass(frozen=True)
class SpanVerdict:
    """One span with its exactness: how many of its token pairs are identical."""

    span: Span
    exact_tokens: int

    @property
    def is_exact(self) -> bool:
        return self.exact_tokens == len(self.span)


@dataclass(frozen=True)
class Judgement:
    """A chain of spans judged: what type of match, how much evidence, how sure."""

    spans: tuple[SpanVerdict, ...]
    match_type: str
    tokens: int
    exact_tokens: int
    evidence: float
    coverage: float
    score: float


def chain_pairs(chain: list[Span]) -> tuple[np.ndarray, np.ndarray]:
    """The aligned (query position, source position) pairs of a chain, in order."""
    if len(chain) == 1:
        sp = chain[0]
        return np.arange(sp.qa, sp.qb), np.arange(sp.sa, sp.sb)
    qi = np.concatenate([np.arange(sp.qa, sp.qb) for sp in chain])
    si = np.concatenate([np.arange(sp.sa, sp.sb) for sp in chain])
    return qi, si


def long_runs(flags: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Which flags are True in a run of at least EXACT_RUN Trues; runs also end where each
    of the consecutive pieces of these lengths (a chain's spans) ends."""
    n = flags.shape[0]
    edge = np.empty(n + 1, dtype=bool)
    edge[0] = edge[n] = True
    np.not_equal(flags[1:], flags[:-1], out=edge[1:n])
    if len(lengths) > 1:
        edge[list(itertools.accumulate(lengths[:-1]))] = True
    at = edge.nonzero()[0]
    size = at[1:] - at[:-1]
    return np.repeat(flags[at[:-1]] & (size >= EXACT_RUN), size)


def renamed_weights(q_names: np.ndarray, s_names: np.ndarray) -> np.ndarray:
    """Weight of each renamed pair: RENAMED_WEIGHT when it follows the majority mapping in
    both directions and the query name recurs, SINGLE_WEIGHT for a consistent single use,
    else INCONSISTENT_WEIGHT. A majority tie goes to the pairing seen first."""
    n = q_names.shape[0]
    if n < FEW_PAIRS:
        return _weights_by_counting(q_names.tolist(), s_names.tolist())
    qn, sn = q_names.astype(np.uint64), s_names.astype(np.uint64)
    _, first, pair, count = np.unique(
        (qn << np.uint64(32)) | sn, return_index=True, return_inverse=True, return_counts=True
    )
    a, b = qn[first], sn[first]
    best = _majority(a, count, first) & _majority(b, count, first)
    # the distinct pairs are sorted by query name: a name's uses are its pairs' counts
    new_name = np.ones(a.shape[0], dtype=bool)
    new_name[1:] = a[1:] != a[:-1]
    uses = np.add.reduceat(count, np.flatnonzero(new_name))[np.cumsum(new_name) - 1]
    weights = np.where(uses > 1, RENAMED_WEIGHT, SINGLE_WEIGHT)
    return np.where(best, weights, INCONSISTENT_WEIGHT)[pair.reshape(-1)]


def _weights_by_counting(q_names: list[int], s_names: list[int]) -> np.ndarray:
    """renamed_weights of a few pairs, counted in dicts (numpy's calls cost more here)."""
    count = Counter(zip(q_names, s_names, strict=True))  # distinct pairs, first seen first
    uses: dict[int, int] = {}
    top_q: dict[int, tuple[int, int]] = {}  # query name -> (count, its top source name)
    top_s: dict[int, tuple[int, int]] = {}
    for (a, b), c in count.items():
        uses[a] = uses.get(a, 0) + c
        if c > top_q.get(a, (0, 0))[0]:  # strictly more: a tie keeps the first seen
            top_q[a] = (c, b)
        if c > top_s.get(b, (0, 0))[0]:
            top_s[b] = (c, a)
    weight = {
        (a, b): (RENAMED_WEIGHT if uses[a] > 1 else SINGLE_WEIGHT)
        if top_q[a][1] == b and top_s[b][1] == a
        else INCONSISTENT_WEIGHT
        for a, b in count
    }
    each = map(weight.__getitem__, zip(q_names, s_names, strict=True))
    return np.fromiter(each, dtype=np.float64, count=len(q_names))


def _majority(key: np.ndarray, count: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Which distinct pairs are their key's most frequent one (the first seen on a tie)."""
    order = np.lexsort((first, -count, key))
    top = np.ones(order.shape[0], dtype=bool)
    top[1:] = key[order][1:] != key[order][:-1]
    out = np.zeros(order.shape[0], dtype=bool)
    out[order[top]] = True
    return out


def gap_cost(chain: list[Span]) -> float:
    """What the gaps between a chain's spans take off its evidence."""
    cost = 0.0
    for a, b in itertools.pairwise(chain):
        gap_q, gap_s = b.qa - a.qb, b.sa - a.sb
        cost += GAP_OPEN + GAP_EXTEND * (gap_q + gap_s) + GAP_SKEW * abs(gap_q - gap_s)
    return cost


def judge(
    q: TokenStream,
    s: TokenStream,
    chain: list[Span],
    rare_exact: np.ndarray | None = None,
    rare_abstract: np.ndarray | None = None,
) -> Judgement:
    """Evidence, type and score of one chain (query tokens q against source tokens s).

    rare_* mark the query tokens covered by a k-gram that is not boilerplate in that view;
    pairs elsewhere are no evidence (a getter matches thousands of files)."""
    qi, si = chain_pairs(chain)
    qh, sh = q.text_hash[qi], s.text_hash[si]
    equal = qh == sh
    lengths = [len(sp) for sp in chain]
    weight = np.where(long_runs(equal, lengths), 1.0, GLUE_WEIGHT)  # renamed: set below
    exact_tokens = int(np.count_nonzero(equal))
    if exact_tokens < qi.shape[0]:
        at = (~equal).nonzero()[0]
        renaming = renamed_weights(qh[at], sh[at])
        literal = q.kind[qi[at]] != IDENTIFIER  # new values in a table are no evidence
        weight[at] = np.where(literal, np.minimum(renaming, LITERAL_WEIGHT), renaming)
    if rare_exact is not None and rare_abstract is not None:
        weight[~np.where(equal, rare_exact[qi], rare_abstract[qi])] = 0.0
    evidence = float(weight.sum()) - gap_cost(chain)
    verdicts = [
        SpanVerdict(sp, n) for sp, n in zip(chain, _span_counts(equal, lengths), strict=True)
    ]
    tokens = int(qi.shape[0])
    coverage = tokens / max(len(q), 1)
    quality = evidence / max(tokens, 1)
    return Judgement(
        spans=tuple(verdicts),
        match_type=_match_type(verdicts),
        tokens=tokens,
        exact_tokens=exact_tokens,
        evidence=evidence,
        coverage=coverage,
        score=quality * (1.0 - math.exp(-evidence / CERTAINTY_SCALE)),
    )


def _span_counts(flags: np.ndarray, lengths: list[int]) -> list[int]:
    """How many flags are True in each of the consecutive pieces of these lengths."""
    if len(lengths) == 1:
        return [int(np.count_nonzero(flags))]
    total = np.zeros(flags.shape[0] + 1, dtype=np.int64)
    np.cumsum(flags, out=total[1:])
    at = total[[0, *itertools.accumulate(lengths)]].tolist()
    return [b - a for a, b in itertools.pairwise(at)]


def _match_type(verdicts: list[SpanVerdict]) -> str:
    if len(verdicts) > 1:
        return NEAR
    return EXACT if verdicts[0].is_exact else RENAMED


def accepted(
    j: Judgement, rare_share: float, cfg: Config, name_bits: Callable[[], float] = lambda: 0.0
) -> bool:
    """Whether a judged chain is a finding. Every match needs cfg.min_tokens of evidence;
    an exact one needs nothing more (identical names in a run that long are no accident).
    A renamed or near match scoring STRONG_SCORE is one too, whatever share of a long
    query (a file scanned in windows) it covers. A weaker one rests on structure, so
    that structure must not be one that many indexed files share (rare_share >=
    cfg.min_rare_share: see search.rare_structure_share), and the match must either
    score cfg.min_score over cfg.min_coverage of the query, or be a copy of nearly the
    whole query whose structure is mostly rare: renamed, with a tenth more evidence or
    with identical names that few indexed files use (name_bits(), asked only here: a
    short function renamed throughout scores low, since its identical tokens are the
    punctuation between names; what it keeps is its calls and attributes), or near with
    nearly every aligned token identical (a short function with a statement changed
    scores low: the gap costs evidence)."""
    if j.match_type == EXACT:
        return j.evidence >= cfg.min_tokens
    whole = j.coverage >= WHOLE_COPY and rare_share >= RARE_WHOLE_COPY
    if j.evidence < cfg.min_tokens:
        return (
            whole
            and j.match_type == RENAMED
            and j.evidence >= NAMED_COPY_EVIDENCE * cfg.min_tokens
            and name_bits() >= NAME_BITS
        )
    if j.score >= STRONG_SCORE:
        return True  # most of its tokens are evidence, however long the query around it
    if rare_share < cfg.min_rare_share:
        return False
    if j.score >= cfg.min_score and j.coverage >= cfg.min_coverage:
        return True
    if not whole:
        return False
    if j.match_type == RENAMED:
        return j.evidence >= WHOLE_COPY_EVIDENCE * cfg.min_tokens or name_bits() >= NAME_BITS
    return j.exact_tokens >= NEAR_IDENTICAL * j.tokens  # identical pieces, statements between
