"""What kind of copy a chain of aligned spans is: `exact`, `renamed` or `near` (SPEC).

The aligned spans say where the evidence is, not where the copy ends: trimming leaves
identical boilerplate out of spans, and a renamed name at a function's edge is left out of
them. So the copy is first extended over what lies between and around its spans:
- between two spans, the tokens skipped on each side are the same copy when they are as
  many and equal in the abstracted view (names and literals aside);
- at each end, up to the edge of the query's function (unit) that holds it: the tokens
  left out are the same copy when the source has as many there and they are equal in that
  view; when the source's function is known (an index stores no units) and one side
  reaches its function's edge while the other does not, a statement was added or removed
  there. Nothing is judged at the ends of a fragment of a body or of code outside
  functions.
Then over the extended copy: `near` when any part is not the same copy; `exact` when every
token is identical; `renamed` when the names that differ follow one consistent renaming
(each name of the query stands for one name of the source and back; changed literals are
allowed), else `near` (a name changed in one statement but kept in others is an edit).
Member names (after `.`, `->`, `::`) and keys (`f(key=...)`, `{key: ...}`) are a namespace
of their own: renaming a variable `path` leaves `self.path` and `f(path=path)`'s key alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from attribution.core.languages import IDENTIFIER
from attribution.core.tokenize import TokenStream, token_hash

EXACT, RENAMED, NEAR = "exact", "renamed", "near"
_MEMBER_AFTER = np.array([token_hash(t) for t in (b".", b"->", b"::", b"?.")], np.uint32)
_KEY_AFTER = np.array([token_hash(t) for t in (b"(", b",", b"{")], np.uint32)
_KEY_BEFORE = np.array([token_hash(t) for t in (b"=", b":")], np.uint32)


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
    parts = _extended(q, s, chain)
    if parts is None:
        return NEAR
    qi = np.concatenate([np.arange(a, b) for a, b, _, _ in parts])
    si = np.concatenate([np.arange(a, b) for _, _, a, b in parts])
    same = q.text_hash[qi] == s.text_hash[si]
    if bool(same.all()):
        return EXACT
    return RENAMED if _consistent(q, s, qi, si) else NEAR


def _extended(
    q: TokenStream, s: TokenStream, chain: Sequence[Aligned]
) -> list[tuple[int, int, int, int]] | None:
    """The chain with its gaps and ends filled where both sides hold the same structure;
    None when a gap or an end shows an edit."""
    parts = [(chain[0].qa, chain[0].qb, chain[0].sa, chain[0].sb)]
    for sp in chain[1:]:
        _, qb, _, sb = parts[-1]
        if not _same_structure(q, s, qb, sp.qa, sb, sp.sa):
            return None
        parts.append((qb, sp.qb, sb, sp.sb))
    qa, sa = parts[0][0], parts[0][2]
    qb, sb = parts[-1][1], parts[-1][3]
    uq = _unit(q, qa, qb)
    if uq is None:
        return parts
    us = _unit(s, sa, sb) or (sa - (qa - uq[0]), sb + (uq[1] - qb))  # stored: no units
    lead, tail = (uq[0], qa, us[0], sa), (qb, uq[1], sb, us[1])
    for a, b, c, d in (lead, tail):
        if (a == b) != (c == d):
            return None  # one side reaches its function's edge, the other does not
        if c < 0 or d > len(s) or not _same_structure(q, s, a, b, c, d):
            return None
    return [lead, *parts, tail]


def _same_structure(q: TokenStream, s: TokenStream, qa: int, qb: int, sa: int, sb: int) -> bool:
    """Query [qa, qb) and source [sa, sb) are as long and each token is equal, or equal in
    the abstracted view (a snippet parsed alone may class a token otherwise)."""
    if qb - qa != sb - sa or qb < qa:
        return False
    same = q.text_hash[qa:qb] == s.text_hash[sa:sb]
    return bool(np.all(same | (q.abstract[qa:qb] == s.abstract[sa:sb])))


def _unit(stream: TokenStream, a: int, b: int) -> tuple[int, int] | None:
    """The innermost function (unit) holding tokens [a, b), or None."""
    units = stream.units
    if len(units) == 0:
        return None
    inside = units[(units[:, 0] <= a) & (units[:, 1] >= b)]
    if len(inside) == 0:
        return None
    narrowest = inside[np.argmin(inside[:, 1] - inside[:, 0])]
    return int(narrowest[0]), int(narrowest[1])


def _consistent(q: TokenStream, s: TokenStream, qi: np.ndarray, si: np.ndarray) -> bool:
    """The identifiers follow one renaming over the copy, member names and keys apart
    from other names: each query name stands for one source name, and a source name that
    two query names stand for keeps its own name in some places and a new name, used more
    than once, in others (a variable renamed where its namesake attribute was not)."""
    names = q.kind[qi] == IDENTIFIER
    qn, sn = qi[names], si[names]
    member = _members(s, sn)
    for role in (member, ~member):
        qs, ss = q.text_hash[qn[role]].tolist(), s.text_hash[sn[role]].tolist()
        pairs = Counter(zip(qs, ss, strict=True))
        if not _one_renaming(pairs):
            return False
    return True


def _one_renaming(pairs: Counter[tuple[int, int]]) -> bool:
    targets: dict[int, int] = {}
    sources: dict[int, list[tuple[int, int]]] = {}
    for (a, b), n in pairs.items():
        if targets.setdefault(a, b) != b:
            return False  # one query name for two source names
        sources.setdefault(b, []).append((a, n))
    for b, names in sources.items():
        if len(names) == 1:
            continue
        new = [(a, n) for a, n in names if a != b]
        if len(new) > 1 or len(new) == len(names) or new[0][1] < 2:
            return False  # a name changed in one place only: an edit, not a renaming
    return True


def _members(stream: TokenStream, at: np.ndarray) -> np.ndarray:
    """Which tokens at these positions are member names or keys (by their neighbours)."""
    text = stream.text_hash
    before = np.where(at > 0, text[np.maximum(at - 1, 0)], 0)
    after = np.where(at + 1 < len(text), text[np.minimum(at + 1, len(text) - 1)], 0)
    key = np.isin(before, _KEY_AFTER) & np.isin(after, _KEY_BEFORE)
    return np.isin(before, _MEMBER_AFTER) | key
