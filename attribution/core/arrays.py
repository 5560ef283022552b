"""Array helpers the query and the build share."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique of a 1-d integer array (its distinct values, sorted), found by sorting:
    numpy 2.3+ finds them with a hash table, which on this engine's hashes and keys is
    20-50 times slower (20,000 values: 2.5-3.8 ms against 0.07-0.14 ms to sort)."""
    ordered = np.sort(values)
    first = np.ones(ordered.shape[0], dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]
