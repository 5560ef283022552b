"""Decompression that stops as soon as a byte budget or an expansion ratio is passed.

`open_decompressed` reads a gzip, bzip2, xz or zstd stream (told apart by its magic
bytes; anything else is read as it is) and counts both sides as it goes: the compressed
bytes taken from the file and the bytes handed out. A read that would take the output
past `budget` bytes, or past `ratio` times the compressed bytes read so far (once the
output is over RATIO_FLOOR), raises `ExpansionLimit` instead: a bomb is refused after
reading about max(RATIO_FLOOR, ratio x one compressed buffer) bytes, never all of it.
`bound_stream` puts the same output checks on a stream whose compressed size is known
(a zip member).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Callable
from typing import IO, Any, cast

import zstandard

RATIO_FLOOR = 1 << 20  # outputs this small are never refused for their ratio
CHUNK = 64 * 1024  # the most one read decompresses at once
_COMPRESSED_BUFFER = 16 * 1024  # zstd's compressed read size (gzip/bz2/xz use 8 KiB)
MAGIC = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}


class ExpansionLimit(Exception):
    """A compressed stream expanded past its byte budget or its ratio limit."""


def compression_of(head: bytes) -> str | None:
    """The compression a file starts with ("gzip", "bzip2", "xz", "zstd"), or None."""
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


class _Counting(io.RawIOBase):
    """A file that counts the bytes read from it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


class Bounded(io.RawIOBase):
    """The decompressed side of a stream, checked against a budget and a ratio."""

    def __init__(
        self,
        stream: IO[bytes],
        packed: Callable[[], int] | None,
        budget: int,
        ratio: int,
        raw: io.IOBase | None = None,
    ) -> None:
        self._stream, self._raw = stream, raw
        self._packed = packed  # compressed bytes read so far; None: not compressed
        self._budget, self._ratio = budget, ratio
        self.produced = 0

    @property
    def consumed(self) -> int:
        """Compressed bytes read so far (the bytes handed out, when not compressed)."""
        return self._packed() if self._packed is not None else self.produced

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), CHUNK, self._budget + 1 - self.produced)
        data = self._stream.read(max(want, 1))
        self.produced += len(data)
        self._check()
        buffer[: len(data)] = data
        return len(data)

    def _check(self) -> None:
        if self.produced > self._budget:
            raise ExpansionLimit(f"expands past {self._budget} bytes (the byte budget)")
        if self._packed is None:
            return
        packed = max(self.consumed, 1)
        if self.produced > RATIO_FLOOR and self.produced > packed * self._ratio:
            raise ExpansionLimit(
                f"expands {packed} -> more than {self.produced} bytes "
                f"(over max_ratio={self._ratio})"
            )

    def close(self) -> None:
        self._stream.close()
        if self._raw is not None:
            self._raw.close()
        super().close()


def open_decompressed(path: str, budget: int, ratio: int) -> Bounded:
    """The decompressed bytes of a file (read as is when it is not compressed)."""
    raw = open(path, "rb")  # noqa: SIM115 (closed by the returned stream)
    try:
        kind = compression_of(raw.read(8))
        raw.seek(0)
    except OSError:
        raw.close()
        raise
    if kind is None:  # plain bytes: only the budget applies
        return Bounded(raw, None, budget, ratio)
    counting = _Counting(raw)
    stream = _decompressor(kind, counting)
    return Bounded(stream, lambda: counting.count, budget, ratio, counting)


def _decompressor(kind: str, counting: _Counting) -> IO[bytes]:
    raw = cast(IO[bytes], counting)
    if kind == "gzip":
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bzip2":
        return cast(IO[bytes], bz2.BZ2File(raw, "rb"))
    if kind == "xz":
        return cast(IO[bytes], lzma.LZMAFile(raw, "rb"))
    dctx = zstandard.ZstdDecompressor()
    reader = dctx.stream_reader(raw, read_size=_COMPRESSED_BUFFER, read_across_frames=True)
    return cast(IO[bytes], reader)


def bound_stream(stream: IO[bytes], packed: int, budget: int, ratio: int) -> Bounded:
    """`stream` (of `packed` compressed bytes) under the same budget and ratio checks."""
    return Bounded(stream, lambda: packed, budget, ratio)


def buffered(stream: Bounded) -> io.BufferedReader:
    """A buffered reader over a Bounded stream (readline, read(n) of any size)."""
    return io.BufferedReader(stream, buffer_size=CHUNK)
