"""Ingestion: every SOURCE kind as one stream of files to index (or skipped, with why)."""

from .filters import (
    is_binary,
    is_generated,
    is_metadata_file,
    is_minified,
    vendored_dir,
)
from .gitrepo import GitError, git_file_authors
from .installed import read_installed
from .naming import archive_repo_name, normalize_dist_name
from .records import SKIP_REASONS, IngestLimits, Repository, Skipped, SourceFile
from .sources import read_sources

__all__ = [
    "SKIP_REASONS",
    "GitError",
    "IngestLimits",
    "Repository",
    "Skipped",
    "SourceFile",
    "archive_repo_name",
    "git_file_authors",
    "is_binary",
    "is_generated",
    "is_metadata_file",
    "is_minified",
    "normalize_dist_name",
    "read_installed",
    "read_sources",
    "vendored_dir",
]
