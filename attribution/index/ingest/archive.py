"""Archives (.tar.gz/.tgz/.tar.bz2/.tar.xz/.tar.zst/.tar/.zip) read in memory, in two
bounded passes.

Pass one learns the shared root directory and the license/metadata files, so the
Repository is complete before pass two yields its first SourceFile. Nothing is ever
extracted to disk. Skipped paths are `<archive>/<path in the repository>`.

Every byte comes out of a decompressor that stops at the archive's byte budget
(max_archive_bytes) and its expansion ratio (max_ratio), as it decompresses
(`bounded.py`): a tar stream past either is left at once, counted as skipped with
reason `limit`; a zip member past them is skipped alone. Archives inside an archive
are not opened (skipped as `not_source`).
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import IO

from .bounded import ExpansionLimit, bound_stream, buffered, open_decompressed
from .examine import READ_ERRORS, Context, HeaderVote, PrefixReader, examine, one_line
from .filters import ignored_dir, is_metadata_file, vendored_dir
from .metadata import decode_text, repository_url
from .naming import (
    ARCHIVE_SUFFIXES,
    TAR_SUFFIXES,
    RootFinder,
    archive_repo_name,
    clean_member_path,
    suffix_of,
)
from .records import METADATA_CAP, IngestLimits, Repository, Skipped, SourceFile

RATIO_MIN_BYTES = 64 * 1024  # smaller members cannot expand enough to matter
TAR_SLACK = 1 << 20
# Members that are archives or compressed files themselves: never opened.
NESTED_SUFFIXES = (*ARCHIVE_SUFFIXES, ".gz", ".bz2", ".xz", ".zst", ".lzma", ".7z", ".rar")


@dataclass(frozen=True)
class Member:
    """One archive entry, whatever the archive format."""

    name: str  # as stored in the archive
    kind: str  # "file", "dir", "link" or "special"
    size: int  # uncompressed bytes
    packed: int | None = None  # compressed bytes, when the format says (zip)
    target: str = ""  # link target


Opener = Callable[[], IO[bytes] | None]
Members = Iterator[tuple[Member, Opener]]
Backend = Callable[[str, IngestLimits], AbstractContextManager[Members]]


def read_archive(
    source: str, path: str, limits: IngestLimits, name: str | None = None
) -> Iterator[SourceFile | Skipped]:
    """Yield the files of one archive as one repository (named by `archive_repo_name`)."""
    ctx = Context(source, limits)
    backend = _tar_members if suffix_of(path, TAR_SUFFIXES) else _zip_members
    try:
        survey = _survey(backend, path, limits)
    except ExpansionLimit as e:
        yield ctx.skip(path, "limit", f"stopped reading the archive: {one_line(e)}")
        return
    except READ_ERRORS as e:
        yield ctx.skip(path, "unreadable", f"corrupt or unreadable archive: {one_line(e)}")
        return
    metadata = survey.metadata
    repo = Repository(name or archive_repo_name(path), repository_url(metadata), metadata)
    ctx.header_language = survey.header_language
    try:
        yield from _sources(ctx, backend, path, survey.root, repo)
    except ExpansionLimit as e:
        yield ctx.skip(path, "limit", f"stopped reading the archive: {one_line(e)}")
    except READ_ERRORS as e:
        yield ctx.skip(path, "unreadable", f"archive broken while reading: {one_line(e)}")


class _Budget:
    """Counts members and uncompressed bytes against the archive limits."""

    def __init__(self, limits: IngestLimits) -> None:
        self._limits = limits
        self._members = 0
        self._bytes = 0

    def spend(self, member: Member) -> str | None:
        """Account for one member; the exceeded limit as text, or None."""
        self._members += 1
        self._bytes += member.size
        if self._members > self._limits.max_archive_members:
            return f"more than max_archive_members={self._limits.max_archive_members} members"
        if self._bytes > self._limits.max_archive_bytes:
            return f"more than max_archive_bytes={self._limits.max_archive_bytes} bytes"
        return None


@dataclass(frozen=True)
class _Survey:
    root: str | None
    metadata: dict[str, str]
    header_language: str


def _survey(backend: Backend, path: str, limits: IngestLimits) -> _Survey:
    """Pass one: the shared root directory and the metadata files (by final path)."""
    roots, votes = RootFinder(), HeaderVote()
    budget = _Budget(limits)
    candidates: dict[str, str] = {}
    with backend(path, limits) as members:
        for member, opener in members:
            if budget.spend(member):
                break
            clean, _ = clean_member_path(member.name)
            if clean is None:
                continue
            roots.add(clean, member.kind == "dir")
            votes.add(clean)
            if member.kind == "file" and _maybe_metadata(clean):
                text = _read_text(opener)
                if text is not None:
                    candidates[clean] = text
    root = roots.root
    metadata = {}
    for clean, text in candidates.items():
        rel = _strip_root(clean, root)
        if rel and is_metadata_file(rel) and not vendored_dir(rel) and not ignored_dir(rel):
            metadata[rel] = text
    return _Survey(root, metadata, votes.language)


def _maybe_metadata(clean: str) -> bool:
    return is_metadata_file(clean) or is_metadata_file(clean.partition("/")[2])


def _read_text(opener: Opener) -> str | None:
    try:
        stream = opener()
        if stream is None:
            return None
        with stream:
            data = stream.read(METADATA_CAP + 1)
    except READ_ERRORS:
        return None
    return decode_text(data)


def _strip_root(clean: str, root: str | None) -> str:
    if root is None:
        return clean
    return clean[len(root) + 1 :] if clean.startswith(root + "/") else ""


def _sources(
    ctx: Context, backend: Backend, path: str, root: str | None, repo: Repository
) -> Iterator[SourceFile | Skipped]:
    """Pass two: every member as a SourceFile or a Skipped, within the limits."""
    budget = _Budget(ctx.limits)
    with backend(path, ctx.limits) as members:
        for member, opener in members:
            exceeded = budget.spend(member)
            if exceeded:
                yield ctx.skip(path, "limit", f"stopped reading the archive: {exceeded}")
                return
            item = _member_item(ctx, repo, path, root, member, opener)
            if item is not None:
                yield item


def _member_item(
    ctx: Context, repo: Repository, archive: str, root: str | None, member: Member, opener: Opener
) -> SourceFile | Skipped | None:
    if member.kind == "dir":
        return None
    clean, why = clean_member_path(member.name)
    if clean is None:
        return ctx.skip(f"{archive}/{member.name}", "unsafe_path", f"{why}: {member.name!r}")
    rel = _strip_root(clean, root)
    if not rel or ignored_dir(rel):
        return None
    where = f"{archive}/{rel}"
    if member.kind != "file":
        target = f" -> {member.target}" if member.target else ""
        return ctx.skip(where, "symlink", f"{member.kind} member{target} is not read")
    if vendored_dir(rel):
        return ctx.vendored(rel, f"{archive}/")
    if is_metadata_file(rel):
        return None
    if suffix_of(rel, NESTED_SUFFIXES):
        return ctx.skip(where, "not_source", "an archive inside an archive is not opened")
    return _read_member(ctx, repo, rel, where, member, opener)


def _read_member(
    ctx: Context, repo: Repository, rel: str, where: str, member: Member, opener: Opener
) -> SourceFile | Skipped:
    ratio = ctx.limits.max_ratio
    if _is_bomb(member, ratio):
        detail = f"expands {member.packed} -> {member.size} bytes (over max_ratio={ratio})"
        return ctx.skip(where, "limit", detail)
    try:
        stream = opener()
    except READ_ERRORS as e:
        return ctx.skip(where, "unreadable", f"cannot open member: {one_line(e)}")
    if stream is None:
        return ctx.skip(where, "unreadable", "member has no data")
    with stream:
        try:
            return examine(ctx, repo, rel, where, member.size, PrefixReader(stream))
        except ExpansionLimit as e:
            if member.packed is None:
                raise  # the tar stream itself: the archive ends here
            return ctx.skip(where, "limit", one_line(e))


def _is_bomb(member: Member, ratio: int) -> bool:
    """True when a member expands more than `ratio` times its compressed size."""
    if member.packed is None or member.size <= RATIO_MIN_BYTES:
        return False
    return member.size > max(member.packed, 1) * ratio


@contextmanager
def _tar_members(path: str, limits: IngestLimits) -> Iterator[Members]:
    with (
        open_decompressed(path, _stream_budget(limits), limits.max_ratio) as stream,
        tarfile.open(fileobj=buffered(stream), mode="r|") as tf,
    ):
        yield _iter_tar(tf)


def _stream_budget(limits: IngestLimits) -> int:
    """Bytes of a whole tar stream: its members' budget, plus room for headers and padding
    (512-byte blocks: small files can take more room in a tar than their content)."""
    return 2 * limits.max_archive_bytes + TAR_SLACK


def _iter_tar(tf: tarfile.TarFile) -> Members:
    while (info := tf.next()) is not None:
        yield _tar_member(info), lambda info=info: tf.extractfile(info)  # type: ignore[misc]
        # A stream is read once: drop the TarInfo list tarfile keeps, so memory stays flat.
        tf.members.clear()  # type: ignore[attr-defined]


def _tar_member(info: tarfile.TarInfo) -> Member:
    if info.isreg():
        return Member(info.name, "file", info.size)
    if info.isdir():
        return Member(info.name, "dir", 0)
    if info.issym() or info.islnk():
        return Member(info.name, "link", 0, target=info.linkname)
    return Member(info.name, "special", 0)


@contextmanager
def _zip_members(path: str, limits: IngestLimits) -> Iterator[Members]:
    budget = max(limits.max_file_bytes, METADATA_CAP) + 1  # no member is read further

    def opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Opener:
        def open_member() -> IO[bytes]:
            stream = bound_stream(zf.open(info), info.compress_size, budget, limits.max_ratio)
            return buffered(stream)

        return open_member

    with zipfile.ZipFile(path) as zf:
        yield ((_zip_member(i), opener(zf, i)) for i in zf.infolist())


def _zip_member(info: zipfile.ZipInfo) -> Member:
    mode = info.external_attr >> 16
    if info.is_dir() or stat.S_ISDIR(mode):
        return Member(info.filename, "dir", 0)
    if stat.S_ISLNK(mode):
        return Member(info.filename, "link", 0)
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        return Member(info.filename, "special", 0)
    return Member(info.filename, "file", info.file_size, info.compress_size)
