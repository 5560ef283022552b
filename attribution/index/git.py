"""The one way this project runs git: `run` for a command's output, `stream` for a long one,
`CatFile` for blobs by id. Every failure is a `GitError` whose message is git's own first
line (or what went wrong starting it), naming the repository.

Repositories read as SOURCEs or scanned are someone else's: their git runs without the
caller's GIT_* variables (a hook's GIT_DIR must not redirect it) and trusts the directory
(safe.directory). The repository a developer commits in (`check --staged`, hooks) keeps the
environment: inside a pre-commit hook GIT_INDEX_FILE names the index being committed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

TIMEOUT_S = 120.0
_CHUNK = 1 << 20


class GitError(OSError):
    """git is missing, this is no repository, or a git command failed (its message kept)."""


def command(repo: str | Path, *args: str) -> list[str]:
    """argv of `git args...` in `repo`, with output independent of the user's quoting."""
    where = os.path.abspath(repo)
    return [
        "git",
        "-c",
        f"safe.directory={where}",
        "-c",
        "core.quotePath=false",
        "-C",
        where,
        *args,
    ]


def environment(own: bool) -> Mapping[str, str] | None:
    """The caller's environment for its own repository (None: inherit), else one without
    GIT_* variables."""
    if own:
        return None
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def run(repo: str | Path, *args: str, stdin: bytes | None = None, own: bool = False) -> bytes:
    """stdout of `git args...` in repo; GitError with git's own message on failure."""
    try:
        done = subprocess.run(
            command(repo, *args),
            input=stdin,
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
            env=environment(own),
        )
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than {TIMEOUT_S:.0f} s in {repo}") from None
    except OSError as err:
        raise GitError(f"cannot run git: {err.strerror or err}") from None
    if done.returncode != 0:
        message = first_line(done.stderr) or f"exit {done.returncode}"
        raise GitError(f"git {args[0]} failed in {repo}: {message}")
    return done.stdout


def stream(repo: str | Path, *args: str) -> Iterator[bytes]:
    """stdout of a long `git args...` in chunks (the process ends with the iteration)."""
    try:
        proc = subprocess.Popen(
            command(repo, *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment(False),
        )
    except OSError as err:
        raise GitError(f"cannot run git: {err.strerror or err}") from None
    with proc:
        out: IO[bytes] | None = proc.stdout
        assert out is not None
        while chunk := out.read(_CHUNK):
            yield chunk
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} failed in {repo} (exit {proc.returncode})")


def first_line(data: bytes) -> str:
    """The first non-empty line of git's stderr, without its `fatal:` or `error:`."""
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return line.removeprefix("fatal: ").removeprefix("error: ")
    return ""


class CatFile:
    """One `git cat-file --batch` process serving blobs by id."""

    def __init__(self, repo: str | Path) -> None:
        try:
            self._proc = subprocess.Popen(
                command(repo, "cat-file", "--batch"),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=environment(False),
            )
        except OSError as err:
            raise GitError(f"cannot run git: {err.strerror or err}") from None
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in: IO[bytes] = self._proc.stdin
        self._out: IO[bytes] = self._proc.stdout

    def read(self, sha: str, keep: int) -> bytes:
        """The first `keep` bytes of a blob (the rest is read and dropped)."""
        self._in.write(sha.encode("ascii") + b"\n")
        self._in.flush()
        header = self._out.readline().split()
        if len(header) != 3:
            raise GitError(f"git cat-file: object {sha} is missing")
        size = int(header[2])
        data = self._out.read(min(size, keep))
        left = size - len(data)
        while left > 0:
            chunk = self._out.read(min(left, _CHUNK))
            if not chunk:
                raise GitError(f"git cat-file: object {sha} ended early")
            left -= len(chunk)
        self._out.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        """End the git process."""
        self._in.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._out.close()


@contextmanager
def cat_file(repo: str | Path) -> Iterator[CatFile]:
    """A CatFile closed when the block ends."""
    cat = CatFile(repo)
    try:
        yield cat
    finally:
        cat.close()
