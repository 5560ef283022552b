"""The query tail's cheaper judging (issue 14): score.judge and what it calls, and
matchtype's helpers, compute what their plain formulations compute: each against a
direct reading of its definition (the former code, written plainly here), on random
input with many ties and repeats."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np

from attribution.core import matchtype, score
from attribution.core.align import Span
from attribution.core.languages import IDENTIFIER
from attribution.core.tokenize import TokenStream, token_hash

PUNCT = [token_hash(t) for t in (b".", b"->", b"(", b",", b"{", b"=", b":", b";", b")")]


def _stream(text: np.ndarray, kind: np.ndarray, units: np.ndarray | None = None) -> TokenStream:
    n = text.shape[0]
    start = np.arange(n, dtype=np.uint32) * 2
    end = start + 1
    end[::7] = start[::7]  # some tokens hold no bytes (a parser's error recovery)
    line = np.arange(n, dtype=np.uint32) // 5 + 1
    units = np.zeros((0, 2), np.int32) if units is None else units.astype(np.int32)
    return TokenStream(
        text.astype(np.uint32), kind.astype(np.uint8), start, end, line, line, units, "c"
    )


def _code(rng: np.random.Generator, n: int, names: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Tokens from a few names and the punctuation matchtype looks at (many repeats)."""
    is_name = rng.random(n) < 0.5
    text = np.where(is_name, rng.integers(1, names + 1, n), np.array(PUNCT)[rng.integers(0, 9, n)])
    kind = np.where(is_name, IDENTIFIER, rng.choice([0, 0, 0, 2, 3], n))
    return text, kind


