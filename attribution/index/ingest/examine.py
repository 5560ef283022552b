"""The shared last stage: turn one candidate file into a SourceFile or a Skipped."""

from __future__ import annotations

import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from attribution.core.languages import (
    UnknownLanguageError,
    language_for_path,
    language_for_shebang,
    normalize_language,
)

from .filters import content_problem, vendored_dir
from .records import IngestLimits, Repository, Skipped, SourceFile

SHEBANG_BYTES = 256
# What reading a damaged file, member or stream can raise.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    zlib.error,
    tarfile.TarError,
    zipfile.BadZipFile,
    NotImplementedError,  # zip compression method we cannot read
    RuntimeError,  # encrypted zip member
)

Reader = Callable[[int], bytes]  # returns the first n bytes of a file (fewer at its end)


class PrefixReader:
    """Reads a stream at most once, keeping the longest prefix asked for."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buf = bytearray()
        self._eof = False

    def __call__(self, n: int) -> bytes:
        while len(self._buf) < n and not self._eof:
            chunk = self._stream.read(n - len(self._buf))
            if not chunk:
                self._eof = True
            self._buf += chunk
        return bytes(self._buf[:n])


def bytes_reader(data: bytes) -> Reader:
    """A Reader over bytes already in memory."""
    return lambda n: data[:n]


@dataclass
class Context:
    """Where candidates come from (the SOURCE argument) and the limits in force."""

    source: str
    limits: IngestLimits
    header_language: str = "c"  # language of `.h` files (see HeaderVote)
    _vendored: set[str] = field(default_factory=set)

    def skip(self, where: str, reason: str, detail: str) -> Skipped:
        """A Skipped for this source."""
        return Skipped(self.source, where, reason, detail)

    def vendored(self, path: str, where_prefix: str) -> Skipped | None:
        """For a path in a vendored directory: a Skipped the first time, None after."""
        directory = vendored_dir(path)
        if directory is None or where_prefix + directory in self._vendored:
            return None
        self._vendored.add(where_prefix + directory)
        name = directory.rsplit("/", 1)[-1]
        return self.skip(f"{where_prefix}{directory}", "vendored", f"vendored directory {name}/")


class HeaderVote:
    """Decides the language of `.h` files: C++ when a repository has C++ but no C sources."""

    def __init__(self) -> None:
        self._c = self._cpp = False

    def add(self, path: str) -> None:
        """Count one file name of the repository."""
        language = language_for_path(path)
        if language == "cpp":
            self._cpp = True
        elif language == "c" and not path.endswith(".h"):
            self._c = True

    @property
    def language(self) -> str:
        """ "cpp" or "c"."""
        return "cpp" if self._cpp and not self._c else "c"


@dataclass(frozen=True)
class Declared:
    """Per-file facts a table declares."""

    license: tuple[str, ...] | None = None
    authors: tuple[str, ...] | None = None
    language_hint: str | None = None


NOTHING_DECLARED = Declared()


def examine(
    ctx: Context,
    repo: Repository,
    path: str,
    where: str,
    size: int | None,
    read: Reader,
    declared: Declared = NOTHING_DECLARED,
) -> SourceFile | Skipped:
    """Apply language, size and content filters to one file of a repository."""
    try:
        language = _language(path, read, declared.language_hint, ctx.header_language)
        if language is None:
            return ctx.skip(where, "not_source", "no known programming language for this file")
        limit = ctx.limits.max_file_bytes
        if size is not None and size > limit:
            return ctx.skip(where, "too_large", f"{size} bytes > max_file_bytes={limit}")
        data = read(limit + 1)
    except READ_ERRORS as e:
        return ctx.skip(where, "unreadable", f"cannot read: {one_line(e)}")
    if len(data) > limit:
        return ctx.skip(where, "too_large", f"more than max_file_bytes={limit} bytes")
    problem = content_problem(path, data)
    if problem:
        return ctx.skip(where, *problem)
    return SourceFile(repo, path, data, language, declared.license, declared.authors)


def _language(path: str, read: Reader, hint: str | None, header_language: str) -> str | None:
    language = language_for_path(path)
    if language == "c" and path.endswith(".h"):
        return "cpp" if _hinted(hint) == "cpp" else header_language
    if language:
        return language
    return language_for_shebang(read(SHEBANG_BYTES)) or _hinted(hint)


def _hinted(hint: str | None) -> str | None:
    if not hint:
        return None
    try:
        return normalize_language(hint)
    except UnknownLanguageError:
        return None


def one_line(error: BaseException | str) -> str:
    """An exception (or text) as one short line for a Skipped detail."""
    text = (str(error).strip() or type(error).__name__).splitlines()[0]
    return text if len(text) <= 300 else text[:297] + "..."
