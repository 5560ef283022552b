"""A written index segment opened for queries: its arrays memory-mapped, its metadata in
SQLite (the segment's writer is segment_writer.py)."""

from __future__ import annotations

import json
import mmap
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

from attribution.core.tokenize import TokenStream
from attribution.index import codec, integrity
from attribution.index.format import SEGMENT_FILE, SEGMENT_VERSION, IndexFormatError
from attribution.index.metadb import MetaDB

VIEWS = ("exact", "abstract")


@dataclass
class SourceRecord:
    """One file occurrence: where it is, whose it is, under which license."""

    repo_name: str
    path: str
    blob_id: str
    repo_url: str | None = None
    license: str = "NOASSERTION"
    license_type: str = "unknown"
    license_evidence: str = "none"
    authors: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    copyright: tuple[str, ...] = ()

    @property
    def key(self) -> int:
        return codec.source_key(self.repo_name, self.path)


class Segment:
    """A written segment opened for queries: arrays memory-mapped, metadata in SQLite.

    Opening checks what is cheap to check (sizes, headers, array shapes: integrity.py);
    bytes found damaged later, by a query, raise IndexFormatError naming the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.info = self._read_info()
        integrity.check_table(path, self.info)
        self.n_blobs = int(self.info["blobs"])
        self.fp_hash = {v: self._array(f"fp_{v}_hash.npy") for v in VIEWS}
        self.fp_blob = {v: self._array(f"fp_{v}_blob.npy") for v in VIEWS}
        self.sketch = self._array("sketch.npy", ndim=2, dtype=np.uint8)
        self.sketch_blob = self._array("sketch_blob.npy")
        names = path / "names_hash.npy"  # absent in segments written before it existed
        self.names_hash = self._array("names_hash.npy") if names.exists() else None
        self.names_df = self._array("names_df.npy") if names.exists() else None
        self.token_off = self._array("tokens_off.npy", dtype=np.uint64)
        self.content_off = self._array("content_off.npy", dtype=np.uint64)
        self._tokens = self._map("tokens.bin")
        self._content = self._map("content.bin")
        self._check_shapes()
        uri = f"file:{path / 'meta.sqlite'}?mode=ro&immutable=1"
        try:
            self.db = MetaDB(sqlite3.connect(uri, uri=True, check_same_thread=False), path)
        except sqlite3.Error as err:
            raise integrity.damaged(path / "meta.sqlite", str(err)) from None
        self.languages = [
            r[0] for r in self.db.execute("SELECT language FROM blobs ORDER BY local")
        ]
        if len(self.languages) != self.n_blobs:
            raise integrity.damaged(path / "meta.sqlite", "its blobs are not the segment's")

    def _read_info(self) -> dict[str, Any]:
        info_file = self.path / SEGMENT_FILE
        if not info_file.exists():
            raise IndexFormatError(f"segment {self.path} is incomplete: {SEGMENT_FILE} is missing")
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise integrity.damaged(info_file, f"unreadable: {err}") from None
        if not isinstance(info, dict) or info.get("version") != SEGMENT_VERSION:
            version = info.get("version") if isinstance(info, dict) else None
            raise IndexFormatError(
                f"segment {self.path} has version {version!r}; "
                f"this program reads version {SEGMENT_VERSION}"
            )
        if not isinstance(info.get("blobs"), int) or info["blobs"] < 0:
            raise integrity.damaged(info_file, f'"blobs" is {info.get("blobs")!r}')
        return info

    def _array(self, name: str, ndim: int = 1, dtype: Any = np.uint32) -> np.ndarray:
        array = integrity.load_array(self.path / name)
        if array.ndim != ndim or array.dtype != dtype:
            raise integrity.damaged(self.path / name, f"a {array.dtype} array of {array.ndim} axes")
        return array

    def _map(self, name: str) -> mmap.mmap | bytes:
        try:
            return _map(self.path / name)
        except (OSError, ValueError) as err:
            raise integrity.damaged(self.path / name, " ".join(str(err).split())) from None

    def _check_shapes(self) -> None:
        """Arrays that must agree with each other and with the blob count."""
        n = self.n_blobs
        for off, data, name in (
            (self.token_off, self._tokens, "tokens"),
            (self.content_off, self._content, "content"),
        ):
            if off.shape[0] != n + 1 or (n and int(off[-1]) != len(data)):
                raise integrity.damaged(self.path / f"{name}_off.npy", f"does not fit {name}.bin")
        for v in VIEWS:
            if self.fp_hash[v].shape != self.fp_blob[v].shape:
                raise integrity.damaged(self.path / f"fp_{v}_blob.npy", "not one blob per hash")
        if self.sketch.shape[0] != self.sketch_blob.shape[0]:
            raise integrity.damaged(self.path / "sketch_blob.npy", "not one blob per sketch")
        if self.sketch_blob.shape[0] and int(self.sketch_blob.max()) >= max(n, 1):
            raise integrity.damaged(self.path / "sketch_blob.npy", "names a blob it does not hold")
        if (self.names_hash is None) != (self.names_df is None) or (
            self.names_hash is not None
            and self.names_df is not None
            and self.names_hash.shape != self.names_df.shape
        ):
            raise integrity.damaged(self.path / "names_df.npy", "not one count per name")

    def lookup(self, view: str, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(index into hashes, local blob) of every posting, and postings per hash."""
        table = self.fp_hash[view]
        lo = np.searchsorted(table, hashes, side="left")
        hi = np.searchsorted(table, hashes, side="right")
        counts = (hi - lo).astype(np.int64)
        total = int(counts.sum())
        qidx = np.repeat(np.arange(hashes.shape[0]), counts)
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        blobs = np.asarray(self.fp_blob[view][starts + np.arange(total)], dtype=np.int64)
        if total and int(blobs.max()) >= self.n_blobs:
            raise integrity.damaged(
                self.path / f"fp_{view}_blob.npy", "names a blob it does not hold"
            )
        return qidx, blobs, counts

    def name_df(self, hashes: np.ndarray) -> np.ndarray | None:
        """Blobs of this segment holding each identifier hash (None: no name table)."""
        if self.names_hash is None or self.names_df is None:
            return None
        table = self.names_hash
        at = np.minimum(np.searchsorted(table, hashes), max(table.shape[0] - 1, 0))
        if table.shape[0] == 0:
            return np.zeros(hashes.shape[0], dtype=np.int64)
        return np.where(table[at] == hashes, self.names_df[at], 0).astype(np.int64)

    def token_record(self, local: int) -> bytes:
        return self._record(self._tokens, self.token_off, local, "tokens")

    def tokens(self, local: int) -> TokenStream:
        try:
            return codec.decode_tokens(self.token_record(local), self.languages[local])
        except (zstandard.ZstdError, ValueError, IndexError) as err:
            raise integrity.damaged(self.path / "tokens.bin", f"blob {local}: {err}") from None

    def content_record(self, local: int) -> bytes:
        return self._record(self._content, self.content_off, local, "content")

    def content(self, local: int) -> bytes:
        try:
            return codec.decompress(self.content_record(local))
        except zstandard.ZstdError as err:
            raise integrity.damaged(self.path / "content.bin", f"blob {local}: {err}") from None

    def _record(self, data: Any, offsets: np.ndarray, local: int, name: str) -> bytes:
        a, b = int(offsets[local]), int(offsets[local + 1])
        if not 0 <= a < b <= len(data):
            raise integrity.damaged(self.path / f"{name}_off.npy", f"blob {local} out of range")
        return bytes(data[a:b])

    def blob_rows(self) -> list[tuple[Any, ...]]:
        """(local, blob_id, language, size, tokens, lines) of every blob."""
        return self.db.execute("SELECT * FROM blobs ORDER BY local").fetchall()

    def source_records(self) -> Iterator[tuple[int, SourceRecord]]:
        """Every source with its local blob (deleted ones included)."""
        emails: dict[int, list[str]] = {}
        for sid, value in self.db.execute("SELECT sid, value FROM people WHERE kind = 'email'"):
            emails.setdefault(sid, []).append(value)
        sql = """SELECT s.sid, s.blob_local, b.blob_id, r.name, r.url, s.path, s.license,
                 s.license_type, s.license_evidence, s.authors, s.copyright
                 FROM sources s JOIN repos r ON r.repo_id = s.repo_id
                 JOIN blobs b ON b.local = s.blob_local"""
        for row in self.db.execute(sql):
            sid, local, blob_id, repo, url, path, lic, lic_type, evidence, authors, cr = row
            yield (
                local,
                SourceRecord(
                    repo_name=repo,
                    path=path,
                    blob_id=blob_id,
                    repo_url=url,
                    license=lic,
                    license_type=lic_type,
                    license_evidence=evidence,
                    authors=tuple(json.loads(authors)),
                    emails=tuple(emails.get(sid, ())),
                    copyright=tuple(json.loads(cr)),
                ),
            )

    def skipped(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT reason, count FROM skipped").fetchall())

    def close(self) -> None:
        self.db.close()


def _map(path: Path) -> mmap.mmap | bytes:
    if os.path.getsize(path) == 0:
        return b""
    with open(path, "rb") as f:
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
