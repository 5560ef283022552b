"""External memory for SegmentWriter: what a segment collects goes to disk as it comes.

A writer's memory is bounded by the spill buffers (SPILL_BYTES each), not by the size of
the segment: fingerprints and sketches go to 256 bucket files keyed by one byte whose
order is the final sort order, blob rows and sources to a temporary SQLite database.
Only the blob id -> local id map stays in memory, as sorted numpy arrays (~45 bytes a
blob). Spill files live in the segment's temporary directory and go before it is sealed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

SPILL_BYTES = 16_000_000  # buffered records of one spilled stream before a flush
BUCKETS = 256
ROWS_BATCH = 4096  # blob rows and sources written to the spill database at once


class BlobMap:
    """Blob id -> local id, compact: sorted byte-string and uint32 arrays, plus a small
    dict of the latest ids folded in every FOLD entries."""

    FOLD = 65_536

    def __init__(self) -> None:
        self._ids = np.zeros(0, dtype="S1")
        self._locals = np.zeros(0, dtype=np.uint32)
        self._pending: dict[str, int] = {}
        self.count = 0

    def add(self, blob_id: str) -> int:
        """The next local id for a blob not in the map."""
        local = self.count
        self._pending[blob_id] = local
        self.count += 1
        if len(self._pending) >= self.FOLD:
            self._fold()
        return local

    def get(self, blob_id: str) -> int | None:
        local = self._pending.get(blob_id)
        if local is not None or not self._ids.shape[0]:
            return local
        key = blob_id.encode()
        if len(key) > self._ids.dtype.itemsize:
            return None
        at = int(np.searchsorted(self._ids, key))
        if at < self._ids.shape[0] and self._ids[at] == key:
            return int(self._locals[at])
        return None

    def _fold(self) -> None:
        if not self._pending:
            return
        keys = [k.encode() for k in self._pending]
        width = max(self._ids.dtype.itemsize, *(len(k) for k in keys))
        ids = np.array(keys, dtype=f"S{width}")
        locs = np.fromiter(self._pending.values(), dtype=np.uint32, count=len(keys))
        order = np.argsort(ids, kind="stable")
        ids, locs = ids[order], locs[order]
        table = self._ids.astype(f"S{width}", copy=False)
        at = np.searchsorted(table, ids)
        self._ids = np.insert(table, at, ids)
        self._locals = np.insert(self._locals, at, locs)
        self._pending = {}

    def order(self) -> np.ndarray:
        """Local ids in blob id order (uint32): order[new] = old."""
        self._fold()
        return self._locals

    def nbytes(self) -> int:
        return int(self._ids.nbytes + self._locals.nbytes)


class Buckets:
    """Fixed-size records spilled to BUCKETS files by a one-byte key, in arrival order
    within a bucket; buffered in memory up to `bound` bytes."""

    def __init__(self, folder: Path, dtype: Any, bound: int) -> None:
        self.folder, self.dtype, self.bound = folder, np.dtype(dtype), bound
        folder.mkdir(parents=True)
        self.sizes = np.zeros(BUCKETS, dtype=np.int64)
        self._keys: list[np.ndarray] = []
        self._recs: list[np.ndarray] = []
        self._bytes = 0

    def add(self, keys: np.ndarray, records: np.ndarray) -> None:
        if not records.shape[0]:
            return
        self._keys.append(keys.astype(np.uint8, copy=False))
        self._recs.append(records)
        self._bytes += records.nbytes
        if self._bytes >= self.bound:
            self.flush()

    def flush(self) -> None:
        if not self._recs:
            return
        keys, recs = np.concatenate(self._keys), np.concatenate(self._recs)
        self._keys, self._recs, self._bytes = [], [], 0
        order = np.argsort(keys, kind="stable")
        keys, recs = keys[order], recs[order]
        bounds = np.searchsorted(keys, np.arange(BUCKETS + 1))
        for b in np.flatnonzero(np.diff(bounds)).tolist():
            with open(self.folder / f"{b:03d}", "ab") as f:
                recs[bounds[b] : bounds[b + 1]].tofile(f)
        self.sizes += np.diff(bounds)

    def read(self, bucket: int) -> np.ndarray:
        """A bucket's records (after flush)."""
        if not self.sizes[bucket]:
            return np.zeros(0, dtype=self.dtype)
        return np.fromfile(self.folder / f"{bucket:03d}", dtype=self.dtype)


