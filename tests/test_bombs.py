"""Compression bombs are refused as they decompress, not after: tar (gz, bz2, xz, zstd),
zip, nested archives and compressed JSON Lines, through `index build/add`'s reader
(read_sources) and `scan`'s (read_inputs). Builders: bench/bombs.py."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import re
import sys
import tarfile
from pathlib import Path

import pytest
import zstandard

from attribution.index.ingest import IngestLimits, Skipped, SourceFile, read_sources
from attribution.index.ingest.bounded import (
    RATIO_FLOOR,
    ExpansionLimit,
    compression_of,
    open_decompressed,
)
from attribution.scan.inputs import Inputs, read_inputs
from attribution.scan.jsonl import read_outputs
from attribution.scan.records import Problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bombs

GB = 1 << 30
MB = 1 << 20
MOST_READ = 4 * MB  # what a refusal may have decompressed, at most
# Bytes each bomb expands to (under max_archive_bytes, so only the ratio can stop it),
# and the zeros compressed once and repeated to build it: ratios of 1:1000 to 1:100,000+.
SIZES = {"gz": 256 * MB, "bz2": 3 * GB, "xz": 1 * GB, "zst": 3 * GB}
CHUNKS = {"gz": MB, "bz2": 16 * MB, "xz": MB, "zst": 16 * MB}
RATIOS = {"gz": 500, "bz2": 100_000, "xz": 1000, "zst": 20_000}


def decompressed_before_refusal(detail: str) -> int:
    found = re.search(r"more than (\d+) bytes", detail)
    assert found, detail
    return int(found.group(1))


@pytest.mark.parametrize("kind", sorted(SIZES))
def test_tar_bombs_stop_at_the_ratio_limit(tmp_path: Path, kind: str) -> None:
    bomb = bombs.tar_bomb(tmp_path / f"b.tar.{kind}", kind, SIZES[kind], chunk=CHUNKS[kind])
    assert SIZES[kind] / bomb.stat().st_size > RATIOS[kind]
    items = list(read_sources(str(bomb)))
    assert not [i for i in items if isinstance(i, SourceFile)]
    [stop] = [i for i in items if isinstance(i, Skipped)]
    assert stop.reason == "limit" and "max_ratio=200" in stop.detail
    assert decompressed_before_refusal(stop.detail) <= MOST_READ


def test_scan_refuses_a_tar_bomb_too(tmp_path: Path) -> None:
    bomb = bombs.tar_bomb(tmp_path / "b.tar.bz2", "bz2", SIZES["bz2"], chunk=CHUNKS["bz2"])
    items = list(read_inputs(Inputs((str(bomb),))))
    assert [(p.reason, "max_ratio" in p.detail) for p in items] == [("limit", True)]


def test_zip_bomb_is_refused_from_its_headers_and_the_rest_is_read(tmp_path: Path) -> None:
    bomb = bombs.zip_bomb(tmp_path / "b.zip", 64 * MB)
    items = list(read_sources(str(bomb)))
    assert [i.path for i in items if isinstance(i, SourceFile)] == ["ok.py"]
    [stop] = [i for i in items if isinstance(i, Skipped)]
    assert stop.reason == "limit" and stop.path.endswith("big.py")


def test_a_bomb_inside_an_archive_is_never_opened(tmp_path: Path) -> None:
    inner = bombs.tar_bomb(tmp_path / "inner.tar.bz2", "bz2", SIZES["bz2"], chunk=CHUNKS["bz2"])
    nested = bombs.nested_bomb(tmp_path / "outer.zip", inner)
    items = list(read_sources(str(nested)))
    assert [i.path for i in items if isinstance(i, SourceFile)] == ["ok.py"]
    [skip] = [i for i in items if isinstance(i, Skipped)]
    assert skip.reason == "not_source" and "archive inside an archive" in skip.detail


@pytest.mark.parametrize("kind", ["gz", "bz2", "zst"])
def test_compressed_jsonl_table_bomb_keeps_its_good_rows(tmp_path: Path, kind: str) -> None:
    bomb = bombs.jsonl_bomb(tmp_path / "rows.jsonl.gz", kind, SIZES[kind], chunk=CHUNKS[kind])
    items = list(read_sources(str(bomb)))
    assert [i.path for i in items if isinstance(i, SourceFile)] == ["ok.py"]
    [stop] = [i for i in items if isinstance(i, Skipped)]
    assert stop.reason == "limit" and decompressed_before_refusal(stop.detail) <= MOST_READ


def test_compressed_jsonl_of_model_outputs_bomb(tmp_path: Path) -> None:
    bomb = bombs.jsonl_bomb(tmp_path / "out.jsonl.gz", "bz2", SIZES["bz2"], chunk=CHUNKS["bz2"])
    items = list(read_outputs(str(bomb)))
    assert not isinstance(items[0], Problem) and items[0].item_id == "1"
    problems = [i for i in items if isinstance(i, Problem)]
    assert [p.reason for p in problems] == ["limit"]
    assert decompressed_before_refusal(problems[0].detail) <= MOST_READ


def test_byte_budget_stops_a_stream_that_compresses_badly(tmp_path: Path) -> None:
    data = os.urandom(3 * MB)  # ratio about 1: only the budget can stop it
    path = tmp_path / "noise.gz"
    path.write_bytes(gzip.compress(data))
    with open_decompressed(str(path), budget=MB, ratio=200) as stream:
        with pytest.raises(ExpansionLimit, match="byte budget"):
            while stream.read(64 * 1024):
                pass
        assert stream.produced <= MB + 64 * 1024


FAST = {
    "gzip": lambda data: gzip.compress(data, 1),
    "bzip2": lambda data: bz2.compress(data, 1),
    "xz": lambda data: lzma.compress(data, preset=0),
    "zstd": lambda data: zstandard.ZstdCompressor(level=1).compress(data),
}


def test_honest_streams_read_in_full(tmp_path: Path) -> None:
    data = b"".join(b"line %d of a small file\n" % i for i in range(60_000))  # ratio < 200
    assert len(data) > RATIO_FLOOR
    for kind, compress in FAST.items():
        path = tmp_path / f"text.{kind}"
        path.write_bytes(compress(data))
        assert compression_of(path.read_bytes()[:8]) == kind
        with open_decompressed(str(path), budget=len(data), ratio=200) as stream:
            assert stream.read() == data


def test_a_member_declared_past_the_budget_is_refused_unread(tmp_path: Path) -> None:
    bomb = bombs.tar_bomb(tmp_path / "b.tar.zst", "zst", 5 * GB, chunk=CHUNKS["zst"])
    [stop] = list(read_sources(str(bomb)))
    assert isinstance(stop, Skipped) and stop.reason == "limit"
    assert "max_archive_bytes" in stop.detail


@pytest.mark.parametrize("kind", sorted(bombs.COMPRESS))
def test_every_tar_compression_reads_as_a_repository(tmp_path: Path, kind: str) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tf:
        for name, text in {
            "proj/a.py": b"def a():\n    return 1\n",
            "proj/LICENSE": b"MIT",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tf.addfile(info, io.BytesIO(text))
    archive = tmp_path / f"proj.tar.{kind}"
    archive.write_bytes(bombs.COMPRESS[kind](raw.getvalue()))
    files = [i for i in read_sources(str(archive)) if isinstance(i, SourceFile)]
    assert [(f.path, f.repo.name) for f in files] == [("a.py", "proj")]
    assert "LICENSE" in files[0].repo.metadata_files


def test_limits_still_apply_per_member(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tf:
        for i in range(5):
            text = b"def f%d():\n    return %d\n" % (i, i)
            info = tarfile.TarInfo(f"p/f{i}.py")
            info.size = len(text)
            tf.addfile(info, io.BytesIO(text))
    archive = tmp_path / "p.tar.gz"
    archive.write_bytes(raw.getvalue())
    items = list(read_sources(str(archive), IngestLimits(max_archive_members=2)))
    assert sum(isinstance(i, SourceFile) for i in items) == 2
    assert [i.reason for i in items if isinstance(i, Skipped)] == ["limit"]
