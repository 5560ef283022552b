"""Scan PATHs as one stream of items: directories, git repositories (HEAD, or the files
changed since a ref), archives, single files and JSON Lines files of model outputs.

Files are read with index/ingest's readers, so a scan leaves out what a build would
(binary, minified, generated, vendored directories, symlinks) and says why.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from attribution.index import git
from attribution.index.ingest import IngestLimits, Repository, Skipped, SourceFile
from attribution.index.ingest.archive import read_archive
from attribution.index.ingest.directory import open_regular, read_directory
from attribution.index.ingest.examine import Context, PrefixReader, examine, one_line
from attribution.index.ingest.gitrepo import is_git_repository, read_git
from attribution.index.ingest.naming import ARCHIVE_SUFFIXES, suffix_of
from attribution.index.ingest.records import DEFAULT_LIMITS
from attribution.scan.jsonl import is_jsonl, read_outputs
from attribution.scan.records import Problem, ScanItem

OWN_DIRS = (".attribution-cache", ".attribution-index")  # never scanned
Items = Iterator[ScanItem | Problem]


class ScanInputError(ValueError):
    """A PATH or option that cannot be scanned at all (exit code 2)."""


@dataclass(frozen=True)
class Inputs:
    """What to scan: PATHs, an optional git ref, limits and paths to leave out."""

    paths: tuple[str, ...]
    since: str | None = None
    limits: IngestLimits = DEFAULT_LIMITS
    ignore: Callable[[str], bool] = lambda rel: False


def check_paths(paths: list[str], since: str | None) -> None:
    """Refuse missing PATHs, and --since without a git repository, before any work."""
    for path in paths:
        if not os.path.lexists(path):
            raise ScanInputError(f"no such file or directory: {path}")
    if since and not any(os.path.isdir(p) and is_git_repository(p) for p in paths):
        raise ScanInputError(f"--since {since} needs a git repository among the PATHs")


def read_inputs(inputs: Inputs) -> Items:
    """Every item of every PATH, in order; ignored paths are counted as `ignored`."""
    for path in inputs.paths:
        yield from _read_path(path, inputs)


def _read_path(path: str, inputs: Inputs) -> Items:
    real = os.path.realpath(path)
    try:
        mode = os.stat(real).st_mode
    except OSError as err:
        yield Problem(path, "unreadable", f"cannot read: {one_line(err)}")
        return
    if stat.S_ISDIR(mode):
        yield from _read_tree(path, inputs)
    elif is_jsonl(path):
        yield from read_outputs(path)
    elif suffix_of(path, ARCHIVE_SUFFIXES):
        items = read_archive(path, path, inputs.limits)
        yield from _converted(items, lambda rel: f"{path}/{rel}", inputs)
    elif stat.S_ISREG(mode):
        yield _read_single(path, real, inputs.limits)
    else:
        yield Problem(path, "symlink", "special file (device, fifo or socket)")


def _read_tree(path: str, inputs: Inputs) -> Items:
    name = os.path.basename(os.path.abspath(path))
    if is_git_repository(path):
        changed = changed_paths(path, inputs.since) if inputs.since else None
        items = read_git(path, path, inputs.limits, name)
        keep = None if changed is None else changed.__contains__
        yield from _converted(items, lambda rel: _join(path, rel), inputs, keep)
    else:
        items = read_directory(path, path, inputs.limits, name)
        yield from _converted(items, lambda rel: _join(path, rel), inputs)


def _join(root: str, rel: str) -> str:
    return os.path.normpath(os.path.join(root, rel))


def _converted(
    items: Iterator[SourceFile | Skipped],
    shown: Callable[[str], str],
    inputs: Inputs,
    keep: Callable[[str], bool] | None = None,
) -> Items:
    for item in items:
        if isinstance(item, Skipped):
            if not any(f"/{d}/" in f"/{item.path}/" for d in OWN_DIRS):
                yield Problem(item.path, item.reason, item.detail)
            continue
        rel = item.path
        if keep is not None and not keep(rel):
            continue
        if any(f"/{d}/" in f"/{rel}" for d in OWN_DIRS):
            continue
        if inputs.ignore(rel):
            yield Problem(shown(rel), "ignored", "ignored by the policy")
            continue
        yield ScanItem(shown(rel), rel, item.data, item.language, rel)


def _read_single(path: str, real: str, limits: IngestLimits) -> ScanItem | Problem:
    ctx = Context(path, limits)
    repo = Repository(os.path.basename(path), None, {})
    try:
        stream = open_regular(real)
    except OSError as err:
        return Problem(path, "unreadable", f"cannot open: {one_line(err)}")
    with stream:
        size = os.fstat(stream.fileno()).st_size
        item = examine(ctx, repo, os.path.basename(path), path, size, PrefixReader(stream))
    if isinstance(item, Skipped):
        return Problem(item.path, item.reason, item.detail)
    return ScanItem(path, item.path, item.data, item.language, item.path)


def changed_paths(repo_dir: str, ref: str) -> set[str]:
    """Paths added, copied, modified or renamed between `ref` and HEAD."""
    args = ("diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", ref, "HEAD", "--")
    try:
        out = git.run(repo_dir, *args)
    except git.GitError as err:
        raise ScanInputError(f"--since {ref}: {err}") from err
    return {p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p}