class NpyWriter:
    """A .npy file written in pieces: the header is rewritten with the final length at
    close (numpy leaves room for it), so the bytes are those np.save would write."""

    def __init__(self, path: Path, dtype: Any, tail: tuple[int, ...] = ()) -> None:
        self.dtype, self.tail, self.rows = np.dtype(dtype), tail, 0
        self._file: BinaryIO = open(path, "wb")  # noqa: SIM115
        self._header()

    def _header(self) -> None:
        np.lib.format.write_array_header_1_0(
            self._file,
            {
                "descr": np.lib.format.dtype_to_descr(self.dtype),
                "fortran_order": False,
                "shape": (self.rows, *self.tail),
            },
        )

    def write(self, array: np.ndarray) -> None:
        np.ascontiguousarray(array, dtype=self.dtype).tofile(self._file)
        self.rows += int(array.shape[0])

    def close(self) -> None:
        end = self._file.tell()
        self._file.seek(0)
        self._header()
        self._file.seek(end)
        self._file.close()


SPILL_SCHEMA = """
CREATE TABLE blobs (local INTEGER PRIMARY KEY, blob_id TEXT, language TEXT, size INTEGER,
    tokens INTEGER, lines INTEGER);
CREATE TABLE sources (seq INTEGER PRIMARY KEY, key INTEGER UNIQUE, blob_id TEXT,
    repo TEXT, url TEXT, path TEXT, license TEXT, license_type TEXT, evidence TEXT,
    authors TEXT, emails TEXT, copyright TEXT);
"""
UPSERT = """INSERT INTO sources (key, blob_id, repo, url, path, license, license_type,
    evidence, authors, emails, copyright) VALUES (?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT(key) DO UPDATE SET blob_id=excluded.blob_id, repo=excluded.repo,
    url=excluded.url, path=excluded.path, license=excluded.license,
    license_type=excluded.license_type, evidence=excluded.evidence,
    authors=excluded.authors, emails=excluded.emails, copyright=excluded.copyright"""


class MetaSpill:
    """Blob rows and sources on disk until finish: a source keeps the place of its key's
    first occurrence and the values of its last (as a dict would)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SPILL_SCHEMA)
        self._blobs: list[tuple[Any, ...]] = []
        self._sources: list[tuple[Any, ...]] = []

    def add_blob(self, row: tuple[Any, ...]) -> None:
        self._blobs.append(row)
        if len(self._blobs) >= ROWS_BATCH:
            self.flush()

    def add_source(self, src: Any) -> None:
        where = (src.key, src.blob_id, src.repo_name, src.repo_url, src.path)
        lic = (src.license, src.license_type, src.license_evidence)
        people = [json.dumps(list(v)) for v in (src.authors, src.emails, src.copyright)]
        self._sources.append((*where, *lic, *people))
        if len(self._sources) >= ROWS_BATCH:
            self.flush()

    def flush(self) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO blobs VALUES (?,?,?,?,?,?)", self._blobs)
        self.db.executemany(UPSERT, self._sources)
        self.db.execute("COMMIT")
        self._blobs, self._sources = [], []

    def source_count(self) -> int:
        self.flush()
        return int(self.db.execute("SELECT count(*) FROM sources").fetchone()[0])

    def blob_rows(self) -> Iterator[tuple[Any, ...]]:
        """(blob_id, language, size, tokens, lines) in blob id order."""
        self.flush()
        yield from self.db.execute(
            "SELECT blob_id, language, size, tokens, lines FROM blobs ORDER BY blob_id"
        )

    def sources(self) -> Iterator[tuple[Any, ...]]:
        """(key, blob_id, repo, url, path, license, license_type, evidence, authors json,
        emails json, copyright json) in the order their keys first came."""
        self.flush()
        yield from self.db.execute(
            "SELECT key, blob_id, repo, url, path, license, license_type, evidence, "
            "authors, emails, copyright FROM sources ORDER BY seq"
        )

    def close(self) -> None:
        self.db.close()
