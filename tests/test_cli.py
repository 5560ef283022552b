"""The `attribution` command as a whole: one import package, every command listed, one
line per error, and quiet on a closed pipe."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from attribution.cli.main import COMMANDS, build_parser, main

EXPECTED = {"index", "check", "scan", "lookup", "serve", "lsp", "hook"}


def test_the_distribution_installs_one_import_package() -> None:
    top = importlib.metadata.distribution("attribution").read_text("top_level.txt") or ""
    assert top.split() == ["attribution"]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    listed = {c for c in EXPECTED if f"    {c} " in out}
    assert listed == EXPECTED
    subs = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    index_actions = set(subs["index"]._subparsers._group_actions[0].choices)
    assert set(COMMANDS) == (set(subs) - {"index"}) | index_actions


def test_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "stats", "--index", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("attribution: error: ") and err.count("\n") == 1


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`attribution index stats | head -1`: the reader is gone before the output is
    written; no 'Broken pipe' message, the exit status a shell gives SIGPIPE."""
    code = (
        "import sys\n"
        "import attribution.cli.main as m\n"
        "def stats(args):\n"
        "    sys.stdin.readline()  # wait until the reader has gone\n"
        "    print('line\\n' * 1000)\n"
        "    return 0\n"
        "m.COMMANDS['stats'] = stats\n"
        "raise SystemExit(m.main(['index', 'stats']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdout.close()  # what `head` does once it has its line
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""
