"""index/gitdiff.py: git's output parsed, and real repositories read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_check_staged_corpus import clean_git_env, commit_all, git, repo

from attribution.index import gitdiff

__all__ = ["clean_git_env", "repo"]  # fixtures used here


# ---------------------------------------------------------------- parsing
def test_unquote_c() -> None:
    assert gitdiff.unquote_c(b'"a\\tb"') == b"a\tb"
    assert gitdiff.unquote_c(b'"we\\"ird\\\\x"') == b'we"ird\\x'
    assert gitdiff.unquote_c(b'"caf\\303\\251"') == "café".encode()


def test_parse_added_reads_hunks_of_the_new_side() -> None:
    patch = b"\n".join(
        [
            b"diff --git a/x.py b/x.py",
            b"--- a/x.py",
            b"+++ b/x.py",
            b"@@ -1,0 +2,3 @@ def f():",
            b"+a",
            b"+b",
            b"+c",
            b"@@ -10 +12 @@",
            b"-old",
            b"+new",
            b"@@ -20,2 +23,0 @@",
            b"-gone",
            b"-gone",
            b"diff --git a/with space.py b/with space.py",
            b"--- /dev/null",
            b"+++ b/with space.py\t",
            b"@@ -0,0 +1,2 @@",
            b'diff --git "a/q\\"x.py" "b/q\\"x.py"',
            b'+++ "b/q\\"x.py"',
            b"@@ -0,0 +1 @@",
            b"diff --git a/gone.py b/gone.py",
            b"--- a/gone.py",
            b"+++ /dev/null",
            b"@@ -1,3 +0,0 @@",
            b"* Unmerged path conflict.py",
        ]
    )
    assert gitdiff.parse_added(patch) == {
        "x.py": [(2, 4), (12, 12)],
        "with space.py": [(1, 2)],
        'q"x.py': [(1, 1)],
    }


def test_parse_raw_and_numstat() -> None:
    zero, a, b = "0" * 40, "a" * 40, "b" * 40
    raw = (
        f":000000 100644 {zero} {a} A\0new.py\0"
        f":100644 100644 {a} {b} R087\0old name.py\0new name.py\0"
        f":100644 000000 {a} {zero} D\0gone.py\0"
        f":000000 160000 {zero} {b} A\0sub\0"
        f":100644 000000 {a} {zero} U\0both.py\0"
    ).encode()
    entries = gitdiff.parse_raw(raw)
    assert [(e.status, e.path, e.old_path, e.mode) for e in entries] == [
        ("added", "new.py", None, "100644"),
        ("renamed", "new name.py", "old name.py", "100644"),
        ("deleted", "gone.py", None, "100644"),
        ("added", "sub", None, "160000"),
        ("unmerged", "both.py", None, "000000"),
    ]
    assert entries[0].blob == a and entries[2].blob is None
    numstat = (
        b"3\t0\tnew.py\0-\t-\tlogo.png\0" + b"1\t1\t\0old.bin\0new.bin\0-\t-\t\0a.bin\0b.bin\0"
    )
    assert gitdiff.parse_numstat_binary(numstat) == {"logo.png", "b.bin"}


def test_overlapping() -> None:
    assert gitdiff.overlapping(5, 20, [(1, 4), (3, 6), (10, 12), (19, 30)]) == [
        (5, 6),
        (10, 12),
        (19, 20),
    ]
    assert gitdiff.overlapping(5, 20, []) == []


# ---------------------------------------------------------------- real repositories
def by_path(changes: list[gitdiff.FileChange]) -> dict[str, gitdiff.FileChange]:
    return {c.path: c for c in changes}


def test_staged_before_the_first_commit(repo: Path) -> None:
    (repo / "a.py").write_text("x = 1\ny = 2\n")
    git(repo, "add", "a.py")
    change = by_path(gitdiff.staged(repo))["a.py"]
    assert change.status == "added" and change.added == ((1, 2),) and change.kind == "file"
    assert gitdiff.read_blobs(repo, [change.blob or ""]) == {change.blob: b"x = 1\ny = 2\n"}


def test_staged_edits_renames_deletions_binaries_links_and_odd_names(repo: Path) -> None:
    (repo / "edit.py").write_text("".join(f"line{i}\n" for i in range(1, 11)))
    (repo / "old.py").write_text("".join(f"keep{i} = {i}\n" for i in range(20)))
    (repo / "gone.py").write_text("bye = 1\n")
    commit_all(repo)
    (repo / "edit.py").write_text(
        "".join(f"line{i}\n" for i in range(1, 4))
        + "new_a\nnew_b\n"
        + "".join(f"line{i}\n" for i in range(4, 10))
        + "changed10\n"
    )
    git(repo, "mv", "old.py", "new home.py")
    with (repo / "new home.py").open("a") as f:
        f.write("added = True\n")
    git(repo, "rm", "-q", "gone.py")
    (repo / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    (repo / 'caf\u00e9 "q".py').write_text("x = 1\n")
    os.symlink("edit.py", repo / "link.py")
    git(repo, "add", "-A")
    (repo / "edit.py").write_text("unstaged edits are not read\n")
    changes = by_path(gitdiff.staged(repo))
    assert changes["edit.py"].added == ((4, 5), (12, 12))
    renamed = changes["new home.py"]
    assert renamed.status == "renamed" and renamed.old_path == "old.py"
    assert renamed.added == ((21, 21),)
    assert changes["gone.py"].status == "deleted" and changes["gone.py"].added == ()
    assert changes["logo.png"].binary and changes["logo.png"].added == ()
    assert changes['caf\u00e9 "q".py'].added == ((1, 1),)
    assert changes["link.py"].kind == "symlink"
    blobs = gitdiff.read_blobs(repo, [changes["edit.py"].blob or ""])
    assert b"new_a" in next(iter(blobs.values()))  # the staged content, not the working tree


def test_submodules_are_recognised(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "lib.py").write_text("v = 1\n")
    commit_all(other)
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "sub")
    changes = by_path(gitdiff.staged(repo))
    assert changes["sub"].kind == "submodule"
    assert changes[".gitmodules"].kind == "file"


def test_since_a_ref_is_what_head_adds(repo: Path) -> None:
    (repo / "a.py").write_text("a = 1\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "a.py").write_text("a = 1\nb = 2\n")
    (repo / "c.py").write_text("c = 3\n")
    commit_all(repo, "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "main_only.py").write_text("m = 1\n")
    commit_all(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    changes = by_path(gitdiff.since(repo, "main"))
    assert set(changes) == {"a.py", "c.py"}  # not main_only.py: REF...HEAD
    assert changes["a.py"].added == ((2, 2),)
    assert set(by_path(gitdiff.since(repo, "main..feature"))) == {"a.py", "c.py", "main_only.py"}
    with pytest.raises(gitdiff.GitError, match="no-such-branch"):
        gitdiff.since(repo, "no-such-branch")
    with pytest.raises(gitdiff.GitError, match="needs a revision"):
        gitdiff.since(repo, "--output=/tmp/x")


def test_a_merge_with_conflicts_is_refused_with_a_clear_message(repo: Path) -> None:
    (repo / "a.py").write_text("x = 1\n")
    commit_all(repo)
    git(repo, "checkout", "-q", "-b", "other")
    (repo / "a.py").write_text("x = 2\n")
    commit_all(repo, "other")
    git(repo, "checkout", "-q", "main")
    (repo / "a.py").write_text("x = 3\n")
    commit_all(repo, "main")
    assert git(repo, "merge", "other", check=False).returncode != 0
    assert gitdiff.operation_in_progress(repo) == "a merge"
    with pytest.raises(gitdiff.MergeInProgressError) as err:
        gitdiff.staged(repo)
    assert "a merge is in progress with unresolved conflicts in a.py" in str(err.value)
    assert "git add" in str(err.value)
    # once resolved and staged, the merge result is checked like any staged change
    (repo / "a.py").write_text("x = 2\nx = 3\n")
    git(repo, "add", "a.py")
    assert by_path(gitdiff.staged(repo))["a.py"].added == ((1, 1),)  # against HEAD


def test_outside_a_repository(tmp_path: Path, clean_git_env: None) -> None:
    with pytest.raises(gitdiff.GitError, match="not a git repository"):
        gitdiff.repo_root(tmp_path)


def test_hooks_dir_follows_core_hookspath(repo: Path) -> None:
    assert gitdiff.hooks_dir(repo) == repo / ".git" / "hooks"
    git(repo, "config", "core.hooksPath", "githooks")
    assert gitdiff.hooks_dir(repo) == repo / "githooks"
