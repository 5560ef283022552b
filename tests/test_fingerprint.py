import numpy as np
import pytest

from attribution.core.fingerprint import fingerprints, kgram_hashes, winnow

rng = np.random.default_rng(7)


def tokens(n: int) -> np.ndarray:
    return rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)


def test_kgram_hash_depends_only_on_its_tokens():
    a = tokens(100)
    h = kgram_hashes(a, 12)
    assert h.shape == (89,)
    b = np.concatenate([tokens(30), a[40:60]])
    hb = kgram_hashes(b, 12)
    assert np.array_equal(hb[30:39], h[40:49])


def test_short_stream_has_no_kgrams():
    assert kgram_hashes(tokens(5), 12).size == 0
    assert fingerprints(tokens(5), 12, 12)[0].size == 0


@pytest.mark.parametrize("w", [1, 4, 12, 17])
def test_winnowing_keeps_a_fingerprint_in_every_window(w):
    h = kgram_hashes(tokens(500), 8)
    picks = set(winnow(h, w).tolist())
    for start in range(len(h) - w + 1):
        window = range(start, start + w)
        assert picks & set(window), f"window at {start} has no fingerprint"
        best = min(h[i] for i in window)
        assert any(h[i] == best for i in picks & set(window))


def test_winnowing_picks_rightmost_minimum_on_ties():
    h = np.array([5, 1, 3, 1, 4], dtype=np.uint32)
    assert winnow(h, 5).tolist() == [3]


def test_a_prefix_does_not_change_later_fingerprints():
    k, w = 12, 12
    body = tokens(400)
    prefix = tokens(57)
    plain = set(fingerprints(body, k, w)[0].tolist())
    hashes, pos = fingerprints(np.concatenate([prefix, body]), k, w)
    # windows that start after the prefix (and the k-grams that span it) see the same hashes
    later = {int(h) for h, p in zip(hashes, pos, strict=True) if p >= len(prefix) + w}
    assert later <= plain
    assert len(later) > 10


def test_shared_run_of_w_plus_k_minus_1_tokens_shares_a_fingerprint():
    k, w = 12, 12
    for _ in range(50):
        shared = tokens(w + k - 1)
        a = np.concatenate([tokens(40), shared, tokens(40)])
        b = np.concatenate([tokens(25), shared, tokens(60)])
        fa = set(fingerprints(a, k, w)[0].tolist())
        fb = set(fingerprints(b, k, w)[0].tolist())
        assert fa & fb


def test_kgram_hash_is_the_mixed_polynomial_hash_of_its_tokens():
    """Every stored fingerprint is this value: the hash read token by token, in Python
    integers modulo 2**64 (splitmix64's finaliser, then the high 32 bits)."""
    mask = (1 << 64) - 1

    def plain(gram: list[int]) -> int:
        acc = 0
        for t in gram:
            acc = (acc * 0x9E3779B97F4A7C15 + t) & mask
        x = (acc + len(gram)) & mask
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & mask
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & mask
        return (x ^ (x >> 31)) >> 32

    a = tokens(40)
    for k in (1, 6, 12):
        want = [plain(a[i : i + k].tolist()) for i in range(a.shape[0] - k + 1)]
        assert kgram_hashes(a, k).tolist() == want
        assert a.dtype == np.uint32 and kgram_hashes(a.astype(np.int64), k).tolist() == want
