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
