"""Pool workers never outlive a build or scan killed with SIGKILL (they held the writer
lock and 150 MB each, for minutes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CODE = "def f{i}(a, b):\n    total = a + b * {i}\n    return [total for _ in range({i})]\n"


def children(pid: int) -> set[int]:
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                out.add(int(entry.name))
    return out


def alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists()}


def wait_for(condition, seconds: float):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("command", ["build", "scan"])
def test_workers_die_with_a_killed_parent(tmp_path: Path, command: str) -> None:
    tree = tmp_path / "tree"
    for r in range(300):
        (tree / f"r{r}").mkdir(parents=True)
        (tree / f"r{r}" / "m.py").write_text(CODE.format(i=r) * 40)
    index = tmp_path / "idx"
    exe = [sys.executable, "-m", "attribution"]
    if command == "scan":
        subprocess.run(
            [*exe, "index", "build", str(tree / "r0"), "--index", str(index)],
            check=True,
            capture_output=True,
        )
        argv = [*exe, "scan", str(tree), "--index", str(index), "--jobs", "2", "--no-cache"]
    else:
        argv = [*exe, "index", "build", str(tree), "--index", str(index), "--jobs", "2"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        workers = wait_for(lambda: children(proc.pid) if len(children(proc.pid)) >= 2 else None, 30)
        assert workers, "the pool did not start"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    wait_for(lambda: not alive(workers), 10)
    assert alive(workers) == set()
