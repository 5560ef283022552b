"""What a file's path says about whose code it is: the one notion of vendored code.

A vendored directory holds someone else's code copied into a repository. The notion
serves the whole engine: answers rank a vendored copy after the original
(search.authority), a removal by repository or author does not follow the repository's
vendored files to their copies elsewhere (index/maintain.py, index/optout.py), and
ingest skips the subset that package managers fill (INSTALLED_DIRS).
"""

from __future__ import annotations

from collections.abc import Callable

# Names of vendored directories, compared lower-cased and without leading or trailing
# underscores (`_vendor`, `__deps__`); a name containing "vendor" is one too (`vendored`,
# `Vendors`, `govendor`).
VENDORED_DIRS = frozenset(
    {
        "vendor",
        "node_modules",
        "bower_components",
        "jspm_packages",
        "third_party",
        "third-party",
        "thirdparty",
        "external",
        "extern",
        "deps",
    }
)

# The vendored directories package managers fill (npm, Bower, jspm; Go modules and
# Composer write `vendor`), matched by the exact name the tool gives them. Ingest skips
# them: what they hold are installed copies of packages published, and indexed, from their
# own sources. Code copied in by hand (third_party/, external/, deps/, pip's _vendor/) is
# indexed, since it may be the only copy of that code in the index, and ranked after the
# original.
INSTALLED_DIRS = frozenset({"node_modules", "bower_components", "jspm_packages", "vendor"})


def is_vendored_name(name: str) -> bool:
    """True when a directory of this name holds vendored code."""
    name = name.lower()
    return name.strip("_") in VENDORED_DIRS or "vendor" in name


def vendored_dir(path: str) -> str | None:
    """The leading part of a '/'-separated path up to its first vendored directory, or
    None (the file name itself never counts)."""
    return _first_dir(path, is_vendored_name)


def installed_dir(path: str) -> str | None:
    """The leading part of a path up to its first package-manager directory
    (INSTALLED_DIRS, a subset of the vendored ones), or None."""
    return _first_dir(path, INSTALLED_DIRS.__contains__)


def _first_dir(path: str, wanted: Callable[[str], bool]) -> str | None:
    parts = path.split("/")
    for i, part in enumerate(parts[:-1]):
        if wanted(part):
            return "/".join(parts[: i + 1])
    return None
