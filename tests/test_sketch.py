import numpy as np
from datasketch import MinHash

from attribution.core import sketch

rng = np.random.default_rng(11)


def test_minhash_equals_datasketch():
    values = np.unique(rng.integers(0, 2**32, 300, dtype=np.uint64)).astype(np.uint32)
    ours = sketch.minhash(values, 128)
    ref = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=lambda x: x)
    ref.update_batch(values.tolist())
    assert np.array_equal(ours, np.asarray(ref.hashvalues, dtype=np.uint32))


def test_permutations_are_datasketchs():
    a, b = sketch.permutations(64)
    ref = MinHash(num_perm=64, seed=1, scheme="affine32")
    assert np.array_equal(a, ref.permutations[0]) and np.array_equal(b, ref.permutations[1])


def test_one_bit_estimate_is_close_to_exact_jaccard():
    errors = []
    for j_target in (0.2, 0.5, 0.8):
        common = rng.integers(0, 2**32, int(1000 * j_target), dtype=np.uint64)
        a = np.unique(np.concatenate([common, rng.integers(0, 2**32, 500, dtype=np.uint64)]))
        b = np.unique(np.concatenate([common, rng.integers(0, 2**32, 500, dtype=np.uint64)]))
        exact = len(np.intersect1d(a, b)) / len(np.union1d(a, b))
        sa = sketch.pack_bits(sketch.minhash(a.astype(np.uint32), 1024))
        sb = sketch.pack_bits(sketch.minhash(b.astype(np.uint32), 1024))
        hamming = int(np.unpackbits(sa ^ sb).sum())
        errors.append(abs(float(sketch.estimate_jaccard(hamming, 1024)) - exact))
    assert max(errors) < 0.1


def test_unit_sketches_skip_short_units():
    toks = rng.integers(0, 2**32, 200, dtype=np.uint64).astype(np.uint32)
    units = np.array([[0, 10], [10, 200]], dtype=np.int32)
    sk, kept = sketch.unit_sketches(toks, units, 4, 256, 40)
    assert sk.shape == (1, 32)
    assert kept.tolist() == [[10, 200]]
