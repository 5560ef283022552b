"""The external-memory segment writer: spilling to disk changes no byte of a segment."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from attribution.core.config import Config
from attribution.index import build as build_module
from attribution.index import spill
from attribution.index.build import Builder, build, read_all
from attribution.index.format import read_manifest
from attribution.index.ingest import IngestLimits
from attribution.index.maintain import merge
from attribution.index.optout import OptOut
from attribution.index.segment import SPILL_DIR, NameCounts, SegmentWriter

MODULES = ("textwrap", "shlex", "json.decoder", "argparse", "csv", "difflib", "string")


def module_text(name: str) -> str:
    __import__(name)
    return inspect.getsource(sys.modules[name])


@pytest.fixture
def corpus(tmp_path: Path) -> list[str]:
    """Repositories with shared files, one more, and the first given again (its sources
    come twice: the last occurrence of a repo+path wins)."""
    specs = []
    for i, name in enumerate(MODULES):
        repo = tmp_path / "corpus" / f"repo{i}"
        (repo / "src").mkdir(parents=True)
        (repo / "src" / f"{name}.py").write_text(module_text(name))
        (repo / "src" / "common.py").write_text(module_text(MODULES[i % 3]))
        (repo / "AUTHORS").write_text(f"Ada Lovelace <ada{i % 2}@example.org>\n")
        specs.append(str(repo))
    again = tmp_path / "again" / "repo0" / "src"
    again.mkdir(parents=True)
    (again / "common.py").write_text(module_text("difflib"))
    return [*specs, str(again.parent), specs[0]]


def write_segment(path: Path, specs: list[str], spill_bytes: int) -> SegmentWriter:
    cfg = Config()
    writer = SegmentWriter(path, cfg.sketch_perm // 8, spill_bytes=spill_bytes)
    Builder(writer, cfg, 1, OptOut()).run(read_all(specs, IngestLimits()))
    writer.finish()
    return writer


def segment_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_a_spilled_segment_is_byte_identical(
    tmp_path: Path, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = write_segment(tmp_path / "big", corpus, spill_bytes=1 << 40)
    monkeypatch.setattr(spill.BlobMap, "FOLD", 2)
    monkeypatch.setattr(spill, "ROWS_BATCH", 3)
    spilled = write_segment(tmp_path / "tiny", corpus, spill_bytes=64)
    assert not (spilled.path / SPILL_DIR).exists()
    big, tiny = segment_bytes(in_memory.path), segment_bytes(spilled.path)
    assert sorted(big) == sorted(tiny)
    assert [n for n in big if big[n] != tiny[n]] == []
    assert spilled.blob_count == len(MODULES)  # the common files are copies of modules
    info = json.loads(tiny["SEGMENT.json"])
    assert (info["sources"], info["repos"]) == (2 * len(MODULES) + 1, len(MODULES) + 1)
    fp = np.load(spilled.path / "fp_exact_hash.npy")
    assert fp.shape[0] > 1000 and bool(np.all(fp[1:] >= fp[:-1]))


def test_a_merge_with_spilling_is_byte_identical(
    tmp_path: Path, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def merged(root: Path) -> dict[str, bytes]:
        build(corpus[:4], root, jobs=1)
        build(corpus[4:], root, jobs=1, replace=False)
        merge(root)
        (name,) = read_manifest(root)["segments"]
        return segment_bytes(root / "segments" / name)

    in_memory = merged(tmp_path / "big")
    monkeypatch.setattr(spill, "SPILL_BYTES", 64)
    monkeypatch.setattr(spill.BlobMap, "FOLD", 2)
    spilled = merged(tmp_path / "tiny")
    assert [n for n in in_memory if in_memory[n] != spilled.get(n)] == []


def test_the_blob_map_finds_every_id_and_orders_them() -> None:
    rng = np.random.default_rng(7)
    ids = [bytes(rng.integers(0, 256, 20, dtype=np.uint8)).hex() for _ in range(500)]
    blobs = spill.BlobMap()
    blobs.FOLD = 37
    assert [blobs.add(i) for i in ids] == list(range(500))
    assert all(blobs.get(i) == n for n, i in enumerate(ids))
    assert blobs.get("f" * 40) is None and blobs.get("x" * 80) is None
    assert [ids[i] for i in blobs.order()] == sorted(ids)


def test_name_counts_fold_as_they_go() -> None:
    rng = np.random.default_rng(3)
    blobs = [
        np.unique(rng.integers(0, 300, rng.integers(0, 40))).astype(np.uint32) for _ in range(400)
    ]
    names = NameCounts()
    names.COMPACT = 50
    for b in blobs:
        names.add(b)
    hashes, counts = names.table()
    want = np.unique(np.concatenate(blobs), return_counts=True)
    assert np.array_equal(hashes, want[0]) and np.array_equal(counts, want[1])
    assert hashes.dtype == counts.dtype == np.uint32


def test_dropping_repository_contexts_changes_nothing(
    tmp_path: Path, corpus: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = write_segment(tmp_path / "kept", corpus, spill_bytes=1 << 40)
    monkeypatch.setattr(build_module, "CONTEXT_FILES", 2)  # fresh contexts every 2 files
    dropped = write_segment(tmp_path / "dropped", corpus, spill_bytes=1 << 40)
    assert segment_bytes(kept.path) == segment_bytes(dropped.path)
