"""A scan killed mid-way (SIGKILL) and run again gives the same report as an uninterrupted
one; a re-scan of an unchanged tree answers from the cache."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from test_scan_e2e import Planted, planted, renamed

__all__ = ["planted"]  # fixture used here

ROOT = Path(__file__).resolve().parents[1]
FILES = 1200
RUNNER = """
import sys
from attribution.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def many(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FILES distinct files, each a renamed copy of a planted function and a unique tail."""
    tree = tmp_path_factory.mktemp("many") / "tree"
    tree.mkdir()
    codes = [p.function.code for p in planted.plants]
    for i in range(FILES):
        code = renamed(codes[i % len(codes)]).replace("v", f"n{i}_")
        tail = f"\n\ndef tail_{i}(values):\n    return [v * {i} for v in values]\n"
        (tree / f"m{i:04d}.py").write_text(code + tail)
    return tree


def _scan(runner: Path, args: list[str], cwd: Path, index: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ATTRIBUTION_INDEX": str(index), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(runner), "scan", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _rows(cache: Path) -> int:
    try:
        with sqlite3.connect(cache / "scan.sqlite", timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM results").fetchone()[0])
    except sqlite3.Error:
        return 0


def _normalized(report: Path) -> dict[str, Any]:
    """The report without what differs between runs by nature (times, cache hits)."""
    data = json.loads(report.read_text())
    data.pop("started")
    for key in ("seconds", "cached"):
        data["summary"].pop(key)
    for entry in data["files"]:
        entry.pop("cached")
        entry["result"].pop("elapsed_ms")
    return data


def test_resumed_scan_matches_an_uninterrupted_one(
    planted: Planted, many: Path, tmp_path: Path
) -> None:
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    args = [str(many), "--format", "json", "--jobs", "2", "--no-policy"]
    cache = tmp_path / "cache"
    first = _scan(
        runner, [*args, "--cache", str(cache), "--output", "a.json"], tmp_path, planted.index_dir
    )
    deadline = time.monotonic() + 120
    while _rows(cache) < 100 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the scan ended before it could be killed: make it longer"
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = _rows(cache)
    assert 0 < done_before < FILES
    assert not (tmp_path / "a.json").exists()

    resumed = _scan(
        runner, [*args, "--cache", str(cache), "--output", "b.json"], tmp_path, planted.index_dir
    )
    assert resumed.wait(timeout=300) == 1, resumed.stderr.read() if resumed.stderr else ""
    whole = _scan(runner, [*args, "--no-cache", "--output", "c.json"], tmp_path, planted.index_dir)
    assert whole.wait(timeout=300) == 1
    report_b = json.loads((tmp_path / "b.json").read_text())
    assert report_b["summary"]["cached"] >= done_before
    assert report_b["summary"]["files"] == FILES
    assert _normalized(tmp_path / "b.json") == _normalized(tmp_path / "c.json")


def test_rescan_of_an_unchanged_tree_is_answered_from_the_cache(
    planted: Planted, tmp_path: Path
) -> None:
    from attribution.index.store import Index
    from attribution.scan import ScanSettings, scan

    settings = ScanSettings(jobs=1, cache_dir=str(tmp_path / "cache"), progress=False)
    with Index(planted.index_dir, top=50) as index:
        cold = scan([str(planted.root)], index, settings)
        warm = scan([str(planted.root)], index, settings)
    assert cold.summary.cached == 0
    assert warm.summary.cached == warm.summary.files == cold.summary.files
    assert warm.summary.findings == cold.summary.findings
    assert warm.summary.seconds < cold.summary.seconds
    cold_matches = [r.result["matches"] for r in cold.records()]
    assert [r.result["matches"] for r in warm.records()] == cold_matches
