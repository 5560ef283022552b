"""Git repositories: the files committed at HEAD (not the working tree).

Read with `git ls-tree` and one `git cat-file --batch` process; never per-file git calls.
Skipped paths are `<repository dir>/<path>`.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace

from attribution.index.git import CatFile, GitError, run, stream

from .examine import READ_ERRORS, Context, HeaderVote, examine, one_line
from .filters import ignored_dir, is_metadata_file, vendored_dir
from .metadata import decode_text
from .naming import is_utf8, normalize_url
from .records import METADATA_CAP, IngestLimits, Repository, Skipped, SourceFile

_MODE_SYMLINK = "120000"
_MODE_SUBMODULE = "160000"


_GIT_ERRORS: tuple[type[BaseException], ...] = (GitError, *READ_ERRORS)


@dataclass(frozen=True)
class TreeEntry:
    """One entry of `git ls-tree -r -l HEAD`."""

    mode: str
    sha: str
    size: int | None
    path: str


def is_git_repository(path: str) -> bool:
    """True for a work tree with `.git`, or a bare repository directory."""
    if os.path.lexists(os.path.join(path, ".git")):
        return True
    return all(os.path.exists(os.path.join(path, p)) for p in ("HEAD", "objects", "refs"))


def _run(repo_dir: str, *args: str) -> str:
    return run(repo_dir, *args).decode("utf-8", "replace")


def origin_url(repo_dir: str) -> str | None:
    """The `origin` remote as an https URL (forge ssh URLs converted), or None."""
    try:
        return normalize_url(_run(repo_dir, "remote", "get-url", "origin").strip())
    except GitError:
        return None


def ls_tree(repo_dir: str) -> Iterator[TreeEntry]:
    """Entries of the tree at HEAD, streamed."""
    rest = b""
    for chunk in stream(repo_dir, "ls-tree", "-r", "-z", "-l", "--full-tree", "HEAD"):
        *records, rest = (rest + chunk).split(b"\0")
        for record in records:
            yield _tree_entry(record)


def _tree_entry(record: bytes) -> TreeEntry:
    meta, _, raw_path = record.partition(b"\t")
    mode, _, sha, size = meta.decode("ascii").split()
    path = raw_path.decode("utf-8", "surrogateescape")
    return TreeEntry(mode, sha, int(size) if size.isdigit() else None, path)


class _BlobReader:
    """Reader over a blob that asks git again only when a longer prefix is needed."""

    def __init__(self, cat: CatFile, sha: str) -> None:
        self._cat, self._sha = cat, sha
        self._data, self._asked = b"", 0

    def __call__(self, n: int) -> bytes:
        if n > self._asked and len(self._data) == self._asked:
            self._data, self._asked = self._cat.read(self._sha, n), n
        return self._data[:n]


def read_git(
    source: str, repo_dir: str, limits: IngestLimits, name: str | None = None
) -> Iterator[SourceFile | Skipped]:
    """Yield the files at HEAD of a git repository as one repository."""
    ctx = Context(source, limits)
    problem = _head_problem(repo_dir)
    if problem:
        yield ctx.skip(repo_dir, "unreadable", problem)
        return
    cat = CatFile(repo_dir)
    try:
        metadata, ctx.header_language = _survey(cat, repo_dir)
        base = os.path.basename(os.path.abspath(repo_dir))
        repo = Repository(name or base.removesuffix(".git"), origin_url(repo_dir), metadata)
        commits = limits.max_history_commits
        authors = history_authors(repo_dir, commits) if commits else {}
        for entry in ls_tree(repo_dir):
            item = _entry_item(ctx, repo, repo_dir, cat, entry)
            if isinstance(item, SourceFile) and authors.get(entry.path):
                item = replace(item, git_authors=authors[entry.path])
            if item is not None:
                yield item
    except _GIT_ERRORS as e:
        yield ctx.skip(repo_dir, "unreadable", f"git repository unreadable: {one_line(e)}")
    finally:
        cat.close()


def _head_problem(repo_dir: str) -> str | None:
    try:
        _run(repo_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except GitError as e:
        if str(e).startswith(("cannot run git", "git is not installed")):
            return str(e)
        return "git repository has no commits (HEAD does not resolve to a commit)"
    return None


def _survey(cat: CatFile, repo_dir: str) -> tuple[dict[str, str], str]:
    """Pass one: metadata files and the language of `.h` files."""
    metadata = {}
    votes = HeaderVote()
    for entry in ls_tree(repo_dir):
        path = entry.path
        votes.add(path)
        if entry.mode.startswith("10") and is_metadata_file(path) and _kept(path):
            text = decode_text(cat.read(entry.sha, METADATA_CAP + 1))
            if text is not None:
                metadata[path] = text
    return metadata, votes.language


def _kept(path: str) -> bool:
    return is_utf8(path) and not ignored_dir(path) and not vendored_dir(path)


def _entry_item(
    ctx: Context, repo: Repository, repo_dir: str, cat: CatFile, entry: TreeEntry
) -> SourceFile | Skipped | None:
    path, where = entry.path, f"{repo_dir}/{entry.path}"
    if entry.mode == _MODE_SUBMODULE or ignored_dir(path):
        return None
    if not is_utf8(path):
        return ctx.skip(where.encode("utf-8", "replace").decode(), "unsafe_path", "not UTF-8")
    if entry.mode == _MODE_SYMLINK:
        return ctx.skip(where, "symlink", "symbolic link in the tree is not followed")
    if vendored_dir(path):
        return ctx.vendored(path, f"{repo_dir}/")
    if is_metadata_file(path):
        return None
    return examine(ctx, repo, path, where, entry.size, _BlobReader(cat, entry.sha))


def history_authors(repo_dir: str, max_commits: int) -> dict[str, tuple[str, ...]]:
    """Authors of each path in the newest `max_commits` commits reachable from HEAD, most
    commits first (one `git log` for the whole repository; renames are not followed)."""
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    author, rest = "", b""
    log = ("log", f"--max-count={max_commits}", "--no-renames", "--format=%x1e%aN", "-z")
    for chunk in stream(repo_dir, *log, "--name-only", "HEAD", "--"):
        *fields, rest = (rest + chunk).split(b"\0")
        for field in fields:
            author = _history_field(field, author, counts)
    if rest:
        _history_field(rest, author, counts)
    return {
        path: tuple(name for name, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        for path, c in counts.items()
    }


def _history_field(field: bytes, author: str, counts: defaultdict[str, Counter[str]]) -> str:
    """One NUL-separated field of `git log -z --name-only --format=%x1e%aN`: an author
    (`\\x1eName`) or a path (after the newline that ends a commit's header); the author."""
    field = field.lstrip(b"\n")
    if field.startswith(b"\x1e"):
        return field[1:].decode("utf-8", "replace").strip()
    if field and author:
        counts[field.decode("utf-8", "surrogateescape")][author] += 1
    return author


def git_file_authors(repo_dir: str, path: str) -> list[str]:
    """Authors of a file at HEAD, most lines currently owned first (slow: `git blame`)."""
    out = _run(repo_dir, "blame", "--line-porcelain", "HEAD", "--", path)
    owned = Counter(
        line[len("author ") :] for line in out.splitlines() if line.startswith("author ")
    )
    return [name for name, _ in sorted(owned.items(), key=lambda kv: (-kv[1], kv[0]))]
