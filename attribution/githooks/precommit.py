"""Check before committing: `check --staged`, `check --diff REF` and `hook install`.

Each changed file is attributed whole, as it is staged (or as it is at HEAD for --diff),
so the copied code is parsed in its context; a match is kept only when one of its aligned
spans touches a line the diff adds. Line numbers are those of the staged file.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attribution.core.languages import detect_language, language_for_path
from attribution.core.policy import Policy
from attribution.core.search import QueryError
from attribution.index import gitdiff

Attributor = Callable[[bytes, str | None, str], dict[str, Any]]  # (data, language, path)

HOOK_MARKER = "# attribution pre-commit hook (written by `attribution hook install`)"
QUERY_TOP = 100  # matches asked per file, before keeping those on added lines


@dataclass
class FileReport:
    change: gitdiff.FileChange
    language: str
    result: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        c = self.change
        return {
            "path": c.path,
            "old_path": c.old_path,
            "status": c.status,
            "language": self.language,
            "added_lines": [list(r) for r in c.added],
            "result": self.result,
        }


@dataclass
class Report:
    """The answer of one `check --staged` / `check --diff` run."""

    mode: str  # staged | diff
    ref: str | None
    policy: Policy
    files: list[FileReport] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def matches(self) -> list[tuple[FileReport, dict[str, Any]]]:
        return [(f, m) for f in self.files for m in f.result["matches"]]

    @property
    def blocking(self) -> list[tuple[FileReport, dict[str, Any]]]:
        return [(f, m) for f, m in self.matches if m["blocking"]]

    def summary(self) -> dict[str, int]:
        return {
            "files_checked": len(self.files),
            "added_lines": sum(f.change.added_count for f in self.files),
            "matches": len(self.matches),
            "blocking": len(self.blocking),
            "skipped": len(self.skipped),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ref": self.ref,
            "policy": self.policy.to_json(),
            "files": [f.to_json() for f in self.files],
            "skipped": self.skipped,
            "summary": self.summary(),
        }


# ---------------------------------------------------------------- the run
def check_changes(
    root: Path,
    changes: Sequence[gitdiff.FileChange],
    attribute: Attributor,
    *,
    policy: Policy,
    language: str | None = None,
    mode: str = "staged",
    ref: str | None = None,
    top: int | None = None,
) -> Report:
    """Attribute the added lines of each changed file; matches carry `blocking`."""
    report = Report(mode, ref, policy)
    todo = []
    for change in changes:
        reason = _skip_reason(change) or _not_code(change.path, language)
        if reason:
            report.skipped.append(_skip(change, reason))
        else:
            todo.append(change)
    contents = gitdiff.read_blobs(root, [c.blob for c in todo if c.blob])
    for change in todo:
        data = contents[change.blob or ""]
        lang = detect_language(change.path, data[:256], language)  # name, then a #! line
        reason = "binary" if b"\x00" in data[:8192] else None
        if reason or lang is None:
            report.skipped.append(_skip(change, reason or "not a known source language"))
            continue
        try:
            result = attribute(data, lang, change.path)
        except QueryError as err:
            report.skipped.append(_skip(change, str(err)))
            continue
        report.files.append(FileReport(change, lang, _on_added(result, change, policy, top)))
    return report


def _skip_reason(change: gitdiff.FileChange) -> str | None:
    if change.status == "deleted":
        return "deleted"
    if change.kind != "file":
        return change.kind
    if change.binary:
        return "binary"
    return None if change.added else "no added lines"


def _not_code(path: str, explicit: str | None) -> str | None:
    """A reason to skip a file that no source language claims by name (not read: files
    without an extension are, for a #! line)."""
    name = path.rsplit("/", 1)[-1]
    if explicit or language_for_path(path) or "." not in name.lstrip("."):
        return None
    return "not a known source language"


def _skip(change: gitdiff.FileChange, reason: str) -> dict[str, str]:
    return {"path": change.path, "status": change.status, "reason": reason}


def _on_added(
    result: dict[str, Any], change: gitdiff.FileChange, policy: Policy, top: int | None
) -> dict[str, Any]:
    """The result with only the matches whose spans touch added lines (and `blocking`)."""
    kept = []
    for m in result["matches"]:
        spans = m.get("spans") or [{"query_lines": m["query_lines"]}]
        touched = [
            r
            for s in spans
            for r in gitdiff.overlapping(s["query_lines"][0], s["query_lines"][1], change.added)
        ]
        if touched:
            kept.append(
                {**m, "added_lines": [list(r) for r in touched], "blocking": policy.blocks(m)}
            )
    kept = kept[: top or 10]
    verdict = "match" if kept else "no_match"
    return {**result, "verdict": verdict, "matches": kept}


# ---------------------------------------------------------------- git hook
def hook_script(argv: Sequence[str]) -> str:
    """A plain POSIX pre-commit hook that runs `attribution check --staged` with argv."""
    script = Path(sys.executable).with_name("attribution")
    here = shlex.quote(str(script)) if script.exists() else "attribution"
    args = "".join(" " + shlex.quote(a) for a in argv)
    return f"""#!/bin/sh
{HOOK_MARKER}
# Blocks a commit that adds code copied from indexed sources.
# Skip it once with: git commit --no-verify
ATTRIBUTION={here}
[ -x "$ATTRIBUTION" ] || ATTRIBUTION=attribution
if ! command -v "$ATTRIBUTION" >/dev/null 2>&1; then
    echo "attribution: command not found; install it, or remove this hook ($0)" >&2
    exit 2
fi
exec "$ATTRIBUTION" check --staged{args}
"""


def install_hook(root: Path, argv: Sequence[str], force: bool) -> Path:
    """Write the pre-commit hook; a hook written by something else needs force."""
    hooks = gitdiff.hooks_dir(root)
    target = hooks / "pre-commit"
    if target.exists() and not force and HOOK_MARKER not in _read_text(target):
        raise gitdiff.GitError(
            f"{target} exists and was not written by attribution; run "
            "`attribution hook install --force` to replace it, or call "
            "`attribution check --staged` from it"
        )
    hooks.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".pre-commit.{os.getpid()}.tmp")
    tmp.write_text(hook_script(argv), encoding="utf-8")
    tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    tmp.replace(target)
    return target


def uninstall_hook(root: Path) -> Path | None:
    """Remove the pre-commit hook if attribution wrote it; its path, or None."""
    target = gitdiff.hooks_dir(root) / "pre-commit"
    if not target.exists():
        return None
    if HOOK_MARKER not in _read_text(target):
        raise gitdiff.GitError(f"{target} was not written by attribution; left as it is")
    target.unlink()
    return target


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")
