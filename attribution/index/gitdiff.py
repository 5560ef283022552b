"""What a git diff adds: changed files, the lines they add, and the content of those files.

`staged(root)` reads `git diff --cached` (the index against HEAD, or against the empty tree
before the first commit); `since(root, ref)` reads `git diff REF...HEAD` (what HEAD adds
since it forked from REF, the view of a pull request), or the range itself when REF
already holds `..`. Line numbers are those of the new side: the staged file, or the file
at HEAD. Contents come from the object database (`git cat-file --batch`), never from the
working tree, so unstaged edits are not checked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from attribution.index.git import GitError, run

Range = tuple[int, int]  # 1-based inclusive line range of the new file

_STATUS = {
    "A": "added",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "D": "deleted",
    "T": "type-changed",
    "U": "unmerged",
}
_SUBMODULE, _SYMLINK = "160000", "120000"
_HUNK = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_C_ESCAPES = {
    "a": 7,
    "b": 8,
    "t": 9,
    "n": 10,
    "v": 11,
    "f": 12,
    "r": 13,
    '"': 34,
    "\\": 92,
}
# Options that make `git diff` output independent of the user's configuration.
_PLAIN = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-relative",
    "--find-renames",
    "--ignore-submodules=none",
)


class MergeInProgressError(GitError):
    """The index holds unresolved conflicts: there is no single staged version to check."""


@dataclass(frozen=True)
class FileChange:
    """One changed path of a diff, with the lines it adds (on the new side)."""

    path: str  # the new path (the old one for a deletion)
    status: str  # added, modified, renamed, copied, deleted, type-changed, unmerged
    old_path: str | None = None  # the path before a rename or copy
    blob: str | None = None  # the new content's blob id (None when deleted)
    mode: str = "100644"
    added: tuple[Range, ...] = ()
    binary: bool = False

    @property
    def kind(self) -> str:
        """file, submodule or symlink."""
        if self.mode == _SUBMODULE:
            return "submodule"
        return "symlink" if self.mode == _SYMLINK else "file"

    @property
    def added_count(self) -> int:
        return sum(b - a + 1 for a, b in self.added)


@dataclass
class _Raw:
    status: str
    mode: str
    blob: str | None
    path: str
    old_path: str | None = None
    added: list[Range] = field(default_factory=list)


def git(root: str | Path, *args: str, stdin: bytes | None = None) -> bytes:
    """stdout of `git args...` in the developer's own repository (its environment kept)."""
    return run(root, *args, stdin=stdin, own=True)


def repo_root(cwd: str | Path | None = None) -> Path:
    """The top of the working tree that holds cwd (GitError outside a repository)."""
    out = git(cwd or os.getcwd(), "rev-parse", "--show-toplevel")
    return Path(_decode(out.strip()))


def staged(root: str | Path) -> list[FileChange]:
    """The staged changes (`git diff --cached`), each with the line ranges it adds."""
    changes = _changes(root, ["--cached"])
    _refuse_unmerged(root, changes)
    return changes


def since(root: str | Path, ref: str) -> list[FileChange]:
    """What HEAD adds since it forked from ref (`git diff ref...HEAD`); a ref holding `..`
    (`a..b`, `a...b`) is used as the range it names."""
    if not ref or ref.startswith("-"):
        raise GitError(f"--diff needs a revision, got {ref!r}")
    spec = ref if ".." in ref else f"{ref}...HEAD"
    return _changes(root, [spec])


def _changes(root: str | Path, spec: list[str]) -> list[FileChange]:
    raw = parse_raw(git(root, "diff", *_PLAIN, "--raw", "-z", "--no-abbrev", *spec, "--"))
    binary = parse_numstat_binary(git(root, "diff", *_PLAIN, "--numstat", "-z", *spec, "--"))
    patch = git(root, "diff", *_PLAIN, "-U0", "--src-prefix=a/", "--dst-prefix=b/", *spec, "--")
    added = parse_added(patch)
    return [
        FileChange(
            path=r.path,
            status=r.status,
            old_path=r.old_path,
            blob=r.blob,
            mode=r.mode,
            added=tuple(added.get(r.path, ())) if r.status != "deleted" else (),
            binary=r.path in binary,
        )
        for r in raw
    ]


def _refuse_unmerged(root: str | Path, changes: Sequence[FileChange]) -> None:
    unmerged = [c.path for c in changes if c.status == "unmerged"]
    if not unmerged:
        return
    doing = operation_in_progress(root) or "a merge"
    names = ", ".join(unmerged[:5]) + (
        f" and {len(unmerged) - 5} more" if len(unmerged) > 5 else ""
    )
    raise MergeInProgressError(
        f"{doing} is in progress with unresolved conflicts in {names}: resolve them and "
        "`git add` the files, then check again"
    )


