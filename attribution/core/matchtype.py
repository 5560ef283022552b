"""What kind of copy a chain of aligned spans is: `exact`, `renamed` or `near` (SPEC).

The aligned spans say where the evidence is, not where the copy ends: trimming leaves
identical boilerplate out of spans, and a renamed name at a function's edge is left out of
them. So the copy is first extended over what lies between and around its spans:
- between two spans, the tokens skipped on each side are the same copy when they are as
  many and equal in the abstracted view (names and literals aside);
- at each end, up to the edge of the query's function (unit) that holds it (the innermost
  holding the whole copy, else the innermost holding that end, so a copy that starts
  before a function and stops inside it is judged at its stop): the tokens left out are
  the same copy when the source has as many there and they are equal in that view; when
  the source's function is known (an index stores no units) and one side reaches its
  function's edge while the other does not, a statement was added or removed there.
  Nothing is judged at the ends of a fragment of a body or of code outside functions.
A token of no bytes (a parser's error recovery inserts one for a missing `;` or `)`)
holds no code and is left out on both sides.

Then over the extended copy: `near` when any part is not the same copy; `exact` when every
token is identical; else `renamed` when the names that differ are one renaming, by rules
stated in terms of what the code means:
1. One renaming per scope: within each function (the innermost that holds the token; code
   outside functions is one more scope) each query name stands for one source name and
   back. Two functions may each have their own `i`, renamed in one and kept in the other.
   A source name that two query names stand for in one scope keeps its own name in some
   places and a new name, used more than once, in others (a variable renamed where its
   namesake attribute was not); else a name changed in one place only is an edit. So is
   a renaming left half done (a declaration renamed, its uses not): the copy no longer
   refers to what the source does.
2. Member names (after `.`, `->`, `::`) and unchanged keys (`f(key=...)`, `{key: ...}`)
   are a namespace of their own: renaming a variable `path` leaves `self.path` and
   `f(path=path)`'s key alone. A name in a key's place that changed is a declaration
   (`def f(new=None)`, `fn f(new: T)`, `(a, new: T)`), in the namespace of variables.
3. Something must be renamed: a copy whose names are all kept and whose literals changed
   has edited values, `near` (literals may change along with a renaming).
4. A renaming shows itself where a renamed name occurs more than once in the copy (its
   declaration and its uses change together). When every renamed name occurs only once,
   each change is one token in one statement, which is a renaming only of a name that is
   the copy's own: the name its function is declared with (the first name called in it,
   not a member name: `def f(`, `int f(`), or an unused parameter or variable, that is a
   name that is not a member name (it names a field or method of another object's type),
   not called (a function the copy calls once is declared outside it) and found nowhere
   else in the source file (else the token may point at a function, field, import or
   variable declared outside the copy, whose other occurrences the query does not
   rename). The copy is `renamed` when most of its renamed names are its own, else
   `near`: one call, field or global pointed elsewhere is an edited statement.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from attribution.core.languages import IDENTIFIER
from attribution.core.tokenize import TokenStream, token_hash

EXACT, RENAMED, NEAR = "exact", "renamed", "near"
_MEMBER_AFTER = np.array([token_hash(t) for t in (b".", b"->", b"::", b"?.")], np.uint32)
_KEY_AFTER = np.array([token_hash(t) for t in (b"(", b",", b"{")], np.uint32)
_OPEN = token_hash(b"(")
_KEY_BEFORE = np.array([token_hash(t) for t in (b"=", b":")], np.uint32)
Copy = tuple[np.ndarray, np.ndarray]  # aligned query and source token positions
_NONE = np.zeros(0, np.int64)
FEW_UNITS = 16  # functions in a stream up to which _unit reads them in a loop


class Aligned(Protocol):
    """A span of the chain: query tokens [qa, qb) against source tokens [sa, sb)."""

    @property
    def qa(self) -> int: ...
    @property
    def qb(self) -> int: ...
    @property
    def sa(self) -> int: ...
    @property
    def sb(self) -> int: ...


def classify(q: TokenStream, s: TokenStream, chain: Sequence[Aligned]) -> str:
    """The match type of a chain (spans in query and source order)."""
    if not chain:
        return NEAR
    copy = _extended(q, s, chain)
    if copy is None:
        return NEAR
    qi, si = copy
    if bool(np.all(q.text_hash[qi] == s.text_hash[si])):
        return EXACT
    return RENAMED if _renaming(q, s, qi, si) else NEAR


def _extended(q: TokenStream, s: TokenStream, chain: Sequence[Aligned]) -> Copy | None:
    """The chain with its gaps and ends filled where both sides hold the same structure;
    None when a gap or an end shows an edit."""
    qs, ss = [np.arange(chain[0].qa, chain[0].qb)], [np.arange(chain[0].sa, chain[0].sb)]
    for prev, sp in itertools.pairwise(chain):
        if sp.qa < prev.qb or sp.sa < prev.sb:
            return None
        gap = _solid(q, prev.qb, sp.qa), _solid(s, prev.sb, sp.sa)
        if not _same_structure(q, s, *gap):
            return None
        qs += [gap[0], np.arange(sp.qa, sp.qb)]
        ss += [gap[1], np.arange(sp.sa, sp.sb)]
    ends = _ends(q, s, chain[0], chain[-1])
    if ends is None:
        return None
    (ql, sl), (qt, st) = ends
    return np.concatenate([ql, *qs, qt]), np.concatenate([sl, *ss, st])


def _ends(
    q: TokenStream, s: TokenStream, first: Aligned, last: Aligned
) -> tuple[Copy, Copy] | None:
    """What lies between each end of the copy and the edge of the function holding it
    (the innermost holding the whole copy, else the innermost holding that end); None when
    an end shows an edit. Ends outside functions are empty."""
    whole_q, whole_s = _unit(q, first.qa, last.qb), _unit(s, first.sa, last.sb)
    qa, sa, qb, sb = first.qa, first.sa, last.qb, last.sb
    lead_units = whole_q or _unit(q, qa, qa + 1), whole_s or _unit(s, sa, sa + 1)
    tail_units = whole_q or _unit(q, qb - 1, qb), whole_s or _unit(s, sb - 1, sb)
    lead = _end(q, s, qa, sa, *lead_units, lead=True)
    tail = _end(q, s, qb, sb, *tail_units, lead=False)
    return None if lead is None or tail is None else (lead, tail)


def _end(
    q: TokenStream,
    s: TokenStream,
    qat: int,
    sat: int,
    uq: tuple[int, int] | None,
    us: tuple[int, int] | None,
    *,
    lead: bool,
) -> Copy | None:
    """The tokens from the copy's end at (qat, sat) to the function's edge on each side."""
    if uq is None:
        return _NONE, _NONE
    qe = _solid(q, uq[0], qat) if lead else _solid(q, qat, uq[1])
    if us is None:  # a stored source has no units: as many tokens as the query has
        se = _before(s, sat, len(qe)) if lead else _after(s, sat, len(qe))
    else:
        se = _solid(s, us[0], sat) if lead else _solid(s, sat, us[1])
    if (len(qe) == 0) != (len(se) == 0):
        return None  # one side reaches its function's edge, the other does not
    return (qe, se) if _same_structure(q, s, qe, se) else None


def _solid(stream: TokenStream, a: int, b: int) -> np.ndarray:
    """Positions in [a, b) of the tokens that hold bytes."""
    if b <= a:
        return _NONE
    at = np.arange(a, b)
    return at[stream.end[a:b] > stream.start[a:b]]


def _before(stream: TokenStream, at: int, n: int) -> np.ndarray:
    """The n tokens holding bytes just before position at (fewer at the file's start)."""
    return _solid(stream, max(0, at - 2 * n - 8), at)[-n:] if n else _NONE


def _after(stream: TokenStream, at: int, n: int) -> np.ndarray:
    """The n tokens holding bytes from position at on (fewer at the file's end)."""
    return _solid(stream, at, min(len(stream), at + 2 * n + 8))[:n]


def _same_structure(q: TokenStream, s: TokenStream, qi: np.ndarray, si: np.ndarray) -> bool:
    """As many tokens on each side, each equal or equal in the abstracted view (a
    snippet parsed alone may class a token otherwise)."""
    if len(qi) != len(si):
        return False
    if len(qi) == 0:
        return True
    same = q.text_hash[qi] == s.text_hash[si]
    return bool(np.all(same | (q.abstract[qi] == s.abstract[si])))


def _unit(stream: TokenStream, a: int, b: int) -> tuple[int, int] | None:
    """The innermost function (unit) holding tokens [a, b), or None."""
    units = stream.units
    if len(units) == 0:
        return None
    if len(units) <= FEW_UNITS:  # a loop costs less than numpy's calls
        best = None
        for ua, ub in units.tolist():
            if ua <= a and ub >= b and (best is None or ub - ua < best[1] - best[0]):
                best = (ua, ub)
        return best
    inside = units[(units[:, 0] <= a) & (units[:, 1] >= b)]
    if len(inside) == 0:
        return None
    narrowest = inside[np.argmin(inside[:, 1] - inside[:, 0])]
    return int(narrowest[0]), int(narrowest[1])


def _renaming(q: TokenStream, s: TokenStream, qi: np.ndarray, si: np.ndarray) -> bool:
    """The names that differ over the copy are one renaming (rules 1 to 4 above)."""
    names = q.kind[qi] == IDENTIFIER
    qn, sn = qi[names], si[names]
    qh, sh = q.text_hash[qn], s.text_hash[sn]
    changed = qh != sh
    if not bool(changed.any()):
        return False  # rule 3: only literals changed
    member = _members(s, sn, changed)
    role = _scopes(q, qn) * 2 + member
    by_role: dict[int, dict[tuple[int, int], int]] = {}
    triples = Counter(zip(role.tolist(), qh.tolist(), sh.tolist(), strict=True))
    for (r, a, b), n in triples.items():
        pairs = by_role.get(r)
        if pairs is None:
            pairs = by_role[r] = {}
        pairs[a, b] = n
    if not all(_one_renaming(pairs) for pairs in by_role.values()):
        return False
    return _shown(q, s, qn[changed], sh[changed], member[changed])


def _one_renaming(pairs: dict[tuple[int, int], int]) -> bool:
    """Each query name stands for one source name, and a source name two query names
    stand for is kept in some places and renamed, more than once, in the others."""
    targets = {a: b for a, b in pairs}
    if len(targets) < len(pairs):
        return False  # one query name for two source names
    names = Counter(targets.values())  # how many query names stand for each source name
    for (a, b), n in pairs.items():
        # two: the source name kept in some places, renamed (more than once) in others
        if names[b] > 1 and (names[b] > 2 or (b, b) not in pairs or (a != b and n < 2)):
            return False  # a name changed in one place only: an edit, not a renaming
    return True


def _shown(
    q: TokenStream, s: TokenStream, at: np.ndarray, sh: np.ndarray, member: np.ndarray
) -> bool:
    """Rule 4: a renamed name occurs more than once in the copy, or most renamed names are
    the copy's own (its function's name, or a name neither member nor called and found
    nowhere else in the source file).
    at: the renamed query positions, sh: their source names."""
    pairs = Counter(zip(q.text_hash[at].tolist(), sh.tolist(), strict=True))
    if max(pairs.values()) > 1:
        return True
    here = Counter(sh.tolist())
    text = s.text_hash
    everywhere = Counter(text[np.isin(text, list(here))].tolist())
    alone = np.array([everywhere[h] == here[h] for h in sh.tolist()])
    called, declared = _calls(q, at)
    return bool(np.mean(~member & (declared | (alone & ~called))) > 0.5)


def _scopes(q: TokenStream, at: np.ndarray) -> np.ndarray:
    """The innermost function holding each query position (-1: outside functions)."""
    scope = np.full(len(at), -1, np.int64)
    units = q.units
    if len(units) == 0 or len(at) == 0:
        return scope
    near = units[(units[:, 1] > at.min()) & (units[:, 0] <= at.max())].tolist()
    for k, (a, b) in sorted(enumerate(near), key=lambda u: u[1][0] - u[1][1]):  # widest first
        scope[(at >= a) & (at < b)] = k
    return scope


def _members(s: TokenStream, at: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """Which source positions are member names, or keys kept (rule 2), by neighbours."""
    text = s.text_hash
    before = np.where(at > 0, text[np.maximum(at - 1, 0)], 0)
    after = np.where(at + 1 < len(text), text[np.minimum(at + 1, len(text) - 1)], 0)
    key = _among(before, _KEY_AFTER) & _among(after, _KEY_BEFORE) & ~changed
    return _among(before, _MEMBER_AFTER) | key


def _among(values: np.ndarray, few: np.ndarray) -> np.ndarray:
    """np.isin against a few constants, without its set-up."""
    return (values[:, None] == few).any(axis=1)


def _calls(q: TokenStream, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which query positions are names called (followed by `(`), and which of those are
    the name their function is declared with (its first called name) instead."""
    text = q.text_hash
    calls = np.zeros(len(text), bool)
    calls[:-1] = (q.kind[:-1] == IDENTIFIER) & (text[1:] == _OPEN)
    called = calls[at]
    declared = np.zeros(len(at), bool)
    for k in np.flatnonzero(called).tolist():
        unit = _unit(q, int(at[k]), int(at[k]) + 1)
        if unit is not None and calls[unit[0] : unit[1]].argmax() + unit[0] == at[k]:
            declared[k] = True
    return called & ~declared, declared
