"""What every command shares: exit codes, the errors users see as one line, the index."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from attribution.core.config import ConfigError
from attribution.core.languages import UnknownLanguageError
from attribution.core.policy import PolicyError
from attribution.core.search import QueryError
from attribution.index.format import IndexFormatError
from attribution.index.git import GitError
from attribution.index.optout import OptOutError
from attribution.index.writer import IndexBusyError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141  # as a shell reports SIGINT and SIGPIPE
# Errors a user can act on: one line on stderr and exit 2, never a traceback.
USER_ERRORS = (
    QueryError,
    ConfigError,
    IndexFormatError,
    IndexBusyError,
    OptOutError,
    UnknownLanguageError,
    PolicyError,
    GitError,
    OSError,
)
INDEX_HELP = "index directory ($ATTRIBUTION_INDEX or ./.attribution-index)"


def default_index() -> str:
    return os.environ.get("ATTRIBUTION_INDEX") or ".attribution-index"


def index_dir(value: str | None) -> str:
    """The index directory a command was given, else the default."""
    return value or default_index()


def read_query(name: str) -> bytes:
    """The bytes of FILE, or of stdin for `-`."""
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def error_line(err: BaseException) -> str:
    """One line naming the problem."""
    if isinstance(err, OSError) and err.filename and not isinstance(err, GitError):
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split()) or type(err).__name__


def fail(message: str) -> int:
    """Print one error line; the exit code of a usage or input error."""
    print(f"attribution: error: {message}", file=sys.stderr)
    return EXIT_ERROR
