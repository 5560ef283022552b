"""Where a benchmark figure came from: one record per run (id, times, command, load, commit).

Every output file keeps the records of the runs its figures were measured in, and every
tool, row or size in it names its run, so a report that mixes a fresh run of our engine
with older peer runs says so row by row instead of calling it one run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
UNRECORDED = "unrecorded"
T = TypeVar("T")


def _git(*args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _now() -> datetime:
    return datetime.now(UTC)


def start(what: str, command: list[str] | None = None) -> dict[str, Any]:
    """A new run record: its id is its UTC start time, to the second."""
    now = _now()
    argv = command if command is not None else sys.argv
    script = Path(argv[0]).resolve() if argv and Path(argv[0]).is_file() else None
    if script is not None and script.is_relative_to(ROOT):
        argv = [str(script.relative_to(ROOT)), *argv[1:]]
    return {
        "id": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "what": what,
        "command": "python " + " ".join(argv),
        "started": now.isoformat(timespec="seconds"),
        "load_avg_start": _load(),
        "commit": _git("rev-parse", "--short=12", "HEAD"),
        "engine_changed_since_commit": bool(_git("status", "--porcelain", "--", "attribution")),
        "cpus": os.cpu_count(),
    }


def finish(run: dict[str, Any]) -> dict[str, Any]:
    """Stamp the end time and the load average at the end onto a run record."""
    run["finished"] = _now().isoformat(timespec="seconds")
    run["load_avg_end"] = _load()
    return run


STAMP = ("measured_at", "load_avg_before", "load_avg_after")


def measured(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, dict[str, Any]]:
    """fn's value, and when it ran with the load average just before and after it."""
    at, before = _now().isoformat(timespec="seconds"), _load()[0]
    value = fn(*args, **kwargs)
    stamp = {"measured_at": at, "load_avg_before": before, "load_avg_after": _load()[0]}
    return value, stamp


def of(item: dict[str, Any] | None) -> str:
    """The run id an output item was measured in (UNRECORDED for outputs made before runs
    were recorded)."""
    run = (item or {}).get("run")
    return str(run) if run else UNRECORDED


def describe(run: dict[str, Any] | None, run_id: str = UNRECORDED) -> str:
    """One line for a run: when, what command, the load average at its start and end."""
    if not run:
        return f"{run_id}: no record (made before runs were recorded)"
    load = run.get("load_avg_start", [None])[0]
    end = (run.get("load_avg_end") or [None])[0]
    loads = f"load average {load} at start" + (f", {end} at end" if end is not None else "")
    commit = run.get("commit") or "unknown commit"
    if run.get("engine_changed_since_commit"):
        commit += " + uncommitted engine changes"
    return f"{run['id']}: `{run.get('command', '?')}` ({run.get('what', '')}; {loads}; {commit})"


def label(run_id: str) -> str:
    """A short label for a run id, its start to the minute: "2026-12-05 13:40"."""
    return "unrecorded" if run_id == UNRECORDED else run_id[:16].replace("T", " ")


def of_tools(acc: dict[str, Any]) -> set[str]:
    """The runs the tools of an accuracy result were measured in."""
    return {of(tool) for tool in acc.get("tools", {}).values()}


def same_run(acc: dict[str, Any]) -> bool:
    """True only when every tool (and our index build) was measured in one recorded run."""
    ids = of_tools(acc) | {of(acc.get("index"))}
    return len(ids) == 1 and UNRECORDED not in ids


def tool_name(acc: dict[str, Any], tool: str, name: str) -> str:
    """A tool's display name, tagged with its run unless every tool shares one run."""
    ids = of_tools(acc)
    if len(ids) == 1 and UNRECORDED not in ids:
        return name
    return f"{name} [run {label(of(acc['tools'].get(tool)))}]"


def section(*results: dict[str, Any]) -> str:
    """The runs every figure of these results came from, one line each, oldest first."""
    records: dict[str, dict[str, Any] | None] = {}
    for result in results:
        records.update(result.get("runs", {}))
        for tool in result.get("tools", {}).values():
            records.setdefault(of(tool), None)
        if result.get("index"):
            records.setdefault(of(result["index"]), None)
        for size in result.get("sizes", []):
            records.setdefault(size.get("build_run") or UNRECORDED, None)
    lines = [f"- **{label(i)}** — {describe(records[i], i)}" for i in sorted(records)]
    return "\n".join(lines) + "\n"


def load_range(acc: dict[str, Any], tools: tuple[str, ...] | None = None) -> tuple[float, float]:
    """The lowest and highest load average around the tools' own measurements (0, 0 when
    they were not stamped)."""
    loads = [
        tool[k]
        for name, tool in acc.get("tools", {}).items()
        if tools is None or name in tools
        for k in ("load_avg_before", "load_avg_after")
        if tool.get(k) is not None
    ]
    return (min(loads), max(loads)) if loads else (0.0, 0.0)
