"""What ingestion yields: repositories, source files, skipped files, and its limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

SKIP_REASONS = (
    "binary",
    "too_large",
    "minified",
    "generated",
    "vendored",
    "not_source",
    "empty",
    "unreadable",
    "unsafe_path",
    "symlink",
    "limit",
)

METADATA_CAP = 256 * 1024  # bytes kept of each license/metadata file


@dataclass(frozen=True)
class Repository:
    """A repository or package: its name, URL and license/metadata files."""

    name: str
    url: str | None
    metadata_files: Mapping[str, str] = field(hash=False, repr=False)
    declared_license: tuple[str, ...] | None = None
    declared_authors: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.metadata_files, MappingProxyType):
            frozen = MappingProxyType(dict(self.metadata_files))
            object.__setattr__(self, "metadata_files", frozen)


@dataclass(frozen=True)
class SourceFile:
    """One file to index: where it lives, its raw bytes and its language."""

    repo: Repository
    path: str
    data: bytes = field(repr=False)
    language: str
    declared_license: tuple[str, ...] | None = None
    declared_authors: tuple[str, ...] | None = None
    git_authors: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Skipped:
    """A file (or a whole source) left out, with one of SKIP_REASONS and a human line."""

    source: str
    path: str
    reason: str
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in SKIP_REASONS:
            known = ", ".join(SKIP_REASONS)
            raise ValueError(f"unknown skip reason {self.reason!r}; known: {known}")


@dataclass(frozen=True)
class IngestLimits:
    """Bounds that keep one bad file or archive from taking the build down."""

    max_file_bytes: int = 1_000_000
    max_archive_bytes: int = 4_000_000_000
    max_archive_members: int = 2_000_000
    max_ratio: int = 200
    max_history_commits: int = 10_000  # newest commits read for authors of git sources

    def __post_init__(self) -> None:
        bad = [
            f"{name}={value!r}"
            for name, value in vars(self).items()
            if not isinstance(value, int)
            or isinstance(value, bool)
            or value < (0 if name == "max_history_commits" else 1)
        ]
        if bad:
            raise ValueError(f"ingest limits must be positive integers: {', '.join(bad)}")
        # (max_history_commits may be 0: no authors from git history)


EMPTY_METADATA: Mapping[str, str] = MappingProxyType({})
DEFAULT_LIMITS = IngestLimits()
