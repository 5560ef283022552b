"""The query tail (issue 14): postings of k-grams over max_df blobs are left out without
changing an answer, and a fanned index asks its shards in rounds, not item by item."""

from __future__ import annotations

import shutil
from collections import Counter
from typing import Any

import numpy as np
import pytest
from test_shards import CORPUS, answers, corpus_slice, windows

from attribution.core import score
from attribution.index.build import build
from attribution.index.fanout import FannedIndex
from attribution.index.maintain import remove
from attribution.index.store import Index

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"shared corpus not found at {CORPUS}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("tail")
    a, _, rows = corpus_slice(work)
    half = rows[: len(rows) // 2]
    build([str(a)], work / "plain", jobs=2)
    build([str(a)], work / "four", jobs=2, shards=4)
    shutil.copytree(work / "plain", work / "removed")
    repos = Counter(r["repo_name"] for r in half)
    remove(work / "removed", [("repo", name) for name, _ in repos.most_common(3)])
    return {"work": work, "rows": half}


class Plain:
    """An index seen through the plain IndexView only: no Batched hooks."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.config = index.config

    def __getattr__(self, name: str) -> Any:
        if name in ("lookup", "near", "tokens", "name_df", "sources", "content"):
            return getattr(self.index, name)
        raise AttributeError(name)


def _hashes(index: Index) -> np.ndarray:
    """Query k-grams of both kinds: indexed ones (some common) and unknown ones."""
    table = index.segments[0].fp_hash["abstract"]
    rng = np.random.default_rng(5)
    picked = table[rng.integers(0, table.shape[0], 400)]
    common, counts = np.unique(table, return_counts=True)
    frequent = common[np.argsort(-counts)[:20]]
    unknown = rng.integers(0, 1 << 32, 50, dtype=np.uint64).astype(np.uint32)
    return np.concatenate([picked, frequent, unknown]).astype(table.dtype)


@pytest.mark.parametrize("name", ["plain", "removed"])
def test_capped_postings_are_every_posting_the_search_weighs(
    built: dict[str, Any], name: str
) -> None:
    with Index(built["work"] / name) as index:
        hashes = _hashes(index)
        q_all, b_all, df_all = index.postings("abstract", hashes)
        assert df_all.max() > 3 and (df_all == 0).any()  # common and unknown k-grams
        if name == "removed":
            assert any(d.any() for d in index.dead)
        for max_df in (1, 3, 1000):
            q, b, df, live = index.capped("abstract", hashes, max_df)
            assert np.array_equal(df, df_all)
            assert np.array_equal(live, np.bincount(q_all, minlength=hashes.shape[0]) > 0)
            wanted = df_all[q_all] <= max_df
            assert sorted(zip(q.tolist(), b.tolist(), strict=True)) == sorted(
                zip(q_all[wanted].tolist(), b_all[wanted].tolist(), strict=True)
            )
        if name == "removed":  # some k-grams only removed blobs hold: counted, not live
            assert ((df_all > 0) & ~live).any()


@pytest.mark.parametrize("max_df", [None, 2])
def test_answers_are_identical_with_and_without_the_capped_look_up(
    built: dict[str, Any], max_df: int | None
) -> None:
    queries = windows(built["rows"], 30, seed=11)
    for name in ("plain", "removed"):
        with Index(built["work"] / name, max_df=max_df) as index:
            expected = answers(Plain(index), queries)
            assert answers(index, queries) == expected
        if name == "plain":
            assert sum('"verdict": "match"' in a for a in expected) >= 15  # it has teeth


def test_a_fanned_index_asks_its_shards_in_rounds(built: dict[str, Any]) -> None:
    four = built["work"] / "four"
    shards = [Index(four, shard=s) for s in range(4)]
    calls: Counter[str] = Counter()

    class Now:
        def __init__(self, value: Any) -> None:
            self.value = value

        def result(self) -> Any:
            return self.value

    def call(shard: int, method: str, *args: Any) -> Now:
        calls[method] += 1
        return Now(getattr(shards[shard], method)(*args))

    queries = windows(built["rows"], 20, seed=13)
    with Index(four) as index:
        expected = answers(index, queries)
    fanned = FannedIndex(four, call)
    assert answers(fanned, queries) == expected
    matched = sum('"verdict": "match"' in a for a in expected)
    assert matched >= 10
    # one round of 4 calls per query looked up (a query too short is not) for both views'
    # postings, sketches and names
    rounds = calls["look_up_round"]
    assert rounds % 4 == 0 and 4 * matched <= rounds <= 4 * len(queries)
    assert not {"postings", "near_rows", "name_df", "tokens", "sources"} & set(calls)
    # candidates' tokens and found blobs' sources: at most a call per shard per query each
    assert 0 < calls["tokens_many"] <= 4 * len(queries)
    assert 0 < calls["sources_many"] <= 4 * matched


def _renamed_weights_by_counting(q_names: np.ndarray, s_names: np.ndarray) -> np.ndarray:
    """The former implementation (Counters), the oracle of the vectorised one."""
    pairs = list(zip(q_names.tolist(), s_names.tolist(), strict=True))
    forward: dict[int, Counter[int]] = {}
    backward: dict[int, Counter[int]] = {}
    for a, b in pairs:
        forward.setdefault(a, Counter())[b] += 1
        backward.setdefault(b, Counter())[a] += 1
    best_f = {a: c.most_common(1)[0][0] for a, c in forward.items()}
    best_b = {b: c.most_common(1)[0][0] for b, c in backward.items()}
    uses = {a: sum(c.values()) for a, c in forward.items()}
    weights = [
        (score.RENAMED_WEIGHT if uses[a] > 1 else score.SINGLE_WEIGHT)
        if best_f[a] == b and best_b[b] == a
        else score.INCONSISTENT_WEIGHT
        for a, b in pairs
    ]
    return np.array(weights, dtype=np.float64)


def test_renamed_weights_are_those_of_counting_pairs_ties_included() -> None:
    rng = np.random.default_rng(3)
    for trial in range(300):
        n = int(rng.integers(0, 60))
        names = int(rng.integers(1, 8))  # few names: many ties and inconsistent mappings
        hashes = rng.integers(0, 1 << 32, 2 * names, dtype=np.uint64).astype(np.uint32)
        q = hashes[rng.integers(0, names, n)]
        s = hashes[names + rng.integers(0, names, n)] if trial % 3 else q[::-1].copy()
        got = score.renamed_weights(q, s)
        assert np.array_equal(got, _renamed_weights_by_counting(q, s)), (q, s)
