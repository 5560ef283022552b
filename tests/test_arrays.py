"""arrays.distinct is np.unique for the engine's integer arrays."""

from __future__ import annotations

import numpy as np
import pytest

from attribution.core.arrays import distinct


@pytest.mark.parametrize("dtype", [np.uint32, np.int64, np.uint64, np.int32])
def test_distinct_values_are_those_of_np_unique(dtype: type) -> None:
    rng = np.random.default_rng(21)
    for n in (0, 1, 2, 7, 300, 5000):
        for high in (3, 1 << 31):
            values = rng.integers(0, high, n).astype(dtype)
            got, want = distinct(values), np.unique(values)
            assert got.dtype == want.dtype and got.tolist() == want.tolist()
