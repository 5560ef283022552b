"""The benchmark's corpus: which packages are held out, the table the index is built
from, the indexed files, and where each piece of code also occurs (identical copies)."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
HOLDOUT_SHARE = 0.10
COLUMNS = [
    "blob_id",
    "repo_name",
    "path",
    "content",
    "detected_licenses",
    "license_type",
    "authors",
    "repo_url",
]


def cache_dir() -> Path:
    """Where the benchmark keeps what it builds (outside the repository)."""
    path = Path(os.environ.get("BENCH_CACHE", Path.home() / ".cache" / "attribution-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_rows(corpus: Path = CORPUS, columns: list[str] | None = None) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = pq.read_table(corpus, columns=columns or COLUMNS).to_pylist()
    return rows


def split_packages(
    repos: Iterable[str], seed: int, share: float = HOLDOUT_SHARE
) -> tuple[set[str], set[str]]:
    """(indexed, held out) package names: a fixed-seed share of packages held out."""
    names = sorted(set(repos))
    rng = random.Random(seed)
    rng.shuffle(names)
    n_out = max(1, round(share * len(names)))
    return set(names[n_out:]), set(names[:n_out])


def write_table(rows: list[dict[str, Any]], path: Path) -> Path:
    """Rows as a parquet table in The Stack's schema (atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    table = pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in rows])
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return path


@dataclass(frozen=True)
class Indexed:
    """An indexed file occurrence as the index holds it."""

    repo_name: str
    path: str
    blob_id: str
    language: str


def indexed_sources(index_dir: Path) -> list[Indexed]:
    """Every source of an index (read from its segments' metadata)."""
    out = []
    for seg in sorted((index_dir / "segments").iterdir()):
        db = seg / "meta.sqlite"
        if not db.exists():
            continue
        con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
        rows = con.execute(
            "SELECT r.name, s.path, b.blob_id, b.language FROM sources s "
            "JOIN repos r ON r.repo_id = s.repo_id JOIN blobs b ON b.local = s.blob_local"
        ).fetchall()
        con.close()
        out += [Indexed(*row) for row in rows]
    return out


def squash(text: str) -> str:
    """Text without white space (identical copies modulo layout compare equal)."""
    return "".join(text.split())


def _line_key(line: str) -> str:
    return hashlib.blake2b(squash(line).encode(), digest_size=8).hexdigest()


class CopyFinder:
    """Finds every file that holds a fragment verbatim (modulo white space): the truth of
    a query is any identical copy, and a negative found in the corpus is no negative."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files  # blob_id -> content
        self._squashed: dict[str, str] = {}

    def find_all(self, fragments: dict[str, str]) -> dict[str, set[str]]:
        """fragment id -> blob_ids holding it."""
        anchors: dict[str, str] = {}
        for fid, text in fragments.items():
            lines = [ln for ln in text.splitlines() if len(squash(ln)) >= 8]
            if lines:
                anchors[fid] = _line_key(max(lines, key=lambda s: len(squash(s))))
        wanted = set(anchors.values())
        holders: dict[str, set[str]] = {k: set() for k in wanted}
        for blob, content in self.files.items():
            for line in content.splitlines():
                if len(line) >= 8:
                    key = _line_key(line)
                    if key in wanted:
                        holders[key].add(blob)
        out: dict[str, set[str]] = {}
        for fid, text in fragments.items():
            needle = squash(text)
            cands = holders.get(anchors.get(fid, ""), set())
            out[fid] = {b for b in cands if needle in self._squash(b)}
        return out

    def _squash(self, blob: str) -> str:
        s = self._squashed.get(blob)
        if s is None:
            s = self._squashed[blob] = squash(self.files[blob])
        return s
