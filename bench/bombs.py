"""Compression bombs against ingestion and scan: bytes decompressed before each refusal.

Usage: python bench/bombs.py [--expanded-gb 16] [--json bench/results/bombs.json]

Builds each bomb in a temporary folder (never extracted, nothing downloaded), reads it
the way `index build/add` (read_sources) or `scan` (read_inputs) would, and reports for
each: its size on disk, how many bytes it would expand to, the bytes that were
decompressed and the compressed bytes read before the refusal, the wall time, and the
skip reason and detail. Bombs are made of concatenated compressed streams (every format
here reads a concatenation as one stream), so a 16 GB bomb is built in a second.
The builders are also used by tests/test_bombs.py, with smaller sizes.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import os
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import zstandard

CHUNK = 16 * 1024 * 1024  # zeros compressed once, then repeated
REFUSALS = ("limit", "not_source")  # a bomb stopped, or a nested archive left closed
BLANK = b" " * 1023 + b"\n"
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gz": lambda data: gzip.compress(data, 9, mtime=0),
    "bz2": lambda data: bz2.compress(data, 9),
    "xz": lambda data: lzma.compress(data, preset=9),
    "zst": lambda data: zstandard.ZstdCompressor(level=19).compress(data),
}


def _repeated(kind: str, total: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """Compressed streams whose concatenation decompresses to `total` zero bytes."""
    whole, rest = divmod(total, chunk)
    block = COMPRESS[kind](bytes(chunk))
    for _ in range(whole):
        yield block
    if rest:
        yield COMPRESS[kind](bytes(rest))


def tar_bomb(
    path: Path, kind: str, expanded: int, name: str = "pkg/big.py", chunk: int = CHUNK
) -> Path:
    """A compressed tar with one member of `expanded` zero bytes, then a small source."""
    info = tarfile.TarInfo(name)
    info.size = expanded
    head = info.tobuf(format=tarfile.PAX_FORMAT)
    tail = bytes(-expanded % 512)
    small = io.BytesIO()
    with tarfile.open(fileobj=small, mode="w", format=tarfile.PAX_FORMAT) as tf:
        ok = b"def ok():\n    return 1\n"
        extra = tarfile.TarInfo("pkg/ok.py")
        extra.size = len(ok)
        tf.addfile(extra, io.BytesIO(ok))
    compress = COMPRESS[kind]
    with open(path, "wb") as out:
        out.write(compress(head))
        for block in _repeated(kind, expanded, chunk):
            out.write(block)
        out.write(compress(tail + small.getvalue()))
    return path


def zip_bomb(path: Path, expanded: int) -> Path:
    """A zip with one deflated member of `expanded` zero bytes (headers tell the truth)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, body = 0, bytearray()
    block = bytes(min(CHUNK, expanded))
    left = expanded
    while left:
        part = block[: min(left, len(block))]
        crc = zlib.crc32(part, crc)
        body += deflate.compress(part)
        left -= len(part)
    body += deflate.flush()
    info = zipfile.ZipInfo("pkg/big.py", date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("pkg/ok.py", "def ok():\n    return 1\n")
        _raw_member(zf, info, bytes(body), crc, expanded)
    return path


def _raw_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, body: bytes, crc: int, n: int) -> None:
    """Write an already-deflated member (zipfile would otherwise deflate it again)."""
    info.CRC, info.compress_size, info.file_size = crc, len(body), n
    info.header_offset = zf.fp.tell()  # type: ignore[union-attr]
    zf.fp.write(info.FileHeader(zip64=n > 0xFFFFFFFF))  # type: ignore[union-attr]
    zf.fp.write(body)  # type: ignore[union-attr]
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info
    zf.start_dir = zf.fp.tell()  # type: ignore[union-attr]


