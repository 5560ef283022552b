"""A directory on disk read as one repository (symlinks never followed).

Skipped paths are file system paths under the directory.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from attribution.core.languages import language_for_path

from .examine import Context, HeaderVote, PrefixReader, examine, one_line
from .filters import IGNORED_DIRS, VENDORED_DIRS, VIRTUALENV_DIRS, is_metadata_file
from .metadata import decode_text, repository_url
from .naming import is_utf8
from .records import METADATA_CAP, IngestLimits, Repository, Skipped, SourceFile

_REPOSITORY_MARKERS = ("setup.py",)
# Top-level directories that only a repository has (package metadata, license folders).
_REPOSITORY_DIRS = ("debian", "LICENSES", ".reuse")
_REPOSITORY_DIR_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class Entry:
    """What a walk found: a file, or something to report instead of reading."""

    kind: str  # "file", or a skip reason: "symlink", "vendored", "unreadable", "unsafe_path"
    rel: str  # '/'-separated path under the walked directory
    full: str  # file system path
    size: int = 0
    detail: str = ""


def looks_like_repository(path: str) -> bool:
    """True when a directory's top level holds a metadata, README or source file
    (or a metadata directory such as `debian/` or `*.dist-info/`)."""
    try:
        with os.scandir(path) as it:
            return any(_marks_repository(entry) for entry in it)
    except OSError:
        return False


def _marks_repository(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if entry.is_dir():
        return name in _REPOSITORY_DIRS or name.endswith(_REPOSITORY_DIR_SUFFIXES)
    if name in _REPOSITORY_MARKERS or name.upper().startswith("README"):
        return True
    return is_metadata_file(name) or language_for_path(name) is not None


def walk(root: str) -> Iterator[Entry]:
    """Every file under root in sorted order, and what cannot or should not be read."""
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        full_dir = os.path.join(root, rel_dir) if rel_dir else root
        try:
            with os.scandir(full_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as e:
            yield Entry("unreadable", rel_dir, full_dir, detail=f"cannot list: {one_line(e)}")
            continue
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            found = _look_at(entry, rel)
            if found is not None and found.kind == "dir":
                subdirs.append(rel)
            elif found is not None:
                yield found
        stack.extend(reversed(subdirs))


def _look_at(entry: os.DirEntry[str], rel: str) -> Entry | None:
    full = entry.path
    if not is_utf8(entry.name):
        shown = full.encode("utf-8", "replace").decode("utf-8")
        return Entry("unsafe_path", rel, shown, detail="file name is not valid UTF-8")
    try:
        if entry.is_symlink():
            return Entry("symlink", rel, full, detail=f"symbolic link -> {os.readlink(full)}")
        if entry.is_dir(follow_symlinks=False):
            return _look_at_dir(entry, rel)
        info = entry.stat(follow_symlinks=False)
    except OSError as e:
        return Entry("unreadable", rel, full, detail=one_line(e))
    if not stat.S_ISREG(info.st_mode):
        return Entry("symlink", rel, full, detail="special file (device, fifo or socket)")
    return Entry("file", rel, full, size=info.st_size)


def _look_at_dir(entry: os.DirEntry[str], rel: str) -> Entry | None:
    name = entry.name
    if name in IGNORED_DIRS:
        return None
    if name in VIRTUALENV_DIRS and os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
        return None
    if name in VENDORED_DIRS:
        return Entry("vendored", rel, entry.path, detail=f"vendored directory {name}/")
    return Entry("dir", rel, entry.path)


def open_regular(path: str) -> IO[bytes]:
    """Open a regular file for reading without following a symlink or blocking on a fifo."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {path}")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_directory(
    source: str, path: str, limits: IngestLimits, name: str | None = None
) -> Iterator[SourceFile | Skipped]:
    """Yield the files under a directory as one repository named after it."""
    ctx = Context(source, limits)
    metadata, ctx.header_language = _survey(path)
    repo_name = name or os.path.basename(os.path.abspath(path))
    repo = Repository(repo_name, repository_url(metadata), metadata)
    for entry in walk(path):
        if entry.kind != "file":
            yield ctx.skip(entry.full, entry.kind, entry.detail)
        elif not is_metadata_file(entry.rel):
            yield _read_file(ctx, repo, entry)


def _survey(path: str) -> tuple[dict[str, str], str]:
    """Pass one: metadata files and the language of `.h` files."""
    metadata = {}
    votes = HeaderVote()
    for entry in walk(path):
        votes.add(entry.rel)
        if entry.kind == "file" and is_metadata_file(entry.rel):
            try:
                with open_regular(entry.full) as f:
                    text = decode_text(f.read(METADATA_CAP + 1))
            except OSError:
                continue  # best effort: a file that cannot be read is not metadata
            if text is not None:
                metadata[entry.rel] = text
    return metadata, votes.language


def _read_file(ctx: Context, repo: Repository, entry: Entry) -> SourceFile | Skipped:
    try:
        stream = open_regular(entry.full)
    except OSError as e:
        return ctx.skip(entry.full, "unreadable", f"cannot open: {one_line(e)}")
    with stream:
        return examine(ctx, repo, entry.rel, entry.full, entry.size, PrefixReader(stream))
