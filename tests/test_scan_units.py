"""Pieces of the scan: windows of long files and their stitching, byte ranges, the result
cache's context, time limits, the progress line, and bounded memory over 100,000 items."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attribution.scan import chunks, engine, worker
from attribution.scan.cache import ResultCache
from attribution.scan.progress import ScanProgress
from attribution.scan.records import ScanItem, git_blob_sha1


def test_git_blob_sha1_is_gits() -> None:
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_windows_cover_every_line_once_and_cut_before_top_level_lines() -> None:
    lines = []
    for i in range(700):
        lines.append(f"def f{i}():" if i % 7 == 0 else f"    x = {i}")
    data = ("\n".join(lines) + "\n").encode()
    parts = chunks.windows(data, size=300)
    assert b"".join(chunk for _, chunk in parts) == data
    firsts = [first for first, _ in parts]
    assert firsts[0] == 1
    for (first, chunk), nxt in zip(parts, firsts[1:], strict=False):
        assert first + chunk.count(b"\n") == nxt
        assert lines[nxt - 1].startswith("def ")  # the next window starts at a definition
    assert all(chunk.count(b"\n") <= 300 for _, chunk in parts)


def _m(sid: str, q: list[int], s: list[int], tokens: int, kind: str = "exact") -> dict[str, Any]:
    span = {"query_lines": q, "source_lines": s, "tokens": tokens, "match_type": kind}
    return {"source": {"id": sid}, "match_type": kind, "query_lines": q, "source_lines": s,
            "spans": [span], "tokens": tokens, "score": 0.9, "copies": 1,
            "_tokens_covered": float(tokens)}  # fmt: skip


def test_matches_continuing_across_a_window_boundary_are_joined() -> None:
    joined = chunks._join(
        [
            _m("s:1", [280, 300], [10, 30], 100),
            _m("s:1", [301, 340], [31, 70], 200),
            _m("s:2", [301, 340], [31, 70], 200),
            _m("s:1", [400, 420], [500, 520], 50),
        ]
    )
    by_source = [(m["source"]["id"], m["query_lines"], m["source_lines"]) for m in joined]
    assert by_source == [
        ("s:1", [280, 340], [10, 70]),
        ("s:1", [400, 420], [500, 520]),
        ("s:2", [301, 340], [31, 70]),
    ]
    assert joined[0]["tokens"] == 300 and len(joined[0]["spans"]) == 2
    assert joined[0]["match_type"] == "exact"


def test_byte_ranges_are_one_based_and_inclusive() -> None:
    data = b"a = 1\nbb = 2\nccc = 3\n"
    starts = worker._line_starts(data)
    assert worker._byte_range(starts, len(data), [2, 3]) == [7, 20]
    assert data[7 - 1 : 20] == b"bb = 2\nccc = 3"
    assert worker._byte_range(starts, len(data), [1, 1]) == [1, 5]


def test_deadline_interrupts_slow_work() -> None:
    started = time.monotonic()
    with pytest.raises(worker.FileTimeout, match=r"gave up after 0\.2 s"), worker.deadline(0.2):
        while True:
            sum(range(1000))
    assert time.monotonic() - started < 2
    with worker.deadline(0):
        pass  # no limit: nothing armed


def test_cache_keeps_answers_per_context(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "ctx-a")
    cache.put("b" * 40, "python", {"result": {"verdict": "no_match"}, "excerpts": []})
    cache.close()
    again = ResultCache(tmp_path, "ctx-a")
    assert again.get("b" * 40, "python") == {"result": {"verdict": "no_match"}, "excerpts": []}
    assert again.get("b" * 40, None) is None
    again.close()
    other = ResultCache(tmp_path, "ctx-b")  # a changed index: old answers are dropped
    assert other.get("b" * 40, "python") is None
    other.close()
    assert (tmp_path / ".gitignore").read_text().strip().endswith("*")


def test_stale_timeouts_are_retried() -> None:
    assert engine._stale_timeout({"error": "x", "timeout": 5.0}, 20.0)
    assert not engine._stale_timeout({"error": "x", "timeout": 20.0}, 20.0)
    assert engine._stale_timeout({"error": "x", "timeout": 20.0}, 0.0)
    assert not engine._stale_timeout({"result": {}}, 20.0)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_rate_and_eta_on_a_terminal_only(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"f{i}.py").write_text("x = 1\n")
    stream = _Tty()
    progress = ScanProgress([str(tmp_path)], stream=stream)
    deadline = time.monotonic() + 5
    while progress.total is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert progress.total == 5
    progress.update(2, 2_000_000, 1)
    line = stream.getvalue()
    assert "2/5 files" in line and "files/s" in line and "ETA" in line and "MB" in line
    progress.done()
    quiet = io.StringIO()
    silent = ScanProgress([str(tmp_path)], stream=quiet)
    silent.update(2, 10, 0)
    silent.done()
    assert quiet.getvalue() == ""


def _no_match(jobs: list[worker.Job]) -> list[dict[str, Any]]:
    result = {"query": {"language": "python", "lines": 1, "tokens": 3}, "verdict": "no_match",
              "matches": [], "elapsed_ms": 0.0}  # fmt: skip
    return [{"result": dict(result), "excerpts": []} for _ in jobs]


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def test_memory_stays_bounded_over_100000_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """Items stream through: read-ahead and memory do not grow with the number of files."""
    monkeypatch.setattr(worker, "attribute_batch", _no_match)
    produced = 0
    pipeline = engine.Pipeline(index=None, cache=None, jobs=2, policy=None)  # type: ignore[arg-type]
    ahead: list[int] = []
    rss: list[int] = []

    def items() -> Iterator[ScanItem]:
        nonlocal produced
        for i in range(100_000):
            produced += 1
            if i % 1000 == 0:
                ahead.append(produced - pipeline.summary.files)
                rss.append(_rss())
            data = b"x = %d\n" % i + b"#" * 200
            yield ScanItem(f"src/m{i}.py", f"src/m{i}.py", data, "python", f"m{i}.py")

    pipeline.run(items(), ScanProgress([], enabled=False))
    assert pipeline.summary.files == 100_000
    assert max(ahead) <= engine.MAX_QUEUED + engine.BATCH_FILES * (engine.IN_FLIGHT * 2 + 2)
    growth = max(rss[10:]) - rss[10]  # after the pool and the first batches are up
    assert growth < 30_000_000, f"resident memory grew {growth / 1e6:.1f} MB"
    assert sum(1 for _ in pipeline.spool) == 100_000
    pipeline.spool.close()