def nested_bomb(path: Path, inner: Path) -> Path:
    """A zip holding another bomb as a member (stored, so the zip itself is honest)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.write(inner, f"pkg/{inner.name}")
        zf.writestr("pkg/ok.py", "def ok():\n    return 1\n")
    return path


def jsonl_bomb(path: Path, kind: str, expanded: int, chunk: int = CHUNK) -> Path:
    """A compressed JSON Lines file: one good line, then about `expanded` bytes of blank
    lines (and zeros for the remainder)."""
    line = json.dumps(
        {
            "id": 1,
            "code": "def ok():\n    return 1\n",
            "repo_name": "r",
            "path": "ok.py",
            "content": "def ok():\n    return 1\n",
        }
    )
    compress = COMPRESS[kind]
    whole, rest = divmod(expanded, chunk)
    block = compress(BLANK * (chunk // len(BLANK)))
    with open(path, "wb") as out:
        out.write(compress(line.encode() + b"\n"))
        for _ in range(whole):
            out.write(block)
        if rest:
            out.write(compress(bytes(rest)))
    return path


def build_all(folder: Path, expanded: int) -> dict[str, tuple[Path, str, int]]:
    """Every bomb: name -> (path, "build" or "scan": the reader that takes it, the bytes
    it would expand to)."""
    gz_size = min(expanded, 1 << 30)  # gzip and deflate expand 1:1000 at most
    bombs: dict[str, tuple[Path, str, int]] = {}
    for kind in ("gz", "bz2", "xz", "zst"):
        size = gz_size if kind == "gz" else expanded
        path = tar_bomb(folder / f"t-{kind}.tar.{kind}", kind, size)
        bombs[f"tar.{kind}"] = (path, "build", size)
    bombs["tar.bz2 (scan)"] = (bombs["tar.bz2"][0], "scan", expanded)
    bombs["zip"] = (zip_bomb(folder / "z.zip", gz_size), "build", gz_size)
    nested = nested_bomb(folder / "nested.zip", bombs["tar.bz2"][0])
    bombs["zip holding a tar.bz2 bomb"] = (nested, "build", expanded)
    for kind in ("gz", "bz2", "xz", "zst"):
        size = gz_size if kind == "gz" else expanded
        path = jsonl_bomb(folder / f"rows-{kind}.jsonl.gz", kind, size)
        bombs[f"jsonl, {kind} data (table)"] = (path, "build", size)
    bombs["jsonl, bz2 data (scan)"] = (bombs["jsonl, bz2 data (table)"][0], "scan", expanded)
    return bombs


@contextmanager
def watched() -> Iterator[list[Any]]:
    """Every bounded stream opened meanwhile, to read its counters afterwards."""
    from attribution.index.ingest import bounded

    opened: list[Any] = []
    original = bounded.Bounded.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    bounded.Bounded.__init__ = init  # type: ignore[method-assign]
    try:
        yield opened
    finally:
        bounded.Bounded.__init__ = original  # type: ignore[method-assign]


def read_bomb(path: Path, via: str) -> dict[str, Any]:
    """Read one bomb as build or scan would; what was read and why it stopped."""
    from attribution.index.ingest import read_sources
    from attribution.scan.inputs import Inputs, read_inputs

    start = time.perf_counter()
    with watched() as streams:
        if via == "scan":
            items: list[Any] = list(read_inputs(Inputs((str(path),))))
        else:
            items = list(read_sources(str(path)))
    stops = [(i.reason, i.detail) for i in items if getattr(i, "reason", "") in REFUSALS]
    kept = [i for i in items if not hasattr(i, "detail")]
    seconds = time.perf_counter() - start
    return {
        "on_disk_bytes": path.stat().st_size,
        "decompressed_bytes": max((s.produced for s in streams), default=0),
        "compressed_bytes_read": max((s.consumed for s in streams), default=0),
        "seconds": round(seconds, 3),
        "refused": bool(stops),
        "reason": stops[0][0] if stops else None,
        "detail": stops[0][1] if stops else None,
        "items_kept": len(kept),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expanded-gb", type=float, default=16.0)
    parser.add_argument("--json", default=None, help="write the report here too")
    args = parser.parse_args(argv)
    expanded = int(args.expanded_gb * (1 << 30))
    report: dict[str, Any] = {"load_average": os.getloadavg(), "expanded_bytes": expanded}
    with tempfile.TemporaryDirectory() as tmp:
        built = time.perf_counter()
        bombs = build_all(Path(tmp), expanded)
        report["build_seconds"] = round(time.perf_counter() - built, 1)
        report["bombs"] = {
            name: {"expands_to_bytes": size, **read_bomb(path, via)}
            for name, (path, via, size) in bombs.items()
        }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
