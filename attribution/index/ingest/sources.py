"""read_sources: any SOURCE on disk (directory, archive, git repository, table) as a stream."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator

from .archive import read_archive
from .directory import looks_like_repository, read_directory
from .examine import one_line
from .filters import IGNORED_DIRS, VENDORED_DIRS
from .gitrepo import is_git_repository, read_git
from .naming import ARCHIVE_SUFFIXES, suffix_of
from .records import DEFAULT_LIMITS, IngestLimits, Skipped, SourceFile
from .table import read_jsonl, read_parquet

Items = Iterator[SourceFile | Skipped]
FileReader = Callable[[str, str, IngestLimits], Items]


def read_sources(spec: str, limits: IngestLimits = DEFAULT_LIMITS) -> Items:
    """Yield every file of a SOURCE, or a Skipped naming why it was left out."""
    try:
        info = os.stat(spec)
    except OSError as e:
        yield Skipped(spec, spec, "unreadable", f"cannot read source: {one_line(e)}")
        return
    if stat.S_ISDIR(info.st_mode):
        yield from _guarded(spec, spec, _read_dir(spec, spec, limits, None))
        return
    reader = file_reader(spec) if stat.S_ISREG(info.st_mode) else None
    if reader is None:
        detail = "not a directory, git repository, archive (.tar.gz/.tgz/.tar/.zip) or table"
        yield Skipped(spec, spec, "not_source", f"{detail} (.parquet/.jsonl/.jsonl.gz)")
        return
    yield from _guarded(spec, spec, reader(spec, spec, limits))


def file_reader(path: str) -> FileReader | None:
    """The reader for an archive or table file, by its name; None for other files."""
    if suffix_of(path, ARCHIVE_SUFFIXES):
        return read_archive
    if suffix_of(path, (".parquet",)):
        return read_parquet
    if suffix_of(path, (".jsonl", ".jsonl.gz")):
        return read_jsonl
    return None


def _read_dir(source: str, path: str, limits: IngestLimits, name: str | None) -> Items:
    """A git repository, a directory that is one repository, or a directory of them."""
    if is_git_repository(path):
        return read_git(source, path, limits, name)
    if looks_like_repository(path):
        return read_directory(source, path, limits, name)
    return _read_collection(source, path, limits, f"{name}/" if name else "")


def _read_collection(source: str, path: str, limits: IngestLimits, prefix: str) -> Items:
    """Each entry of a directory of repositories, archives and tables as its own source."""
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        yield Skipped(source, path, "unreadable", f"cannot list directory: {one_line(e)}")
        return
    for entry in entries:
        if entry.name not in IGNORED_DIRS:
            yield from _guarded(
                source, entry.path, _collection_entry(source, entry, limits, prefix)
            )


def _collection_entry(
    source: str, entry: os.DirEntry[str], limits: IngestLimits, prefix: str
) -> Items:
    try:
        if entry.is_symlink():
            yield Skipped(source, entry.path, "symlink", "symbolic link is not followed")
        elif entry.is_dir(follow_symlinks=False) and entry.name in VENDORED_DIRS:
            yield Skipped(source, entry.path, "vendored", f"vendored directory {entry.name}/")
        elif entry.is_dir(follow_symlinks=False):
            yield from _read_dir(source, entry.path, limits, prefix + entry.name)
        elif entry.is_file(follow_symlinks=False):
            reader = file_reader(entry.name)
            if reader is None:
                detail = "not a repository, archive or table in a directory of repositories"
                yield Skipped(source, entry.path, "not_source", detail)
            else:
                yield from reader(source, entry.path, limits)
        else:
            yield Skipped(source, entry.path, "symlink", "special file (device, fifo or socket)")
    except OSError as e:
        yield Skipped(source, entry.path, "unreadable", one_line(e))


def _guarded(source: str, path: str, items: Items) -> Items:
    """Pass items through; an unexpected error ends this source with one Skipped."""
    try:
        yield from items
    except Exception as e:  # one bad source must not end the build
        detail = f"unexpected error: {type(e).__name__}: {one_line(e)}"
        yield Skipped(source, path, "unreadable", detail)
