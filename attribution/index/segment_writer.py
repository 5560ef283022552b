"""Writing an immutable index segment: SegmentWriter collects blobs and sources, spilling
them to disk as they come, and writes the segment directory at finish (the segment's reader
is segment_reader.py)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attribution.index import codec, integrity, spill
from attribution.index.format import SEGMENT_FILE, SEGMENT_VERSION, fsync_dir, write_json
from attribution.index.segment_reader import VIEWS, SourceRecord

SPILL_DIR = ".spill"  # a writer's spill files, inside its temporary directory

SCHEMA = """
CREATE TABLE blobs (
    local INTEGER PRIMARY KEY, blob_id TEXT NOT NULL UNIQUE, language TEXT NOT NULL,
    size INTEGER NOT NULL, tokens INTEGER NOT NULL, lines INTEGER NOT NULL);
CREATE TABLE repos (
    repo_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, url TEXT);
CREATE TABLE sources (
    sid INTEGER PRIMARY KEY, blob_local INTEGER NOT NULL, repo_id INTEGER NOT NULL,
    path TEXT NOT NULL, license TEXT NOT NULL, license_type TEXT NOT NULL,
    license_evidence TEXT NOT NULL, authors TEXT NOT NULL, copyright TEXT NOT NULL);
CREATE TABLE people (
    sid INTEGER NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL);
