"""Integrity of segment files: sizes and BLAKE2b checksums recorded when a segment is
written, cheap checks when it is opened, and every byte checked by `index verify`.

A segment's SEGMENT.json holds `"files": {name: {"size": bytes, "blake2b": hex}}` for
every other file of the segment (FORMAT.md, "Integrity"). Segments written before it
have no table and are opened without the size checks.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from tokenize import TokenError
from typing import Any, Literal

import numpy as np

from attribution.index.format import SEGMENT_FILE, IndexFormatError

CHUNK = 1 << 20
OPTIONAL = ("names_hash.npy", "names_df.npy")
SQLITE_MAGIC = b"SQLite format 3\x00"
NPY_MAGIC = b"\x93NUMPY"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# meta.sqlite is hashed whole on open up to this size: SQLite opened immutable checks
# nothing, and a flipped byte in a license or path would be answered as if it were right
META_HASH_AT_OPEN = 64 << 20


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


def file_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def seal(seg_dir: Path) -> dict[str, dict[str, Any]]:
    """Make every file of a finished segment durable (fsync) and record its size and
    checksum: the table SEGMENT.json holds."""
    table = {}
    for path in sorted(seg_dir.iterdir()):
        if path.name == SEGMENT_FILE or not path.is_file():
            continue
        with open(path, "rb") as f:
            os.fsync(f.fileno())
        table[path.name] = {"size": path.stat().st_size, "blake2b": file_hash(path)}
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
    if file_hash(seg_dir / "meta.sqlite") != meta.get("blake2b"):
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
        elif file_hash(path) != entry.get("blake2b"):
            problems.append(f"{path}: checksum differs (bytes changed)")
    return problems
