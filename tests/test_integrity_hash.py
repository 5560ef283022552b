"""Checksums are named by their algorithm: new segments write xxh3_128 (checked) and
BLAKE2b (for older readers), segments written with BLAKE2b alone still open and verify,
and flipped bytes in meta.sqlite are caught at open under either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_faults import faults

from attribution.index import integrity
from attribution.index.format import IndexFormatError, read_manifest
from attribution.index.store import Index
from attribution.index.verify import verify


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return faults.make_index(tmp_path, faults.write_sources(tmp_path)["src"])


def _segment(index: Path) -> Path:
    return index / "segments" / read_manifest(index)["segments"][0]


def _as_blake2b(seg: Path) -> None:
    """Rewrite the segment's table as the code before xxh3 wrote it."""
    info = json.loads((seg / "SEGMENT.json").read_text())
    info["files"] = {
        name: {"size": e["size"], "blake2b": integrity.file_hash(seg / name, "blake2b")}
        for name, e in info["files"].items()
    }
    info["checksum"] = integrity.info_checksum(info)
    (seg / "SEGMENT.json").write_text(json.dumps(info))


def _flip_meta(seg: Path) -> None:
    data = bytearray((seg / "meta.sqlite").read_bytes())
    data[len(data) // 2] ^= 0x01  # a page's content: the header and size stay right
    (seg / "meta.sqlite").write_bytes(bytes(data))


def test_new_segments_record_both_checksums_and_xxh3_is_checked(index: Path) -> None:
    seg = _segment(index)
    files = json.loads((seg / "SEGMENT.json").read_text())["files"]
    assert files and all(set(e) == {"size", "xxh3_128", "blake2b"} for e in files.values())
    assert verify(index, deep=True).sound
    assert integrity.recorded(files["meta.sqlite"]) == (
        "xxh3_128",
        files["meta.sqlite"]["xxh3_128"],
    )


@pytest.mark.parametrize("algorithm", ["xxh3_128", "blake2b"])
def test_flipped_bytes_in_meta_sqlite_are_caught_at_open(index: Path, algorithm: str) -> None:
    seg = _segment(index)
    if algorithm == "blake2b":
        _as_blake2b(seg)
        Index(index).close()  # an index written before xxh3 opens as before
        assert verify(index, deep=True).sound
    _flip_meta(seg)
    with pytest.raises(IndexFormatError, match=r"meta\.sqlite: its checksum differs"):
        Index(index)
    problems = verify(index, deep=True).problems
    assert len(problems) == 1 and "meta.sqlite: its checksum differs" in problems[0]


def test_a_table_without_a_known_checksum_is_named(index: Path) -> None:
    seg = _segment(index)
    info = json.loads((seg / "SEGMENT.json").read_text())
    info["files"]["tokens.bin"] = {"size": info["files"]["tokens.bin"]["size"], "md5": "00"}
    problems = integrity.verify_files(seg, info)
    assert problems == [f"{seg / 'tokens.bin'}: no checksum of a known kind recorded "
                        "(('xxh3_128', 'blake2b'))"]  # fmt: skip