CREATE TABLE skipped (reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
"""
INDEXES = """
CREATE INDEX sources_blob ON sources(blob_local);
CREATE INDEX sources_repo ON sources(repo_id);
CREATE INDEX people_value ON people(value);
CREATE INDEX people_sid ON people(sid);
"""


@dataclass
class BlobRecord:
    """A processed blob, ready to be written: fingerprints, sketches, compressed bytes."""

    blob_id: str
    language: str
    size: int
    tokens: int
    lines: int
    fingerprints: dict[str, np.ndarray]  # view -> unique uint32 hashes
    sketches: np.ndarray  # uint8 (m, bits / 8)
    token_record: bytes
    content_record: bytes
    names: np.ndarray | None = None  # distinct identifier hashes (uint32), for names.npy


@dataclass
class SegmentWriter:
    """Collects blobs and sources, then writes a segment directory in one go.

    Memory stays bounded whatever the segment's size: what it collects is spilled to disk
    as it comes (spill.py) and sorted bucket by bucket at finish."""

    path: Path
    sketch_bytes: int
    spill_bytes: int = 0  # buffered bytes of a spilled stream (0: spill.SPILL_BYTES)
    source_bytes: int = 0

    def __post_init__(self) -> None:
        self.spill_bytes = self.spill_bytes or spill.SPILL_BYTES
        self._names = NameCounts()
        self.path.mkdir(parents=True)
        self._spill_dir = self.path / SPILL_DIR
        self._blobs = spill.BlobMap()
        self._first = bytearray()  # first byte of each local blob's id: its sketch bucket
        self._spill_dir.mkdir()
        self._meta: spill.MetaSpill | None = spill.MetaSpill(self._spill_dir / "meta.sqlite")
        self._fps = {
            v: spill.Buckets(self._spill_dir / v, np.uint64, self.spill_bytes) for v in VIEWS
        }
        sketch_dtype = np.dtype([("blob", "<u4"), ("sketch", "u1", (self.sketch_bytes,))])
        self._sketches = spill.Buckets(self._spill_dir / "sketch", sketch_dtype, self.spill_bytes)
        self._skipped: dict[str, int] = {}
        self._token_off = array("Q", [0])
        self._content_off = array("Q", [0])
        self._tokens = open(self.path / "tokens.bin", "wb")  # noqa: SIM115
        self._content = open(self.path / "content.bin", "wb")  # noqa: SIM115
        self._token_total = 0
        self._source_total = 0  # sources, once finished

    def _store(self, row: tuple[Any, ...], token_record: bytes, content_record: bytes) -> int:
        """A new blob: row = (blob_id, language, size, tokens, lines)."""
        assert self._meta is not None
        local = self._blobs.add(row[0])
        self._first.append(row[0].encode()[0] if row[0] else 0)
        self._meta.add_blob((local, *row))
        self._tokens.write(token_record)
        self._token_off.append(self._token_off[-1] + len(token_record))
        self._content.write(content_record)
        self._content_off.append(self._content_off[-1] + len(content_record))
        self.source_bytes += int(row[2])
        self._token_total += int(row[3])
        return local

    def add_stored(self, row: tuple[Any, ...], token_record: bytes, content_record: bytes) -> int:
        """Copy a blob from another segment (merge): row = (blob_id, language, size, tokens, lines).

        Its fingerprints and sketches are added separately with add_arrays."""
        local = self._store(row, token_record, content_record)
        self._names.add(codec.decode_tokens(token_record, str(row[1])).identifiers())
        return local

    def add_arrays(self, view: str, hashes: np.ndarray, blobs: np.ndarray) -> None:
        """Fingerprints (view) or sketches (view 'sketch') of already stored blobs."""
        blobs = np.asarray(blobs).astype(np.uint32)
        if view == "sketch":
            firsts = np.frombuffer(self._first, dtype=np.uint8)[blobs]
            self._sketches.add(firsts, _sketch_records(self._sketches.dtype, hashes, blobs))
        else:
            hashes = np.asarray(hashes).astype(np.uint32)
            pairs = (hashes.astype(np.uint64) << np.uint64(32)) | blobs.astype(np.uint64)
            self._fps[view].add((hashes >> np.uint32(24)).astype(np.uint8), pairs)

    def local_of(self, blob_id: str) -> int | None:
        return self._blobs.get(blob_id)

    def has_blob(self, blob_id: str) -> bool:
        return self._blobs.get(blob_id) is not None

    def add_blob(self, rec: BlobRecord) -> int:
        """Store a blob once; returns its local id."""
        local = self._blobs.get(rec.blob_id)
        if local is not None:
            return local
        row = (rec.blob_id, rec.language, rec.size, rec.tokens, rec.lines)
        local = self._store(row, rec.token_record, rec.content_record)
        for view in VIEWS:
            hashes = rec.fingerprints[view]
            self.add_arrays(view, hashes, np.full(hashes.shape[0], local, dtype=np.uint32))
        if len(rec.sketches):
            blobs = np.full(len(rec.sketches), local, dtype=np.uint32)
            self.add_arrays("sketch", rec.sketches, blobs)
        if rec.names is None:
            rec.names = codec.decode_tokens(rec.token_record, rec.language).identifiers()
        self._names.add(rec.names)
        return local

    def add_source(self, src: SourceRecord) -> None:
        """Record a file occurrence of a stored blob (the last one of a repo+path wins)."""
        if self._blobs.get(src.blob_id) is None:
            raise KeyError(f"blob {src.blob_id} is not in this segment")
        assert self._meta is not None
        self._meta.add_source(src)

    def count_skipped(self, reason: str, n: int = 1) -> None:
        self._skipped[reason] = self._skipped.get(reason, 0) + n

    @property
    def blob_count(self) -> int:
        return self._blobs.count

    @property
    def skipped_count(self) -> int:
        sources = self._meta.source_count() if self._meta else self._source_total
        return sum(self._skipped.values()) + sources

    def finish(self) -> dict[str, Any]:
        """Write arrays, metadata and the segment file; returns the segment summary."""
        self._tokens.close()
        self._content.close()
        order = self._blobs.order()
        rank = np.empty(order.shape[0], dtype=np.uint32)
        rank[order] = np.arange(order.shape[0], dtype=np.uint32)
        self._write_records(order)
        fp_count = {view: self._write_fingerprints(view, rank) for view in VIEWS}
        self._write_sketches(rank)
        names, blobs_with = self._names.table()
        np.save(self.path / "names_hash.npy", names)
        np.save(self.path / "names_df.npy", blobs_with)
        sources, repos = self._write_sqlite(rank)
        self._source_total = sources
        self._drop_spill()
        files = integrity.seal(self.path)  # fsync every file, then record sizes and checksums
        summary = {
            "version": SEGMENT_VERSION,
            "blobs": self._blobs.count,
            "sources": sources,
            "repos": repos,
            "tokens": self._token_total,
            "source_bytes": self.source_bytes,
            "fingerprints": fp_count,
            "names": int(names.shape[0]),
            "skipped": dict(sorted(self._skipped.items())),
            "files": files,
        }
        summary["checksum"] = integrity.info_checksum(summary)
        write_json(self.path / SEGMENT_FILE, summary)
        fsync_dir(self.path)
        return summary

    def _write_records(self, order: np.ndarray) -> None:
        """Stored records in blob id order (local ids follow blob ids), so a segment's blob
        order depends on its content, not on the order its files came in: how a corpus is
        split into shards or tasks cannot change answers."""
        for name, offsets in (("tokens", self._token_off), ("content", self._content_off)):
            off = np.frombuffer(offsets, dtype=np.uint64)
            if not np.array_equal(order, np.arange(order.shape[0])):
                off = _permute_file(self.path / f"{name}.bin", off, order)
            np.save(self.path / f"{name}_off.npy", off)
        self._token_off = self._content_off = array("Q")

    def abort(self) -> None:
        """Drop a half-written segment."""
        for f in (self._tokens, self._content):
            f.close()
        if self._meta is not None:
            self._meta.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def _drop_spill(self) -> None:
        if self._meta is not None:
            self._meta.close()
            self._meta = None
        shutil.rmtree(self._spill_dir)

    def _write_fingerprints(self, view: str, rank: np.ndarray) -> int:
        """Bucket by bucket (the top byte of the hash: the buckets' order is the sorted
        order), each renumbered and made unique."""
        spilled = self._fps[view]
        spilled.flush()
        hashes = spill.NpyWriter(self.path / f"fp_{view}_hash.npy", np.uint32)
        blobs = spill.NpyWriter(self.path / f"fp_{view}_blob.npy", np.uint32)
        low = np.uint64(0xFFFFFFFF)
        for bucket in range(spill.BUCKETS):
            pairs = spilled.read(bucket)
            if not pairs.shape[0]:
                continue
            renumbered = rank[(pairs & low).astype(np.int64)].astype(np.uint64)
            pairs = np.unique((pairs & ~low) | renumbered)
            hashes.write((pairs >> np.uint64(32)).astype(np.uint32))
            blobs.write((pairs & low).astype(np.uint32))
        hashes.close()
        blobs.close()
        return blobs.rows

    def _write_sketches(self, rank: np.ndarray) -> None:
        """Bucket by bucket (the first byte of the blob id: the buckets' order is the blob
        order), a blob's own sketches in the order they came."""
        self._sketches.flush()
        rows = spill.NpyWriter(self.path / "sketch.npy", np.uint8, (self.sketch_bytes,))
        blobs = spill.NpyWriter(self.path / "sketch_blob.npy", np.uint32)
        for bucket in range(spill.BUCKETS):
            recs = self._sketches.read(bucket)
            if not recs.shape[0]:
                continue
            new = rank[recs["blob"].astype(np.int64)]
            by_blob = np.argsort(new, kind="stable")
            rows.write(recs["sketch"][by_blob])
            blobs.write(new[by_blob])
        rows.close()
        blobs.close()

    def _write_sqlite(self, rank: np.ndarray) -> tuple[int, int]:
        """meta.sqlite, in the same statements and order as ever; (sources, repos)."""
        assert self._meta is not None
        meta = self._meta
        db = sqlite3.connect(self.path / "meta.sqlite")
        try:
            db.executescript(SCHEMA)
            rows = ((i, *row) for i, row in enumerate(meta.blob_rows()))
            db.executemany("INSERT INTO blobs VALUES (?,?,?,?,?,?)", rows)
            repos: dict[str, int] = {}
            for row in meta.sources():
                if row[2] not in repos:
                    repos[row[2]] = len(repos)
                    db.execute("INSERT INTO repos VALUES (?,?,?)", (repos[row[2]], row[2], row[3]))
            local = self._final_local(rank)
            sources = (
                (r[0], local(r[1]), repos[r[2]], *r[4:8], r[8], r[10]) for r in meta.sources()
            )
            db.executemany("INSERT INTO sources VALUES (?,?,?,?,?,?,?,?,?)", sources)
            db.executemany("INSERT INTO people VALUES (?,?,?)", _people_rows(meta.sources()))
            db.executemany("INSERT INTO skipped VALUES (?,?)", sorted(self._skipped.items()))
            db.executescript(INDEXES)
            db.commit()
        finally:
            db.close()
        return meta.source_count(), len(repos)

    def _final_local(self, rank: np.ndarray) -> Any:
        def local(blob_id: str) -> int:
            old = self._blobs.get(blob_id)
            assert old is not None
            return int(rank[old])

        return local


class NameCounts:
    """In how many blobs each identifier occurs, counted as blobs are added (kept
    compact: pending arrays are folded into the table every COMPACT entries)."""

    COMPACT = 4_000_000

    def __init__(self) -> None:
        self._hash = np.zeros(0, dtype=np.uint32)
        self._count = np.zeros(0, dtype=np.uint32)
        self._pending: list[np.ndarray] = []
        self._size = 0

    def add(self, names: np.ndarray) -> None:
        self._pending.append(names.astype(np.uint32, copy=False))
        self._size += int(names.shape[0])
        if self._size >= self.COMPACT:
            self._fold()

    def _fold(self) -> None:
        """Merge the pending names into the table in place of re-sorting the table: the
        transient memory is the pending arrays' and one copy of the table."""
        if not self._pending:
            return
        names, counts = np.unique(np.concatenate(self._pending), return_counts=True)
        self._pending, self._size = [], 0
        at = np.searchsorted(self._hash, names)
        known = at < self._hash.shape[0]
        known[known] = self._hash[at[known]] == names[known]
        np.add.at(self._count, at[known], counts[known].astype(np.uint32))
        new = ~known
        self._hash = np.insert(self._hash, at[new], names[new])
        self._count = np.insert(self._count, at[new], counts[new].astype(np.uint32))

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted distinct hashes, blobs holding each), both uint32."""
        self._fold()
        return self._hash, self._count


def _sketch_records(dtype: np.dtype, sketches: np.ndarray, blobs: np.ndarray) -> np.ndarray:
    recs = np.empty(blobs.shape[0], dtype=dtype)
    recs["blob"] = blobs
    recs["sketch"] = sketches
    return recs


def _permute_file(path: Path, offsets: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Rewrite a file of consecutive records in a new order (read with pread: no mapping
    of the whole file); the new offsets."""
    tmp = path.with_name(path.name + ".sorted")
    lengths = np.diff(offsets)[order]
    starts = offsets[:-1][order]
    out = np.zeros(order.shape[0] + 1, dtype=np.uint64)
    np.cumsum(lengths, out=out[1:])
    step = 65_536
    with open(path, "rb") as src, open(tmp, "wb", buffering=1 << 20) as dst:
        fd = src.fileno()
        for at in range(0, order.shape[0], step):
            where = starts[at : at + step].tolist()
            for start, length in zip(where, lengths[at : at + step].tolist(), strict=True):
                dst.write(os.pread(fd, length, start))
    os.replace(tmp, path)
    return out


def _people_rows(sources: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, str, str]]:
    """(sid, kind, value) of spilled sources (authors json at 8, emails json at 9)."""
    for s in sources:
        yield from ((s[0], "author", a.casefold()) for a in json.loads(s[8]))
        yield from ((s[0], "email", e.casefold()) for e in json.loads(s[9]))