def _renamed_copy(rng: np.random.Generator, text: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """The tokens with some names renamed (consistently or not) and a few tokens changed."""
    rename = {int(a): int(rng.integers(1, 9)) for a in np.unique(text[kind == IDENTIFIER])}
    out = np.array([rename.get(int(t), int(t)) if k == IDENTIFIER else t
                    for t, k in zip(text, kind, strict=True)])  # fmt: skip
    hit = rng.integers(0, text.shape[0], int(rng.integers(0, 4)))
    out[hit] = rng.integers(1, 9, hit.shape[0])
    return out


def _units(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    """Functions as token ranges, nested or not, some of the same width (ties)."""
    a = rng.integers(0, max(n - 1, 1), count)
    width = rng.choice([5, 10, 10, 20, 40], count)
    return np.stack([a, np.minimum(a + width, n)], axis=1).reshape(-1, 2)


# score.judge ---------------------------------------------------------------------------


def _run_lengths_by_reading(flags: list[bool], breaks: set[int]) -> list[int]:
    """Each True's run length, read token by token (runs also end at breaks)."""
    out = []
    for i, flag in enumerate(flags):
        if not flag:
            out.append(0)
            continue
        a = i
        while a > 0 and flags[a - 1] and a not in breaks:
            a -= 1
        b = i + 1
        while b < len(flags) and flags[b] and b not in breaks:
            b += 1
        out.append(b - a)
    return out


def _renamed_weights_by_reading(q_names: list[int], s_names: list[int]) -> list[float]:
    """Each pair's weight read from renamed_weights' docstring: a pair is its query name's
    majority when no other pair of that name is more frequent, or as frequent and seen
    earlier; likewise for its source name."""
    pairs = list(zip(q_names, s_names, strict=True))
    count = Counter(pairs)
    first = {p: pairs.index(p) for p in count}

    def majority(p: tuple[int, int], side: int) -> bool:
        rivals = [o for o in count if o[side] == p[side] and o != p]
        return all((count[p], -first[p]) > (count[o], -first[o]) for o in rivals)

    uses = Counter(q_names)
    return [
        (score.RENAMED_WEIGHT if uses[a] > 1 else score.SINGLE_WEIGHT)
        if majority((a, b), 0) and majority((a, b), 1)
        else score.INCONSISTENT_WEIGHT
        for a, b in pairs
    ]


def _judge_by_reading(
    q: TokenStream, s: TokenStream, chain: list[Span], rare_exact: np.ndarray, rare_abs: np.ndarray
) -> score.Judgement:
    """score.judge's definition read pair by pair (its former formulation)."""
    qi = [i for sp in chain for i in range(sp.qa, sp.qb)]
    si = [i for sp in chain for i in range(sp.sa, sp.sb)]
    equal = [bool(q.text_hash[a] == s.text_hash[b]) for a, b in zip(qi, si, strict=True)]
    starts = set(itertools.accumulate([len(sp) for sp in chain[:-1]], initial=0))
    runs = _run_lengths_by_reading(equal, starts)
    weight = [(1.0 if r >= score.EXACT_RUN else score.GLUE_WEIGHT) if e else 0.0
              for e, r in zip(equal, runs, strict=True)]  # fmt: skip
    renamed = [k for k, e in enumerate(equal) if not e]
    names = _renamed_weights_by_reading(
        [int(q.text_hash[qi[k]]) for k in renamed], [int(s.text_hash[si[k]]) for k in renamed]
    )
    for k, w in zip(renamed, names, strict=True):
        literal = q.kind[qi[k]] != IDENTIFIER
        weight[k] = min(w, score.LITERAL_WEIGHT) if literal else w
    for k, e in enumerate(equal):
        if not (rare_exact if e else rare_abs)[qi[k]]:
            weight[k] = 0.0
    evidence = float(np.array(weight, dtype=np.float64).sum()) - score.gap_cost(chain)
    verdicts, offset = [], 0
    for sp in chain:
        verdicts.append(score.SpanVerdict(sp, sum(equal[offset : offset + len(sp)])))
        offset += len(sp)
    tokens = len(qi)
    quality = evidence / max(tokens, 1)
    kind = score.NEAR if len(chain) > 1 else score.EXACT if verdicts[0].is_exact else score.RENAMED
    return score.Judgement(
        spans=tuple(verdicts),
        match_type=kind,
        tokens=tokens,
        exact_tokens=sum(equal),
        evidence=evidence,
        coverage=tokens / max(len(q), 1),
        score=quality * (1.0 - math.exp(-evidence / score.CERTAINTY_SCALE)),
    )


def _chain(rng: np.random.Generator, nq: int, ns: int) -> list[Span]:
    """Spans in query and source order with gaps (now and then an empty one)."""
    chain, qa, sa = [], int(rng.integers(0, 5)), int(rng.integers(0, 5))
    for _ in range(int(rng.integers(1, 5))):
        n = int(rng.integers(0, 3)) if rng.random() < 0.1 else int(rng.integers(1, 40))
        if qa + n > nq or sa + n > ns:
            break
        chain.append(Span(qa, qa + n, sa, sa + n))
        qa, sa = qa + n + int(rng.integers(0, 6)), sa + n + int(rng.integers(0, 6))
    return chain or [Span(0, 1, 0, 1)]


def test_judge_is_its_definition_read_pair_by_pair() -> None:
    rng = np.random.default_rng(21)
    for trial in range(400):
        nq = int(rng.integers(2, 150))
        text, kind = _code(rng, nq, names=int(rng.integers(1, 8)))
        q = _stream(text, kind)
        s_text = _renamed_copy(rng, text, kind) if trial % 4 else text.copy()
        s = _stream(np.concatenate([s_text, text[: int(rng.integers(0, 30))]]), kind)
        chain = _chain(rng, nq, nq)
        rare_e, rare_a = rng.random(nq) < 0.8, rng.random(nq) < 0.8
        got = score.judge(q, s, chain, rare_e, rare_a)
        want = _judge_by_reading(q, s, chain, rare_e, rare_a)
        assert got == want, (trial, chain)
        every = np.ones(nq, bool)
        assert score.judge(q, s, chain) == _judge_by_reading(q, s, chain, every, every)


def test_long_runs_are_runs_read_token_by_token() -> None:
    rng = np.random.default_rng(22)
    for _ in range(500):
        lengths = [int(x) for x in rng.integers(0, 25, int(rng.integers(1, 6)))]
        flags = rng.random(sum(lengths)) < rng.choice([0.5, 0.8, 0.95])
        starts = set(itertools.accumulate(lengths[:-1], initial=0))
        runs = _run_lengths_by_reading(flags.tolist(), starts)
        want = [r >= score.EXACT_RUN for r in runs]
        assert score.long_runs(flags, lengths).tolist() == want
        offsets = list(itertools.accumulate(lengths[:-1], initial=0))
        counts = [int(flags[a : a + n].sum()) for a, n in zip(offsets, lengths, strict=True)]
        assert score._span_counts(flags, lengths) == counts


def test_renamed_weights_both_ways_are_their_definition_read_pair_by_pair() -> None:
    """Few pairs (counted in dicts) and many (numpy), ties and inconsistent mappings."""
    rng = np.random.default_rng(23)
    sizes = [0, 1, 2, score.FEW_PAIRS - 1, score.FEW_PAIRS, score.FEW_PAIRS + 1, 300]
    for trial in range(600):
        n = sizes[trial] if trial < len(sizes) else int(rng.integers(0, 3 * score.FEW_PAIRS))
        names = int(rng.integers(1, 8))
        hashes = rng.integers(0, 1 << 32, 2 * names, dtype=np.uint64).astype(np.uint32)
        q = hashes[rng.integers(0, names, n)]
        s = hashes[names + rng.integers(0, names, n)] if trial % 3 else q[::-1].copy()
        want = _renamed_weights_by_reading(q.tolist(), s.tolist())
        assert score.renamed_weights(q, s).tolist() == want, (q, s)


# matchtype --------------------------------------------------------------------------------


def _one_renaming_as_before(pairs: dict[tuple[int, int], int]) -> bool:
    targets: dict[int, int] = {}
    sources: dict[int, list[tuple[int, int]]] = {}
    for (a, b), n in pairs.items():
        if targets.setdefault(a, b) != b:
            return False
        sources.setdefault(b, []).append((a, n))
    for b, names in sources.items():
        if len(names) == 1:
            continue
        new = [(a, n) for a, n in names if a != b]
        if len(new) > 1 or len(new) == len(names) or new[0][1] < 2:
            return False
    return True


def test_one_renaming_is_its_former_reading() -> None:
    rng = np.random.default_rng(24)
    seen = Counter()
    for _ in range(3000):
        k = int(rng.integers(1, 5))
        pairs: dict[tuple[int, int], int] = {}
        for _ in range(int(rng.integers(1, 7))):
            a = int(rng.integers(0, k))
            b = a if rng.random() < 0.4 else int(rng.integers(0, k))
            pairs[a, b] = int(rng.integers(1, 4))
        want = _one_renaming_as_before(pairs)
        seen[want] += 1
        assert matchtype._one_renaming(pairs) == want, pairs
    assert min(seen.values()) > 300


def _unit_as_before(units: np.ndarray, a: int, b: int) -> tuple[int, int] | None:
    """The narrowest unit holding [a, b), the first listed of the narrowest on a tie."""
    holding = [(ub - ua, k, (ua, ub)) for k, (ua, ub) in enumerate(units.tolist())
               if ua <= a and ub >= b]  # fmt: skip
    return min(holding)[2] if holding else None


def test_innermost_unit_is_the_narrowest_holding_the_first_on_a_tie() -> None:
    rng = np.random.default_rng(25)
    for count in [0, 1, 3, matchtype.FEW_UNITS, matchtype.FEW_UNITS + 1, 60]:
        for _ in range(60):
            units = _units(rng, 100, count)
            text, kind = _code(rng, 100)
            stream = _stream(text, kind, units)
            a = int(rng.integers(0, 100))
            b = min(100, a + int(rng.integers(1, 30)))
            assert matchtype._unit(stream, a, b) == _unit_as_before(stream.units, a, b)


def _scopes_as_before(q: TokenStream, at: np.ndarray) -> np.ndarray:
    scope = np.full(len(at), -1, np.int64)
    units = q.units
    if len(units) == 0 or len(at) == 0:
        units = units[:0]
    else:
        units = units[(units[:, 1] > at.min()) & (units[:, 0] <= at.max())]
    for k in np.argsort(units[:, 0] - units[:, 1], kind="stable").tolist():
        scope[(at >= units[k, 0]) & (at < units[k, 1])] = k
    return scope


def test_scopes_are_their_former_reading() -> None:
    rng = np.random.default_rng(28)
    for _ in range(500):
        n = int(rng.integers(1, 120))
        text, kind = _code(rng, n)
        q = _stream(text, kind, _units(rng, n, int(rng.integers(0, 8))))
        at = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False))
        assert np.array_equal(matchtype._scopes(q, at), _scopes_as_before(q, at))


