"""A small real index and real git repositories for the --staged, --diff and LSP tests
(imported by test_check_staged*.py, test_gitdiff*.py and test_lsp*.py)."""

from __future__ import annotations

import inspect
import json.decoder
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from attribution.index.build import build

MIT = """MIT License

Copyright (c) 2024 Jane Doe

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""
PYPROJECT = """[project]
name = "mylib"
version = "1.0"

[project.urls]
Source = "https://github.com/jane/mylib"
"""
GPL_HEADER = "# SPDX-License-Identifier: GPL-3.0-or-later\n# Copyright (c) 2024 Richard Roe\n"

# The copied code: a function of textwrap (MIT, mylib) and one of json.decoder (GPL, gpllib).
MIT_FUNCTION = inspect.getsource(textwrap.TextWrapper._wrap_chunks)
MIT_FUNCTION = textwrap.dedent(MIT_FUNCTION)
GPL_FUNCTION = inspect.getsource(json.decoder.py_scanstring)  # type: ignore[attr-defined]

OWN_CODE = '''def add(a, b):
    """Our own code: too small and too common to be a finding."""
    return a + b


def greet(name):
    return f"hello {name}"
'''


def write_corpus(root: Path) -> list[str]:
    """`mylib` (MIT, Jane Doe, with a source URL) and `gpllib` (GPL-3.0-or-later)."""
    mylib = root / "mylib"
    mylib.mkdir(parents=True)
    (mylib / "LICENSE").write_text(MIT)
    (mylib / "pyproject.toml").write_text(PYPROJECT)
    (mylib / "textwrap.py").write_text(inspect.getsource(textwrap))
    gpllib = root / "gpllib"
    gpllib.mkdir()
    (gpllib / "decoder.py").write_text(GPL_HEADER + inspect.getsource(json.decoder))
    return [str(mylib), str(gpllib)]


@pytest.fixture(scope="session")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index built once per session (read-only)."""
    tmp = tmp_path_factory.mktemp("staged-corpus")
    report = build(write_corpus(tmp / "src"), tmp / "index", jobs=1)
    assert report.files == 2  # the two modules (LICENSE and pyproject.toml are metadata)
    return tmp / "index"


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line of text holding needle."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def lines_of(text: str, block: str) -> tuple[int, int]:
    """First and last line that block (a run of whole lines) occupies in text."""
    first = line_of(text, block.splitlines()[0])
    return first, first + len(block.rstrip("\n").splitlines()) - 1


# ---------------------------------------------------------------- git repositories
def git_env() -> dict[str, str]:
    """The environment without anything that points git elsewhere, and no user config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.org",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.org",
    )
    return env


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        env=git_env(),
        check=check,
        timeout=60,
    )


@pytest.fixture
def clean_git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the code under test with the same clean git environment."""
    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    for key, value in git_env().items():
        if key.startswith("GIT_"):
            monkeypatch.setenv(key, value)


@pytest.fixture
def repo(tmp_path: Path, clean_git_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty git repository (branch main), the current directory while the test runs."""
    path = tmp_path / "work"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "commit.gpgsign", "false")
    monkeypatch.chdir(path)
    yield path


def commit_all(repo: Path, message: str = "commit") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
