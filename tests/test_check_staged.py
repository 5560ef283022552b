"""`attribution check --staged`, `--diff REF`, the policy flags and `hook install`, against
real temporary git repositories and a real index."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_check_staged_corpus import (
    GPL_FUNCTION,
    MIT_FUNCTION,
    OWN_CODE,
    clean_git_env,
    commit_all,
    git,
    git_env,
    lines_of,
    repo,
    small_index,
)

from attribution.cli.main import main

__all__ = ["clean_git_env", "repo", "small_index"]  # fixtures used here

ROOT = Path(__file__).resolve().parents[1]
# (not a `def`: the engine's end-of-chain extension would take a following def header)
BETWEEN = "\n\nLIMIT = 10\nNAMES = ['a', 'b']\n\n\n"
TWO_COPIES = OWN_CODE + "\n\n" + MIT_FUNCTION + BETWEEN + GPL_FUNCTION


def check(capsys: pytest.CaptureFixture[str], index: Path, *args: str) -> tuple[int, str, str]:
    code = main(["check", "--index", str(index), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def check_json(capsys: pytest.CaptureFixture[str], index: Path, *args: str) -> tuple[int, Any]:
    code, out, err = check(capsys, index, "--format", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


def matches_of(report: dict[str, Any], path: str) -> list[dict[str, Any]]:
    files = {f["path"]: f for f in report["files"]}
    return list(files[path]["result"]["matches"])


# ---------------------------------------------------------------- --staged
def test_a_staged_copy_is_reported_with_the_staged_lines(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "src").mkdir()
    (repo / "src" / "fill.py").write_text(TWO_COPIES)
    (repo / "notes.md").write_text("# notes\n")
    (repo / "tool").write_text("#!/usr/bin/env python3\n" + OWN_CODE)  # a #! line: python
    git(repo, "add", "-A")
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 1
    found = matches_of(report, "src/fill.py")
    assert [m["source"]["repo_name"] for m in found] == ["mylib", "gpllib"]
    mit, gpl = found
    assert mit["query_lines"] == list(lines_of(TWO_COPIES, MIT_FUNCTION))
    assert mit["source"]["license"] == "MIT" and mit["source"]["path"] == "textwrap.py"
    assert gpl["query_lines"] == list(lines_of(TWO_COPIES, GPL_FUNCTION))
    assert gpl["source"]["license"] == "GPL-3.0-or-later"
    assert mit["blocking"] and gpl["blocking"]
    entry = next(f for f in report["files"] if f["path"] == "src/fill.py")
    assert entry["status"] == "added" and entry["added_lines"] == [[1, TWO_COPIES.count("\n")]]
    assert report["skipped"] == [
        {"path": "notes.md", "status": "added", "reason": "not a known source language"}
    ]
    assert {f["path"]: f["language"] for f in report["files"]} == {
        "src/fill.py": "python",
        "tool": "python",
    }
    assert report["summary"] == {
        "files_checked": 2,
        "added_lines": TWO_COPIES.count("\n") + OWN_CODE.count("\n") + 1,
        "matches": 2,
        "blocking": 2,
        "skipped": 1,
    }

    code, out, _ = check(capsys, small_index, "--staged")
    assert code == 1
    first, last = lines_of(TWO_COPIES, MIT_FUNCTION)
    assert out.startswith("src/fill.py: 2 matches")
    assert f"lines {first}-{last}" in out and "MIT (permissive)" in out
    assert "staged changes: 2 files checked" in out and "2 blocking (policy: any match)" in out
    assert f"src/fill.py lines {first}-{last}: copied from mylib textwrap.py" in out
    assert "git commit --no-verify" in out and "--allow-license MIT" in out


def test_only_added_lines_count(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = OWN_CODE + "\n\n" + MIT_FUNCTION
    (repo / "lib.py").write_text(text)
    commit_all(repo)  # the copy is already committed (and accepted)
    (repo / "lib.py").write_text("def first(x):\n    return x * 2\n\n\n" + text)
    git(repo, "add", "lib.py")
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 0 and matches_of(report, "lib.py") == []
    # an edit inside the copied function touches it: reported, with the touched lines
    first, last = lines_of(text, MIT_FUNCTION)
    lines = text.split("\n")
    lines[first + 5] = lines[first + 5] + "  # tweaked"
    edited = "\n".join(lines)
    (repo / "lib.py").write_text(edited)
    git(repo, "add", "lib.py")
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 1
    (match,) = matches_of(report, "lib.py")
    assert match["query_lines"] == [first, last] and match["added_lines"] == [
        [first + 6, first + 6]
    ]
    # unstaged changes are not checked
    git(repo, "reset", "-q", "lib.py")
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 0 and report["files"] == []


def test_renames_deletions_binaries_and_links(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ours: long enough that git still sees a rename once the copy is added to it
    ours = "".join(f"def f{i}(x):\n    y = x + {i}\n    return y * {i}\n\n\n" for i in range(150))
    (repo / "old.py").write_text(ours)
    (repo / "gone.py").write_text("bye = 1\n")
    (repo / "copied.py").write_text(GPL_FUNCTION)
    commit_all(repo)
    git(repo, "mv", "old.py", "renamed.py")
    (repo / "renamed.py").write_text(ours + MIT_FUNCTION)
    git(repo, "mv", "copied.py", "moved.py")  # a pure rename of a copy: nothing added
    git(repo, "rm", "-q", "gone.py")
    (repo / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (repo / "data.py").write_bytes(b"x = 1\n\x00\x01\x02")
    os.symlink("renamed.py", repo / "alias.py")
    git(repo, "add", "-A")
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 1
    (entry,) = report["files"]
    assert entry["path"] == "renamed.py" and entry["old_path"] == "old.py"
    assert entry["status"] == "renamed"
    (match,) = entry["result"]["matches"]
    assert match["query_lines"] == list(lines_of(ours + MIT_FUNCTION, MIT_FUNCTION))
    assert entry["added_lines"] == [list(lines_of(ours + MIT_FUNCTION, MIT_FUNCTION))]
    skipped = {s["path"]: s["reason"] for s in report["skipped"]}
    assert skipped == {
        "moved.py": "no added lines",
        "gone.py": "deleted",
        "image.png": "binary",
        "data.py": "binary",
        "alias.py": "symlink",
    }


def test_an_empty_commit_and_a_clean_file(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check(capsys, small_index, "--staged")
    assert code == 0 and "0 files checked (0 added lines), 0 matches" in out
    (repo / "mine.py").write_text(OWN_CODE)
    git(repo, "add", "mine.py")
    code, out, _ = check(capsys, small_index, "--staged")
    assert code == 0 and "1 file checked" in out and "mine.py:" not in out


def test_a_merge_in_progress_is_a_clear_error(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.py").write_text("x = 2\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "main")
    (repo / "a.py").write_text("x = 3\n")
    commit_all(repo)
    git(repo, "merge", "other", check=False)
    code, out, err = check(capsys, small_index, "--staged")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("attribution: error: a merge is in progress")
    assert "a.py" in err and "git add" in err


def test_errors_are_one_line_and_exit_2(
    repo: Path, small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(capsys, small_index, "--staged", "file.py")
    assert code == 2 and "give no FILE" in err
    code, _, err = check(capsys, small_index, "--staged", "--diff", "main")
    assert code == 2 and "one of --staged and --diff" in err
    code, _, err = check(capsys, small_index, "--diff", "nope")
    assert code == 2 and err.count("\n") == 1 and "nope" in err
    os.chdir(tmp_path)
    code, _, err = check(capsys, small_index, "--staged")
    assert code == 2 and "not a git repository" in err and err.count("\n") == 1
    os.chdir(repo)
    (repo / "a.py").write_text(MIT_FUNCTION)
    git(repo, "add", "a.py")
    code, _, err = check(capsys, tmp_path / "no-index", "--staged")
    assert code == 2 and "no-index" in err


# ---------------------------------------------------------------- --diff
def test_diff_against_a_ref_reports_lines_at_head(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "app.py").write_text(OWN_CODE)
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    text = OWN_CODE + "\n\n" + GPL_FUNCTION
    (repo / "app.py").write_text(text)
    commit_all(repo, "copy in")
    (repo / "app.py").write_text("# uncommitted\n" + text)  # not part of REF...HEAD
    code, report = check_json(capsys, small_index, "--diff", "main")
    assert code == 1 and report["mode"] == "diff" and report["ref"] == "main"
    (match,) = matches_of(report, "app.py")
    assert match["query_lines"] == list(lines_of(text, GPL_FUNCTION))
    assert match["source"]["license_type"] == "copyleft"
    code, out, _ = check(capsys, small_index, "--diff", "main")
    assert code == 1 and "changes since main: 1 file checked" in out


# ---------------------------------------------------------------- policy
def test_fail_on_and_allow_license(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "mit.py").write_text(OWN_CODE + "\n\n" + MIT_FUNCTION)
    git(repo, "add", "-A")
    code, report = check_json(capsys, small_index, "--staged", "--fail-on", "copyleft")
    assert code == 0 and [m["blocking"] for m in matches_of(report, "mit.py")] == [False]
    code, out, _ = check(capsys, small_index, "--staged", "--fail-on", "copyleft")
    assert code == 0 and "1 match, 0 blocking" in out and "mit.py: 1 match" in out
    (repo / "gpl.py").write_text(GPL_FUNCTION)
    git(repo, "add", "-A")
    code, out, _ = check(capsys, small_index, "--staged", "--fail-on", "copyleft")
    assert code == 1 and "1 match(es) block this commit" in out
    assert (
        "gpl.py lines 1-" in out
        and "GPL-3.0-or-later (copyleft) · Copyright (c) 2024 Richard Roe" in out
    )
    assert "--allow-license GPL-3.0-or-later" in out
    code, _, _ = check(
        capsys,
        small_index,
        "--staged",
        "--allow-license",
        "GPL-3.0-or-later",
        "--allow-license",
        "mit",
    )
    assert code == 0
    code, _, _ = check(capsys, small_index, "--staged", "--fail-on", "weak-copyleft")
    assert code == 1
    with pytest.raises(SystemExit) as exit_:
        check(capsys, small_index, "--staged", "--fail-on", "everything")
    assert exit_.value.code == 2 and "invalid choice: 'everything'" in capsys.readouterr().err


def test_policy_flags_on_a_plain_check(
    small_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "q.py"
    query.write_text(MIT_FUNCTION)
    code, out, _ = check(capsys, small_index, str(query))
    assert code == 1
    code, out, _ = check(capsys, small_index, str(query), "--fail-on", "copyleft")
    assert code == 0 and "0 of 1 blocking" in out
    code, result = check_json(capsys, small_index, str(query), "--allow-license", "MIT")
    assert code == 0 and result["matches"][0]["blocking"] is False


def test_staged_check_honours_the_policy_file(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """attribution.toml means the same in check --staged as in scan; flags override it."""
    (repo / "both.py").write_text(TWO_COPIES)
    git(repo, "add", "-A")
    (repo / "attribution.toml").write_text('deny = ["copyleft"]\n')
    code, report = check_json(capsys, small_index, "--staged")
    blocking = {m["source"]["repo_name"]: m["blocking"] for m in matches_of(report, "both.py")}
    assert code == 1 and blocking == {"mylib": False, "gpllib": True}
    assert report["policy"]["deny"] == ["copyleft"]
    (repo / "attribution.toml").write_text(
        'deny = ["copyleft"]\nallow = ["GPL-3.0-or-later", "permissive"]\n'
    )
    code, report = check_json(capsys, small_index, "--staged")
    assert code == 0 and not any(m["blocking"] for m in matches_of(report, "both.py"))
    code, _ = check_json(capsys, small_index, "--staged", "--no-policy")
    assert code == 1  # without a policy every match blocks
    code, _ = check_json(capsys, small_index, "--staged", "--fail-on", "copyleft")
    assert code == 1  # flags replace the file
    (repo / "attribution.toml").write_text('allow = ["Apache-2"]\n')
    code, _, err = check(capsys, small_index, "--staged")
    assert code == 2 and "unknown SPDX license id 'Apache-2'" in err and err[-1] == "\n"


# ---------------------------------------------------------------- hooks
def test_pre_commit_hooks_yaml_is_three_lines_to_use() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "attribution" and hook["entry"] == "attribution check --staged"
    assert hook["language"] == "python" and hook["pass_filenames"] is False


def test_hook_install_blocks_a_commit_of_copied_code(
    repo: Path, small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hook", "install", "--index", str(small_index), "--fail-on", "copyleft"]) == 0
    hook = repo / ".git" / "hooks" / "pre-commit"
    assert "installed" in capsys.readouterr().out
    assert hook.stat().st_mode & stat.S_IXUSR
    script = hook.read_text()
    assert "check --staged --index" in script and "--fail-on copyleft" in script
    env = git_env()
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    (repo / "gpl.py").write_text(GPL_FUNCTION)
    git(repo, "add", "gpl.py")
    run = subprocess.run(
        ["git", "commit", "-m", "copy"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0, run.stdout + run.stderr
    shown = run.stdout + run.stderr  # git shows a hook's output on stderr
    assert "gpllib decoder.py" in shown and "git commit --no-verify" in shown
    skip = subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "copy"], cwd=repo, env=env, timeout=120
    )
    assert skip.returncode == 0
    (repo / "mit.py").write_text(MIT_FUNCTION)  # permissive: allowed by --fail-on copyleft
    git(repo, "add", "mit.py")
    ok = subprocess.run(
        ["git", "commit", "-m", "mit"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 match, 0 blocking" in ok.stdout + ok.stderr


def test_hook_install_refuses_a_foreign_hook_without_force(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nmake lint\n")
    assert main(["hook", "install"]) == 2
    err = capsys.readouterr().err
    assert "not written by attribution" in err and "--force" in err
    assert hook.read_text() == "#!/bin/sh\nmake lint\n"
    assert main(["hook", "uninstall"]) == 2
    capsys.readouterr()
    assert main(["hook", "install", "--force"]) == 0
    assert "attribution pre-commit hook" in hook.read_text()
    assert main(["hook", "install"]) == 0  # our own hook may be rewritten
    assert main(["hook", "uninstall"]) == 0 and not hook.exists()