def _members_as_before(s: TokenStream, at: np.ndarray, changed: np.ndarray) -> np.ndarray:
    text = s.text_hash
    before = np.where(at > 0, text[np.maximum(at - 1, 0)], 0)
    after = np.where(at + 1 < len(text), text[np.minimum(at + 1, len(text) - 1)], 0)
    key = np.isin(before, matchtype._KEY_AFTER) & np.isin(after, matchtype._KEY_BEFORE)
    return np.isin(before, matchtype._MEMBER_AFTER) | (key & ~changed)


def _calls_as_before(q: TokenStream, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    text = q.text_hash
    calls = (q.kind[:-1] == IDENTIFIER) & (text[1:] == matchtype._OPEN)
    called = np.isin(at, np.flatnonzero(calls))
    declared = np.zeros(len(at), bool)
    for k in np.flatnonzero(called).tolist():
        unit = _unit_as_before(q.units, int(at[k]), int(at[k]) + 1)
        if unit is not None and calls[unit[0] : unit[1]].argmax() + unit[0] == at[k]:
            declared[k] = True
    return called & ~declared, declared


def _shown_as_before(
    q: TokenStream, s: TokenStream, at: np.ndarray, sh: np.ndarray, member: np.ndarray
) -> bool:
    pairs = Counter(zip(q.text_hash[at].tolist(), sh.tolist(), strict=True))
    if max(pairs.values()) > 1:
        return True
    here = Counter(sh.tolist())
    alone = np.array([np.count_nonzero(s.text_hash == h) == here[h] for h in sh.tolist()])
    called, declared = _calls_as_before(q, at)
    return bool(np.mean(~member & (declared | (alone & ~called))) > 0.5)


def _renaming_as_before(q: TokenStream, s: TokenStream, qi: np.ndarray, si: np.ndarray) -> bool:
    names = q.kind[qi] == IDENTIFIER
    qn, sn = qi[names], si[names]
    qh, sh = q.text_hash[qn], s.text_hash[sn]
    changed = qh != sh
    if not bool(changed.any()):
        return False
    member = _members_as_before(s, sn, changed)
    role = _scopes_as_before(q, qn) * 2 + member
    for r in np.unique(role).tolist():
        pairs = Counter(zip(qh[role == r].tolist(), sh[role == r].tolist(), strict=True))
        if not _one_renaming_as_before(pairs):
            return False
    return _shown_as_before(q, s, qn[changed], sh[changed], member[changed])


def _copy(rng: np.random.Generator) -> tuple[TokenStream, TokenStream, np.ndarray, np.ndarray]:
    """A query, a source holding a renamed copy of part of it, and the aligned positions."""
    n = int(rng.integers(4, 120))
    text, kind = _code(rng, n, names=int(rng.integers(1, 6)))
    q = _stream(text, kind, _units(rng, n, int(rng.integers(0, 5))))
    a = int(rng.integers(0, n - 2))
    b = int(rng.integers(a + 1, n + 1))
    pad = int(rng.integers(0, min(10, n) + 1))
    s_text = np.concatenate([text[:pad], _renamed_copy(rng, text[a:b], kind[a:b]), text[:pad]])
    s_kind = np.concatenate([kind[:pad], kind[a:b], kind[:pad]])
    s = _stream(s_text, s_kind)
    return q, s, np.arange(a, b), np.arange(pad, pad + b - a)


def test_renaming_and_its_parts_are_their_former_readings() -> None:
    rng = np.random.default_rng(26)
    seen = Counter()
    for _ in range(1500):
        q, s, qi, si = _copy(rng)
        want = _renaming_as_before(q, s, qi, si)
        seen[want] += 1
        assert matchtype._renaming(q, s, qi, si) == want
        changed = q.text_hash[qi] != s.text_hash[si]
        assert np.array_equal(
            matchtype._members(s, si, changed), _members_as_before(s, si, changed)
        )
        for got, plain in zip(matchtype._calls(q, qi), _calls_as_before(q, qi), strict=True):
            assert np.array_equal(got, plain)
        if changed.any():
            at, sh, member = qi[changed], s.text_hash[si[changed]], changed[changed]
            for m in (member, ~member):
                assert matchtype._shown(q, s, at, sh, m) == _shown_as_before(q, s, at, sh, m)
    assert min(seen.values()) > 100


def test_solid_tokens_and_same_structure_at_the_edges() -> None:
    rng = np.random.default_rng(27)
    text, kind = _code(rng, 50)
    q = _stream(text, kind)
    for a, b in [(0, 0), (5, 5), (10, 3), (0, 50), (7, 31), (49, 50)]:
        at = np.arange(a, max(a, b))
        want = at[q.end[a:b] > q.start[a:b]]
        got = matchtype._solid(q, a, b)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    none = np.zeros(0, np.int64)
    assert matchtype._same_structure(q, q, none, none)
    assert not matchtype._same_structure(q, q, none, np.arange(1))
