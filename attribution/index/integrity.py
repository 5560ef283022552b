"""Integrity of segment files: sizes and checksums recorded when a segment is written,
cheap checks when it is opened, and every byte checked by `index verify`.

A segment's SEGMENT.json holds `"files": {name: {"size": bytes, ALGORITHM: hex, ...}}`
for every other file of the segment (FORMAT.md, "Integrity"), each checksum named by its
algorithm: `xxh3_128` (xxHash; checked when present: the at-open check of meta.sqlite
had to be cheap) and `blake2b` (16-byte BLAKE2b: segments written before xxh3 have only
it, and it is still written so that older versions of this code read new segments).
Segments written before the table have none and are opened without the size checks.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from tokenize import TokenError
from typing import Any, Literal

import numpy as np
import xxhash

from attribution.index.format import SEGMENT_FILE, IndexFormatError

CHUNK = 1 << 20
OPTIONAL = ("names_hash.npy", "names_df.npy")
SQLITE_MAGIC = b"SQLite format 3\x00"
NPY_MAGIC = b"\x93NUMPY"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# meta.sqlite is hashed whole on open up to this size: SQLite opened immutable checks
# nothing, and a flipped byte in a license or path would be answered as if it were right
META_HASH_AT_OPEN = 64 << 20
ALGORITHMS = ("xxh3_128", "blake2b")  # those a table may hold, the one checked first


def repair_hint(root: Path | str) -> str:
    return (
        f"run 'attribution index verify --deep --index {root}' to name every damaged "
        f"file, then 'attribution index repair --index {root}' to drop the damaged "
        f"segments (or rebuild the index from its sources)"
    )


def damaged(path: Path, why: str) -> IndexFormatError:
    """The error of a damaged index file: one line naming it and the repair."""
    root = _index_root(path)
    return IndexFormatError(f"damaged index file {path}: {why}; {repair_hint(root)}")


def _index_root(path: Path) -> Path:
    for parent in path.parents:
        if (parent / "MANIFEST.json").exists():
            return parent
    return path.parent


def load_array(path: Path, mmap_mode: Literal["r"] | None = "r") -> np.ndarray:
    """An .npy file, never pickled; any damage is IndexFormatError naming the file."""
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except (OSError, ValueError, EOFError, SyntaxError, TokenError) as err:
        raise damaged(path, " ".join(str(err).split()) or type(err).__name__) from None


def file_hashes(path: Path, algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, str]:
    """Hex checksums of a file's bytes, in one read. Read, not memory-mapped: a file cut
    short while it is read is then an error, never a SIGBUS."""
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        raise ValueError(f"unknown checksum algorithm {unknown[0]!r}; known: {ALGORITHMS}")
    hs = {a: xxhash.xxh3_128() if a == "xxh3_128" else hashlib.blake2b(digest_size=16)
          for a in algorithms}  # fmt: skip
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            for h in hs.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hs.items()}


def file_hash(path: Path, algorithm: str = "xxh3_128") -> str:
    return file_hashes(path, (algorithm,))[algorithm]


def recorded(entry: Any) -> tuple[str, str] | None:
    """(algorithm, hex) of a file's entry in the table (None: no checksum there)."""
    if isinstance(entry, dict):
        for algorithm in ALGORITHMS:
            if isinstance(entry.get(algorithm), str):
                return algorithm, entry[algorithm]
    return None


def sound_bytes(path: Path, entry: Any) -> bool:
    """Whether a file's bytes have the checksum its entry records."""
    found = recorded(entry)
    return found is not None and file_hash(path, found[0]) == found[1]


def seal(seg_dir: Path) -> dict[str, dict[str, Any]]:
    """Make every file of a finished segment durable (fsync) and record its size and
    checksum: the table SEGMENT.json holds."""
    table = {}
    for path in sorted(seg_dir.iterdir()):
        if path.name == SEGMENT_FILE or not path.is_file():
            continue
        with open(path, "rb") as f:
            os.fsync(f.fileno())
        table[path.name] = {"size": path.stat().st_size, **file_hashes(path)}
    return table


def info_checksum(info: dict[str, Any]) -> str:
    """The checksum SEGMENT.json holds of its own other fields."""
    rest = {k: v for k, v in info.items() if k != "checksum"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def check_table(seg_dir: Path, info: dict[str, Any]) -> None:
    """On open: SEGMENT.json's own checksum, every recorded file present with its size,
    and the headers right."""
    files = info.get("files")
    if files is None:
        return  # written before checksums
    if "checksum" in info and info["checksum"] != info_checksum(info):
        raise damaged(seg_dir / SEGMENT_FILE, "its checksum differs from the one written")
    if not isinstance(files, dict):
        raise damaged(seg_dir / SEGMENT_FILE, '"files" is not an object')
    for name, entry in files.items():
        path = seg_dir / name
        if name in OPTIONAL and not any((seg_dir / n).exists() for n in OPTIONAL):
            continue  # optional files, absent together as in segments written before them
        try:
            size = path.stat().st_size
        except OSError:
            raise damaged(path, "the file is missing") from None
        if not isinstance(entry, dict) or entry.get("size") != size:
            want = entry.get("size") if isinstance(entry, dict) else None
            raise damaged(path, f"{size:,} bytes where {want} were written")
    _check_headers(seg_dir, files)


def _check_headers(seg_dir: Path, files: dict[str, Any]) -> None:
    for name in files:
        magic = {".sqlite": SQLITE_MAGIC, ".npy": NPY_MAGIC}.get(Path(name).suffix)
        if name.endswith(".bin") and files[name].get("size"):
            magic = ZSTD_MAGIC  # every record is a zstd frame: the first one starts the file
        if magic is None or not (seg_dir / name).exists():  # absent: optional (check_table)
            continue
        with open(seg_dir / name, "rb") as f:
            head = f.read(len(magic))
        if head != magic:
            raise damaged(seg_dir / name, "its header is not that of its kind of file")
    meta = files.get("meta.sqlite")
    if not isinstance(meta, dict) or meta.get("size", 0) > META_HASH_AT_OPEN:
        return
    if not sound_bytes(seg_dir / "meta.sqlite", meta):
        raise damaged(seg_dir / "meta.sqlite", "its checksum differs from the one written")


def verify_files(seg_dir: Path, info: dict[str, Any]) -> list[str]:
    """Every byte of a segment against its table: a line per damaged file."""
    files = info.get("files")
    if not isinstance(files, dict):
        return []
    problems = []
    for name, entry in sorted(files.items()):
        path = seg_dir / name
        if name in OPTIONAL and not any((seg_dir / n).exists() for n in OPTIONAL):
            continue
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif not isinstance(entry, dict) or path.stat().st_size != entry.get("size"):
            problems.append(f"{path}: {path.stat().st_size:,} bytes, not {entry.get('size')}")
        elif recorded(entry) is None:
            problems.append(f"{path}: no checksum of a known kind recorded ({ALGORITHMS})")
        elif not sound_bytes(path, entry):
            problems.append(f"{path}: checksum differs (bytes changed)")
    return problems