def operation_in_progress(root: str | Path) -> str | None:
    """'a merge', 'a rebase', 'a cherry-pick' or 'a revert' when one is under way."""
    for marker, name in (
        ("MERGE_HEAD", "a merge"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
    ):
        path = _decode(git(root, "rev-parse", "--git-path", marker).strip())
        if (Path(root) / path).exists():
            return name
    return None


def hooks_dir(root: str | Path) -> Path:
    """Where git looks for hooks (core.hooksPath, or .git/hooks of this worktree)."""
    path = Path(_decode(git(root, "rev-parse", "--git-path", "hooks").strip()))
    return path if path.is_absolute() else Path(root) / path


def read_blobs(root: str | Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """Contents of blobs by id, in one `git cat-file --batch`."""
    wanted = list(dict.fromkeys(blobs))
    if not wanted:
        return {}
    out = git(root, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode())
    contents: dict[str, bytes] = {}
    pos = 0
    for blob in wanted:
        end = out.index(b"\n", pos)
        header = out[pos:end].split()
        if len(header) < 3 or header[1] == b"missing":
            raise GitError(f"blob {blob} is missing from the repository")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1  # content, then a newline
    return contents


# ---------------------------------------------------------------- parsing git's output
def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def parse_raw(out: bytes) -> list[_Raw]:
    """`git diff --raw -z --no-abbrev`: ':old_mode new_mode old new STATUS\\0path\\0[path\\0]'."""
    fields = out.split(b"\0")
    entries: list[_Raw] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        meta = fields[i][1:].split()
        letter = meta[4][:1].decode()
        status = _STATUS.get(letter, "modified")
        new_blob = meta[3].decode()
        blob = None if set(new_blob) == {"0"} else new_blob
        if letter in "RC":
            old, new = _decode(fields[i + 1]), _decode(fields[i + 2])
            entries.append(_Raw(status, meta[1].decode(), blob, new, old))
            i += 3
        else:
            path = _decode(fields[i + 1])
            mode = meta[0 if letter == "D" else 1].decode()
            entries.append(_Raw(status, mode, blob, path))
            i += 2
    return entries


def parse_numstat_binary(out: bytes) -> set[str]:
    """New paths that `git diff --numstat -z` reports as binary ('-\\t-\\t')."""
    fields = out.split(b"\0")
    binary: set[str] = set()
    i = 0
    while i < len(fields) and fields[i]:
        added, _, rest = fields[i].split(b"\t", 2)
        if rest:  # one path
            path, i = _decode(rest), i + 1
        else:  # a rename: old and new path follow
            path, i = _decode(fields[i + 2]), i + 3
        if added == b"-":
            binary.add(path)
    return binary


def parse_added(patch: bytes) -> dict[str, list[Range]]:
    """Added line ranges per new path, from a `-U0` patch with a/ and b/ prefixes."""
    added: dict[str, list[Range]] = {}
    current: list[Range] | None = None
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git ") or line.startswith(b"* Unmerged path "):
            current = None
        elif line.startswith(b"+++ "):
            path = _patch_path(line[4:])
            current = None if path is None else added.setdefault(path, [])
        elif current is not None and line.startswith(b"@@ "):
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or b"1")
                if count > 0:
                    current.append((start, start + count - 1))
    return added


def _patch_path(name: bytes) -> str | None:
    """The path of a '+++ ' line: None for /dev/null; C-quoted names unquoted."""
    if name.startswith(b'"'):
        name = unquote_c(name.rstrip(b"\t"))
    elif name.endswith(b"\t"):
        name = name[:-1]  # git marks names holding a space with a trailing tab
    if name == b"/dev/null" or not name.startswith(b"b/"):
        return None
    return _decode(name[2:])


def unquote_c(quoted: bytes) -> bytes:
    """A name git quoted C-style ("a\\tb", "\\303\\251"), as raw bytes."""
    body = quoted[1:-1] if quoted.endswith(b'"') else quoted[1:]
    text = body.decode("latin-1")
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 == len(text):
            out.append(ord(ch))
            i += 1
        elif text[i + 1] in "01234567":
            out.append(int(text[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_C_ESCAPES.get(text[i + 1], ord(text[i + 1])))
            i += 2
    return bytes(out)


def overlapping(first: int, last: int, ranges: Sequence[Range]) -> list[Range]:
    """The parts of ranges that fall within [first, last]."""
    return [(max(a, first), min(b, last)) for a, b in ranges if a <= last and b >= first]
