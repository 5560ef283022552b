"""MinHash sketches of functions for near-copy candidates, stored as 1-bit signatures.

The permutations are datasketch's (scheme "affine32"): a shingle hash h becomes
fmix32(h) * a + b mod 2^32 for each permutation (a, b), and the sketch keeps the minimum.
The values equal datasketch's `MinHash.update_batch` with an identity hash function
(tested); computing them here in one numpy expression per function is what makes
sketching a whole corpus affordable. Only the lowest bit of each minimum is stored
(b-bit minwise hashing, b = 1): two sketches agree on a bit with probability
(1 + J) / 2, so the Hamming distance of the packed bits estimates the Jaccard index J.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from attribution.core.arrays import distinct
from attribution.core.fingerprint import kgram_hashes

_SEED = 1


@cache
def permutations(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for num_perm permutations.

    Drawn exactly as datasketch.MinHash(num_perm, seed=1, scheme="affine32") draws them
    (a test checks this), without importing datasketch on the query path."""
    gen = np.random.RandomState(_SEED)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingles(abstract_tokens: np.ndarray, size: int) -> np.ndarray:
    """The set of shingle hashes (k-grams of the abstracted view) of a token range."""
    return distinct(kgram_hashes(abstract_tokens, size))


def minhash(shingle_set: np.ndarray, num_perm: int) -> np.ndarray:
    """The MinHash signature (uint32, num_perm values) of a set of 32-bit hashes."""
    a, b = permutations(num_perm)
    if shingle_set.shape[0] == 0:
        return np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    with np.errstate(over="ignore"):
        hv = _fmix32(shingle_set.astype(np.uint32))[:, None]
        return (hv * a[None, :] + b[None, :]).min(axis=0).astype(np.uint32)


def pack_bits(signature: np.ndarray) -> np.ndarray:
    """The 1-bit sketch: lowest bit of each MinHash value, packed into bytes."""
    return np.packbits((signature & 1).astype(np.uint8))


def estimate_jaccard(hamming: np.ndarray | int, bits: int) -> np.ndarray:
    """Jaccard estimate from the Hamming distance of two 1-bit sketches."""
    agree = 1.0 - np.asarray(hamming, dtype=np.float64) / bits
    return np.clip(2.0 * agree - 1.0, 0.0, 1.0)


def unit_sketches(
    abstract_tokens: np.ndarray, units: np.ndarray, shingle: int, num_perm: int, min_tokens: int
) -> tuple[np.ndarray, np.ndarray]:
    """Packed sketches of the units (token ranges) long enough to sketch.

    Returns (sketches uint8 (m, num_perm / 8), ranges int32 (m, 2)).
    """
    keep = units[(units[:, 1] - units[:, 0]) >= max(min_tokens, shingle)] if len(units) else units
    out = np.zeros((len(keep), num_perm // 8), dtype=np.uint8)
    for i, (a, b) in enumerate(keep.tolist()):
        out[i] = pack_bits(minhash(shingles(abstract_tokens[a:b], shingle), num_perm))
    return out, keep.astype(np.int32).reshape(-1, 2)
