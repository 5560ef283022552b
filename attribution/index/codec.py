"""Bytes of stored blobs: token records and contents, zstd-compressed (see FORMAT.md)."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import zstandard

from attribution.core.tokenize import TokenStream

TOKEN_MAGIC = b"ATK1"
_LEVEL = 3
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    c = getattr(_local, "c", None)
    if c is None:
        c = _local.c = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=True)
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "d", None)
    if d is None:
        d = _local.d = zstandard.ZstdDecompressor()
    return d


def blob_id(data: bytes) -> str:
    """git blob SHA-1 of a content (the id Software Heritage and The Stack v2 use)."""
    h = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    h.update(data)
    return h.hexdigest()


def source_key(repo_name: str, path: str) -> int:
    """63-bit id of a source (repository + path), stable across builds and merges."""
    digest = hashlib.sha1(f"{repo_name}\0{path}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def source_id(key: int) -> str:
    """Public form of a source id."""
    return f"s:{key:016x}"


def parse_source_id(text: str) -> int:
    """Inverse of source_id; raises ValueError naming the bad id."""
    if not text.startswith("s:") or len(text) != 18:
        raise ValueError(f"malformed source id {text!r}; expected 's:' and 16 hex digits")
    try:
        return int(text[2:], 16)
    except ValueError:
        raise ValueError(f"malformed source id {text!r}; expected 's:' and 16 hex digits") from None


def compress(data: bytes) -> bytes:
    return _compressor().compress(data)


def decompress(data: bytes) -> bytes:
    return _decompressor().decompress(data)


def encode_tokens(stream: TokenStream) -> bytes:
    """Token arrays as one compressed record; offsets and lines delta-coded."""
    n = len(stream)
    start = stream.start.astype(np.int64)
    line = stream.line.astype(np.int64)
    parts = [
        stream.text_hash.astype("<u4"),
        np.diff(start, prepend=0).astype("<u4"),
        (stream.end.astype(np.int64) - start).astype("<u4"),
        np.diff(line, prepend=0).astype("<u4"),
        (stream.end_line.astype(np.int64) - line).astype("<u4"),
        stream.kind.astype("<u1"),
    ]
    header = TOKEN_MAGIC + np.uint32(n).astype("<u4").tobytes()
    return compress(header + b"".join(p.tobytes() for p in parts))


def decode_tokens(record: bytes, language: str) -> TokenStream:
    """Inverse of encode_tokens (units are not stored)."""
    raw = decompress(record)
    if raw[:4] != TOKEN_MAGIC:
        raise ValueError("token record has a bad magic number")
    n = int(np.frombuffer(raw, dtype="<u4", count=1, offset=4)[0])
    cols = [np.frombuffer(raw, dtype="<u4", count=n, offset=8 + i * 4 * n) for i in range(5)]
    kind = np.frombuffer(raw, dtype="<u1", count=n, offset=8 + 20 * n)
    start = np.cumsum(cols[1], dtype=np.int64)
    line = np.cumsum(cols[3], dtype=np.int64)
    return TokenStream(
        text_hash=cols[0].astype(np.uint32),
        kind=kind.astype(np.uint8),
        start=start.astype(np.uint32),
        end=(start + cols[2]).astype(np.uint32),
        line=line.astype(np.uint32),
        end_line=(line + cols[4]).astype(np.uint32),
        units=np.zeros((0, 2), dtype=np.int32),
        language=language,
    )
