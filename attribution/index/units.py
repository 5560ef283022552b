"""A build cut into units of work that any process can do on its own (index/ray_build.py).

A unit is a slice of rows of one row group of a parquet table (The Stack's layout: a
table, or a directory of them, on any file system pyarrow opens), or a whole SOURCE of
another kind (a directory, archive, git repository or JSON lines table). The cut depends
only on the input, so a unit retried, or run again by a resumed build, reads exactly the
same files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from attribution.index.ingest import IngestLimits, Skipped, SourceFile
from attribution.index.ingest.examine import Context
from attribution.index.ingest.table import (
    _PARQUET_BUFFER,
    _parquet_items,
    _Rows,
    resolve_columns,
)

UNIT_ROWS = 10_000  # rows of a table per unit (a row group larger than this is cut)


@dataclass(frozen=True)
class Unit:
    """One unit of a build: rows [start, stop) of a row group, or a whole SOURCE."""

    number: int
    spec: str  # the SOURCE argument it comes from
    path: str = ""  # a parquet table (URI or local path); empty for a whole SOURCE
    row_group: int = 0
    start: int = 0
    stop: int = 0

    @property
    def name(self) -> str:
        return f"unit-{self.number:06d}"


def filesystem(spec: str) -> tuple[Any, str]:
    """The pyarrow file system of a SOURCE and the path in it (local paths as given)."""
    import pyarrow.fs as pafs

    if "://" in spec:
        return pafs.FileSystem.from_uri(spec)
    import os

    return pafs.LocalFileSystem(), os.path.abspath(spec)


def parquet_files(spec: str) -> list[str] | None:
    """The parquet tables of a SOURCE (sorted), or None when it is not only tables."""
    import pyarrow.fs as pafs

    fs, path = filesystem(spec)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.File:
        return [path] if path.endswith(".parquet") else None
    if info.type != pafs.FileType.Directory:
        return None
    files = [
        f.path
        for f in fs.get_file_info(pafs.FileSelector(path, recursive=True))
        if f.type == pafs.FileType.File and not f.base_name.startswith((".", "_"))
    ]
    if not files or not all(f.endswith(".parquet") for f in files):
        return None
    return sorted(files)


def plan(specs: list[str], unit_rows: int = UNIT_ROWS) -> list[Unit]:
    """The units of a build, in input order."""
    import pyarrow.parquet as pq

    units: list[Unit] = []
    for spec in specs:
        tables = parquet_files(spec)
        if tables is None:
            units.append(Unit(len(units), spec))
            continue
        fs, _ = filesystem(spec)
        for path in tables:
            with fs.open_input_file(path) as f:
                meta = pq.ParquetFile(f).metadata
            for g in range(meta.num_row_groups):
                rows = meta.row_group(g).num_rows
                for start in range(0, rows, unit_rows):
                    stop = min(rows, start + unit_rows)
                    units.append(Unit(len(units), spec, path, g, start, stop))
    return units


def plan_key(specs: list[str], units: list[Unit], extra: dict[str, Any]) -> str:
    """A name for one build's work: the same input, config and shards give the same key,
    so an interrupted build finds what it already wrote."""
    text = json.dumps([specs, [asdict(u) for u in units], extra], sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def read_unit(unit: Unit, limits: IngestLimits) -> Iterator[SourceFile | Skipped]:
    """The files of a unit, as the local build reads them."""
    if not unit.path:
        from attribution.index.build import read_all

        yield from read_all([unit.spec], limits)
        return
    import pyarrow.parquet as pq

    fs, _ = filesystem(unit.spec)
    with fs.open_input_file(unit.path) as f:
        table = pq.ParquetFile(f, buffer_size=_PARQUET_BUFFER, pre_buffer=False)
        columns, missing = resolve_columns(table.schema_arrow.names)
        if missing:
            detail = f"missing column(s) {', '.join(missing)}"
            yield Skipped(unit.spec, unit.path, "unreadable", detail)
            return
        wanted = {name: logical for logical, name in columns.items()}
        rows = _Rows(Context(unit.spec, limits), unit.path)
        yield from _parquet_items(_Slice(table, unit), wanted, rows)


class _Slice:
    """A unit's rows of a ParquetFile, with its `iter_batches` (for table._parquet_items):
    the row group is streamed batch by batch, as the local build reads a table, never
    read whole (a row group of 50,000 files held ~300 MB in each Ray worker)."""

    def __init__(self, table: Any, unit: Unit) -> None:
        self.table, self.unit = table, unit

    def iter_batches(self, batch_size: int, columns: list[str]) -> Iterator[Any]:
        at, start, stop = 0, self.unit.start, self.unit.stop
        groups = [self.unit.row_group]
        for batch in self.table.iter_batches(batch_size, groups, columns):
            lo, hi = max(start - at, 0), min(stop - at, batch.num_rows)
            at += batch.num_rows
            if hi > lo:
                yield batch.slice(lo, hi - lo)
            if at >= stop:
                return
