"""Fault injection: damaged index files, malformed manifests, writers killed with SIGKILL,
and the data-loss cases (an empty build over an index, a rebuild after an opt-out).
The longer version, with hundreds of cases: bench/faults.py (whose builders these use)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from attribution.cli.main import main
from attribution.index.build import build
from attribution.index.format import read_manifest
from attribution.index.maintain import remove
from attribution.index.stats import stats
from attribution.index.verify import verify
from attribution.index.writer import IndexShrinkError, locked

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import faults


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return faults.write_sources(tmp_path_factory.mktemp("faults"))


@pytest.fixture
def index(sources: dict[str, Path], tmp_path: Path) -> Path:
    return faults.make_index(tmp_path, sources["src"])


def test_every_damaged_file_is_one_line_or_a_correct_answer(tmp_path: Path) -> None:
    cases = list(faults.damaged_cases(tmp_path, seed=0))
    kinds = {c["file"] for c in cases}
    assert {"meta.sqlite", "tokens.bin", "content.bin", "SEGMENT.json"} <= kinds
    assert {"MANIFEST.json", "deletions", "fp_exact_hash.npy", "sketch.npy"} <= kinds
    bad = [(c["file"], c["damage"], op, o) for c in cases for op, o in c["outcome"].items()]
    bad = [b for b in bad if not b[3].startswith(("clean", "correct"))]
    assert bad == []
    clean = sum(o == "clean" for c in cases for o in c["outcome"].values())
    assert clean > len(cases) * 2  # most damage is met, and named


def test_malformed_manifest_fields_are_one_line(tmp_path: Path, index: Path, capsys) -> None:
    assert all(case["ok"] for case in faults.manifest_cases(tmp_path / "m"))
    manifest = json.loads((index / "MANIFEST.json").read_text())
    (index / "MANIFEST.json").write_text(json.dumps({**manifest, "segments": "x"}))
    assert main(["index", "stats", "--index", str(index)]) == 2
    err = capsys.readouterr().err.strip()
    assert '"segments" must be a list of segment names, not "x"' in err and "\n" not in err


def test_writers_killed_at_random_points_lose_nothing(tmp_path: Path) -> None:
    outcomes = list(faults.kill_cases(tmp_path, kills=10, seed=5))
    assert {k["op"] for k in outcomes} == {"build", "add", "merge", "remove", "optout"}
    assert [k for k in outcomes if k["outcome"] != "ok"] == []


def test_a_dead_writers_lock_is_released(index: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, pathlib\n"
         "from attribution.index.writer import locked\n"
         "with locked(pathlib.Path(sys.argv[1])):\n"
         "    print('held', flush=True); sys.stdin.read()", str(index)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(Exception, match="being written by another process"), locked(index):
        pass
    holder.kill()  # SIGKILL: no cleanup runs; the kernel drops the fcntl lock
    holder.wait()
    with locked(index):
        pass


def test_a_build_of_nothing_leaves_the_index(index: Path, tmp_path: Path, capsys) -> None:
    before = read_manifest(index)
    (tmp_path / "empty").mkdir()
    assert main(["index", "build", str(tmp_path / "empty"), "--index", str(index)]) == 2
    assert "the index is unchanged" in capsys.readouterr().err
    assert read_manifest(index) == before and stats(index)["sources"] == 4


def test_a_smaller_index_needs_replace(index: Path, sources: dict[str, Path], capsys) -> None:
    one = str(sources["src"] / "alpha")
    with pytest.raises(IndexShrinkError, match="would remove 2"):
        build([one], index, jobs=1)
    assert stats(index)["sources"] == 4
    assert main(["index", "build", one, "--index", str(index), "--jobs", "1", "--replace"]) == 0
    assert "replaced an index of 4 sources: 2 fewer" in capsys.readouterr().out
    assert stats(index)["sources"] == 2


def test_a_rebuild_keeps_opted_out_code_out(index: Path, sources: dict[str, Path]) -> None:
    remove(index, [("repo", "beta")])  # beta's tw.py is alpha's textwrap: both go
    assert "beta" not in _repos(index) and _textwrap_sources(index) == 0
    src = [str(sources["src"]), str(sources["extra"])]
    build(src, index, jobs=1, shrink=True)  # nothing passed about opt-outs
    repos = _repos(index)
    assert "beta" not in repos and "gone" not in repos and "gamma" in repos
    assert _textwrap_sources(index) == 0  # the copy in alpha went with beta, and stays out
    build([str(sources["extra"])], index, jobs=1, replace=False)  # add honours them too
    assert "beta" not in _repos(index)


def _repos(index: Path) -> set[str]:
    from attribution.index.store import Index

    with Index(index) as idx:
        return {
            r[0]
            for seg in idx.segments
            for r in seg.db.execute(
                "SELECT r.name, s.sid FROM sources s JOIN repos r ON r.repo_id = s.repo_id"
            ).fetchall()
            if not idx.is_deleted(r[1])
        }


def _textwrap_sources(index: Path) -> int:
    """Live sources holding textwrap (alpha's and beta's copy of it)."""
    from attribution.index.lookup import by_blobs
    from attribution.index.store import Index

    with Index(index) as idx:
        hits = by_blobs(idx, [r[1] for seg in idx.segments for r in seg.blob_rows()])
    return sum(h.path.endswith(("textwrap.py", "tw.py")) for h in hits)


def test_a_removal_killed_before_its_switch_is_completed(index: Path, monkeypatch) -> None:
    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # as if killed between the log line and the rename

    monkeypatch.setattr("attribution.index.maintain._switch_deletions", killed)
    with pytest.raises(KeyboardInterrupt):
        remove(index, [("repo", "beta")])
    log = (index / "removals.jsonl").read_text().splitlines()
    assert json.loads(log[-1])["rule"] == "repo:beta"  # logged before it took effect
    assert "beta" in _repos(index)
    monkeypatch.undo()
    with locked(index):  # the next writer completes it
        pass
    assert "beta" not in _repos(index) and verify(index, deep=True).sound


def test_leftovers_of_killed_writers_are_swept(index: Path) -> None:
    (index / "segments" / ".tmp-dead").mkdir()
    (index / "segments" / "seg-20200101000000-orphan0").mkdir()
    named = read_manifest(index)["segments"]
    with locked(index):
        pass
    assert sorted(p.name for p in (index / "segments").iterdir()) == sorted(named)


def test_verify_names_each_damaged_file(index: Path, capsys) -> None:
    assert main(["index", "verify", "--deep", "--index", str(index)]) == 0
    seg = index / "segments" / read_manifest(index)["segments"][0]
    data = bytearray((seg / "fp_exact_hash.npy").read_bytes())
    data[-3] ^= 0xFF  # inside the array: sizes and headers are right
    (seg / "fp_exact_hash.npy").write_bytes(bytes(data))
    assert main(["index", "verify", "--index", str(index)]) == 0  # the cheap check passes
    capsys.readouterr()
    assert main(["index", "verify", "--deep", "--index", str(index)]) == 1
    out = capsys.readouterr().out
    assert "fp_exact_hash.npy: checksum differs" in out and "1 damaged" in out


def test_the_service_answers_503_naming_the_damage(index: Path, sources) -> None:
    seg = index / "segments" / read_manifest(index)["segments"][0]
    (seg / "tokens.bin").write_bytes((seg / "tokens.bin").read_bytes()[:-10])
    code, body = faults.service_query(index, sources["query"].read_text())
    assert code == 503 and "tokens.bin" in json.dumps(body)
