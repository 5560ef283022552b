"""Winnowed k-gram fingerprints over token hashes (Schleimer, Wilkerson and Aiken, 2003).

A k-gram hash depends only on its k tokens, and winnowing picks, in every window of
`w` consecutive k-gram hashes, the minimum (the rightmost on ties). Both are local, so a
prefix added to a text does not change the fingerprints of windows after it, and any
run of at least w + k - 1 tokens shared by two texts shares at least one fingerprint.
"""

from __future__ import annotations

import numpy as np

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial hash
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads the bits of a polynomial hash."""
    x ^= x >> np.uint64(30)  # in place: callers hand over arrays of their own
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def kgram_hashes(tokens: np.ndarray, k: int) -> np.ndarray:
    """32-bit hash of every k-gram of a token-hash array (len(tokens) - k + 1 values)."""
    n = int(tokens.shape[0]) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32)
    t = tokens.astype(np.uint64)
    acc = t[:n].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):  # in place: a source of 100,000 tokens is 800 kB a pass
            acc *= _BASE
            acc += t[j : j + n]
        acc += np.uint64(k)
        acc = _mix(acc)
    return (acc >> np.uint64(32)).astype(np.uint32)


def winnow(hashes: np.ndarray, w: int) -> np.ndarray:
    """Positions selected by robust winnowing: the rightmost minimum of every window of w."""
    n = int(hashes.shape[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n <= w:
        rev = hashes[::-1]
        return np.array([n - 1 - int(np.argmin(rev))], dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, w)
    # argmin returns the first minimum; on the reversed window that is the rightmost one
    rightmost = (w - 1) - np.argmin(windows[:, ::-1], axis=1)
    picks = np.arange(n - w + 1) + rightmost
    keep = np.empty(picks.shape[0], dtype=bool)
    keep[0] = True
    keep[1:] = picks[1:] != picks[:-1]
    return picks[keep].astype(np.int64)


def fingerprints(tokens: np.ndarray, k: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Winnowed fingerprints of a token-hash array: (hashes, k-gram start positions)."""
    hashes = kgram_hashes(tokens, k)
    pos = winnow(hashes, w)
    return hashes[pos], pos
