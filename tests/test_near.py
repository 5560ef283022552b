"""The sketch search in parts (index/near.py): a segment's sketch table split across
threads gives the nearest rows one search gives, ties included."""

from __future__ import annotations

import argparse
import inspect
import json.decoder
import shlex
import textwrap
from pathlib import Path

import numpy as np
import pytest

from attribution.index import near
from attribution.index.build import build
from attribution.index.store import Index


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Modules with many functions, two of them in two copies: ties at every distance."""
    root = tmp_path_factory.mktemp("near")
    modules = (("ap", argparse), ("tw", textwrap), ("sh", shlex), ("js", json.decoder))
    for name, module in (*modules, ("tw2", textwrap), ("sh2", shlex)):
        (root / "src" / name).mkdir(parents=True)
        (root / "src" / name / f"{name}.py").write_text(inspect.getsource(module))
    build([str(root / "src")], root / "idx")
    return root / "idx"


def _queries(index: Index) -> np.ndarray:
    """Sketches of the index itself (exact and tied neighbours) and random ones."""
    own = np.concatenate([seg.sketch for seg in index.segments])
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (5, own.shape[1]), dtype=np.uint8)
    return np.concatenate([own[:: max(own.shape[0] // 20, 1)], noise])


@pytest.mark.parametrize("k", [1, 8, 40])
def test_a_table_searched_in_parts_gives_the_rows_of_one_search(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch, k: int
) -> None:
    with Index(index_dir) as whole:
        sketches = _queries(whole)
        want = whole.near_rows(sketches, k)
        assert all(len(t.parts) == 1 for t in whole._faiss.values())
    monkeypatch.setattr(near, "PART_ROWS", 7)
    monkeypatch.setattr(near.os, "cpu_count", lambda: 4)
    monkeypatch.setattr(near, "THREADS", 3)
    with Index(index_dir) as split:
        for beside in (False, True):
            got = split._near_rows(sketches, k, beside=beside)()
            assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        assert all(len(t.parts) == 3 for t in split._faiss.values())
        assert sum(t.parts[1][0] for t in split._faiss.values()) > 0


def test_the_look_up_round_finds_the_neighbours_near_finds(index_dir: Path) -> None:
    """gather and a shard's look-up round search beside the look-up: the same neighbours."""
    with Index(index_dir) as index:
        sketches = _queries(index)
        hashes = np.arange(10, dtype=np.uint32)
        _, rows, _ = index.look_up_round([("exact", hashes)], 200, sketches, 8, hashes)
        want = index.near_rows(sketches, 8)
        assert all(np.array_equal(a, b) for a, b in zip(rows, want, strict=True))
        _, got = index.gather([("exact", hashes)], 200, sketches, 8, hashes)
        want = index.near(sketches, 8)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
