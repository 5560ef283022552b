"""The benchmark report names the run of every figure: a rescore that measures our engine
again keeps the peers' older run, and the report then never calls the rows one run; a target
against peers that did not run is not "met"."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from attrbench import accuracy, generate, report, report_text, runs  # noqa: E402

SOURCE = '''def parse_header(block, offset=0):
    """Read the fixed header of a record block."""
    magic = block[offset:offset + 4]
    if magic != b"RCRD":
        raise ValueError("bad magic %r at %d" % (magic, offset))
    size = int.from_bytes(block[offset + 4:offset + 8], "little")
    flags = int.from_bytes(block[offset + 8:offset + 12], "little")
    return {"size": size, "flags": flags, "start": offset + 12}


def checksum(data, seed=7):
    total = seed
    for index, value in enumerate(data):
        total = (total * 31 + value * (index + 1)) % 1000003
    return total
'''


def _queries(blob_id: str) -> list[generate.Query]:
    lines = SOURCE.splitlines()
    verbatim = "\n".join(lines[:8]) + "\n"
    truth = {
        "blob_id": blob_id,
        "source_lines": [1, 8],
        "query_lines": [1, 8],
        "match_type": "exact",
    }
    return [
        generate.Query("q1", "positive", "verbatim", "python", verbatim, 8, truth),
        generate.Query("q2", "boilerplate", "boilerplate:main_guard", "python", "main()\n", 1),
    ]


@pytest.fixture()
def saved_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache as an earlier accuracy run leaves it: a split index, its queries, a peer's
    saved answers, and accuracy.json with every tool in that run (run A)."""
    from attrbench import ours
    from attrbench.corpus import indexed_sources

    from attribution.index.build import build

    monkeypatch.setenv("BENCH_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "src" / "pkg"
    src.mkdir(parents=True)
    (src / "records.py").write_text(SOURCE)
    index_dir = tmp_path / "cache" / "split-s1" / "index"
    build([str(tmp_path / "src")], index_dir, jobs=1)
    (blob_id,) = [s.blob_id for s in indexed_sources(index_dir)]
    queries = _queries(blob_id)
    generate.save(queries, tmp_path / "cache" / "queries-s1.jsonl")
    answers = ours.run(index_dir, queries)
    (tmp_path / "cache" / "ours-answers-s1.json").write_text(json.dumps(answers))
    peer = {"q1": {"ms": 9.0, "matches": [{"blob_id": blob_id, "score": 0.8}]}, "q2": {"ms": 8.0}}
    (tmp_path / "cache" / "peers-s1").mkdir()
    (tmp_path / "cache" / "peers-s1" / "dolos-answers.json").write_text(json.dumps(peer))
    old = {"id": "2026-12-03T16:00:00Z", "what": "accuracy", "load_avg_start": [1.1, 1, 1]}
    acc = {
        "runs": {old["id"]: old},
        "index": {"files": 1, "seconds": 1.0, "run": old["id"]},
        "tools": {
            "attribution": {"status": "ok", "run": old["id"]},
            "dolos": {"status": "ok", "run": old["id"], "build_s": 5.0},
        },
    }
    out = tmp_path / "accuracy.json"
    out.write_text(json.dumps(acc))
    return out


def test_rerun_of_ours_keeps_the_peers_run_and_the_report_says_so(saved_run: Path) -> None:
    result = accuracy.rescore(seed=1, out=saved_run, rerun_ours=True)
    ours, dolos = result["tools"]["attribution"], result["tools"]["dolos"]
    assert dolos["run"] == "2026-12-03T16:00:00Z"
    assert ours["run"] != dolos["run"] and ours["run"] in result["runs"]
    assert result["runs"][ours["run"]]["load_avg_start"]
    assert ours["default"]["positives"]["recall"] == 1.0  # the engine really answered
    assert ours["load_avg_before"] >= 0 and "load_avg_before" not in dolos
    assert not runs.same_run(result)
    heading = report_text.speed_heading(result)
    assert "same run" not in heading and "not one run" in heading
    rows = report.speed(result)
    assert runs.label(ours["run"]) in rows and "index built in run 2026-12-03 16:00" in rows
    assert "[run 2026-12-03 16:00]" in report.name(result, "dolos")
    assert "2026-12-03 16:00" in runs.section(result)


def test_rescore_without_rerun_keeps_every_tool_in_its_run(saved_run: Path) -> None:
    result = accuracy.rescore(seed=1, out=saved_run, rerun_ours=False)
    assert {runs.of(t) for t in result["tools"].values()} == {"2026-12-03T16:00:00Z"}
    assert runs.same_run(result)
    assert "same run: 2026-12-03 16:00" in report_text.speed_heading(result)


def _acc(peers: dict[str, Any]) -> dict[str, Any]:
    """An accuracy result with our engine ahead on every transformation."""
    groups = {tr: {"n": 10, "recall": 0.9, "precision": 1.0} for tr in report.TRANSFORMS}
    groups |= {"heldout": {"n": 5, "fp_rate": 0.0}, "boilerplate": {"n": 5, "fp_rate": 0.0}}
    ev = {
        "overall": {"precision": 1.0},
        "by_transform": groups,
        "positives": {"top1_of_found": 1.0, "query_iou_mean": 1.0, "source_iou_mean": 1.0},
    }
    ours = {"status": "ok", "run": "R1", "default": ev, "at_99": ev, "at_95": ev}
    ours["timing"] = {"ms_mean": 5.0}
    return {"tools": {"attribution": ours, **peers}, "index": {"run": "R1"}, "runs": {}}


def _target(acc: dict[str, Any], what: str) -> list[str]:
    lines = [line for line in report_text.targets(acc).splitlines() if what in line]
    assert lines, what
    return [c.strip() for c in lines[0].strip("|").split("|")]


def test_a_target_against_peers_that_did_not_run_is_not_met() -> None:
    failed = {t: {"status": "error", "error": "not installed", "run": "R1"} for t in report.TOOLS}
    acc = _acc({t: v for t, v in failed.items() if t != "attribution"})
    cells = _target(acc, "recall above every peer on every type (all at ≥ 95%")
    assert cells[3] == report_text.NOT_MEASURED
    assert "not measured: Dolos" in cells[4]
    assert _target(acc, "pairwise peer")[3] == report_text.NOT_MEASURED


def test_a_target_against_every_peer_measured_in_one_run_is_met() -> None:
    peer_ev = {"by_transform": {tr: {"recall": 0.5} for tr in report.TRANSFORMS}}
    peer = {"status": "ok", "run": "R1", "default": peer_ev, "at_95": peer_ev, "at_99": None}
    acc = _acc({t: dict(peer) for t in report.TOOLS[1:]})
    cells = _target(acc, "recall above every peer on every type (all at ≥ 95%")
    assert cells[3] == "met" and cells[4] == ""
    acc["tools"]["dolos"]["run"] = "R0"
    cells = _target(acc, "recall above every peer on every type (all at ≥ 95%")
    assert "ours from run R1, peers from run R0, R1" in cells[4]


def test_one_run_under_a_moving_load_says_the_ratio_is_rough() -> None:
    peer_ev = {"by_transform": {tr: {"recall": 0.5} for tr in report.TRANSFORMS}}
    peer = {"status": "ok", "run": "R1", "default": peer_ev, "at_95": peer_ev, "at_99": None}
    acc = _acc({t: dict(peer) for t in report.TOOLS[1:]})
    acc["index"]["run"] = acc["tools"]["attribution"]["run"] = "2026-12-05T13:43:43Z"
    for t in report.TOOLS[1:]:
        acc["tools"][t]["run"] = "2026-12-05T13:43:43Z"
    acc["tools"]["copydetect"]["timing"] = {"ms_mean": 50.0}
    acc["tools"]["attribution"] |= {"load_avg_before": 1.4, "load_avg_after": 1.4}
    acc["tools"]["copydetect"] |= {"load_avg_before": 5.0, "load_avg_after": 8.5}
    heading = report_text.speed_heading(acc)
    assert "same run" in heading and "moved from 1.4 to 8.5" in heading
    note = _target(acc, "pairwise peer")[4]
    assert "ours measured at load average 1.4–1.4, copydetect at 5.0–8.5" in note
