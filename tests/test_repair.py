"""`attribution index repair`: damaged segments (and a damaged shard's) are named with the
sources they hold, dropped only on confirmation, logged; the rest of the index answers
as before, `verify --deep` passes, and adding the SOURCE again brings the sources back."""

from __future__ import annotations

import inspect
import json
from json import scanner
from pathlib import Path
from typing import Any

import pytest
from test_faults import faults

from attribution.cli.main import main
from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.format import read_manifest
from attribution.index.integrity import damaged
from attribution.index.repair import IndexChangedError, diagnose, drop
from attribution.index.stats import stats
from attribution.index.store import Index
from attribution.index.verify import verify


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return faults.write_sources(tmp_path_factory.mktemp("repair"))


def _two_segments(tmp_path: Path, sources: dict[str, Path], shards: int | None = None) -> Path:
    """src (alpha, beta, gone) in one segment per shard, gamma (added) in another."""
    root = tmp_path / "index"
    build([str(sources["src"])], root, jobs=1, shards=shards)
    build([str(sources["extra"])], root, jobs=1, replace=False)
    return root


def _queries(sources: dict[str, Path]) -> list[str]:
    lines = inspect.getsource(scanner).splitlines()
    return [sources["query"].read_text(), "\n".join(lines[10:45]) + "\n"]


def _answers(root: Path, queries: list[str]) -> list[Any]:
    out = []
    with Index(root) as index:
        for q in queries:
            answer = attribute(q, index, language="python")
            answer.pop("elapsed_ms", None)
            out.append(json.loads(json.dumps(answer)))
    return out


def _flip(path: Path, at: int = -5) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


def test_repair_drops_the_damaged_segment_and_keeps_the_rest(
    tmp_path: Path, sources: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _two_segments(tmp_path, sources)
    first, second = read_manifest(root)["segments"]
    queries = _queries(sources)
    before = _answers(root, queries)
    assert before[0]["matches"] and before[1]["matches"]  # textwrap (first), scanner (second)
    _flip(root / "segments" / first / "tokens.bin")
    manifest = read_manifest(root)

    assert main(["index", "repair", "--index", str(root)]) == 1  # stdin is not a terminal
    out = capsys.readouterr().out
    assert f"damaged: {root / 'segments' / first / 'tokens.bin'}: checksum differs" in out
    assert "5 sources of 3 repositories (alpha, beta, gone)" in out and "nothing was changed" in out
    assert read_manifest(root) == manifest

    assert main(["index", "repair", "--index", str(root), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "dropped 1 damaged segment(s) holding 5 sources" in out and "index add" in out
    assert read_manifest(root)["segments"] == [second]
    assert not (root / "segments" / first).exists()
    assert verify(root, deep=True).sound
    after = _answers(root, queries)
    assert after[1] == before[1] and not after[0]["matches"]
    log = json.loads((root / "removals.jsonl").read_text().splitlines()[-1])
    assert log["rule"] == f"repair:{first}" and log["sources"] == 5

    build([str(sources["src"])], root, jobs=1, replace=False)  # re-adding brings them back
    assert _answers(root, queries) == before and stats(root)["sources"] == 6


def test_unreadable_metadata_is_counted_from_the_segment_summary(
    tmp_path: Path, sources: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _two_segments(tmp_path, sources)
    first = read_manifest(root)["segments"][0]
    meta = root / "segments" / first / "meta.sqlite"
    meta.write_bytes(b"\0" * meta.stat().st_size)
    assert main(["check", str(sources["query"]), "--index", str(root)]) == 2
    assert "attribution index repair --index" in capsys.readouterr().err  # the hint names it
    assert main(["index", "repair", "--index", str(root), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "5 sources as written (meta.sqlite unreadable: no names)" in out
    assert verify(root, deep=True).sound and stats(root)["sources"] == 1


def test_a_damaged_shard_is_dropped_and_the_other_answers_as_before(
    tmp_path: Path, sources: dict[str, Path]
) -> None:
    root = _two_segments(tmp_path, sources, shards=2)
    queries = _queries(sources)
    before = _answers(root, queries)
    shard = _shard_of_scanner(root)
    other = 1 - shard
    (root / "shards" / f"{other:03d}" / "SHARD.json").write_text("{}")
    found = diagnose(root)
    assert {d.name.split("/")[1] for d in found.damaged} == {f"{other:03d}"}
    assert found.bad_shards == [other]
    drop(found)
    assert verify(root, deep=True).sound
    assert all(n.startswith(f"shards/{shard:03d}/") for n in read_manifest(root)["segments"])
    assert _answers(root, queries)[1] == before[1]


def _shard_of_scanner(root: Path) -> int:
    from attribution.index.lookup import find

    with Index(root) as index:
        (hit,) = [h for h in find(index, "repo", "gamma") if h.path.endswith("scanner.py")]
    from attribution.index.shards import shard_of

    return shard_of(hit.blob_id, 2)


def test_repair_refuses_when_the_index_changed_since_its_check(
    tmp_path: Path, sources: dict[str, Path]
) -> None:
    root = _two_segments(tmp_path, sources)
    _flip(root / "segments" / read_manifest(root)["segments"][0] / "content.bin")
    found = diagnose(root)
    assert len(found.damaged) == 1
    build([str(sources["extra"])], root, jobs=1, replace=False)
    with pytest.raises(IndexChangedError, match="written to since it was checked"):
        drop(found)
    assert len(read_manifest(root)["segments"]) == 3


def test_a_sound_index_has_nothing_to_repair(
    tmp_path: Path, sources: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = _two_segments(tmp_path, sources)
    assert main(["index", "repair", "--index", str(root)]) == 0
    assert "nothing to repair" in capsys.readouterr().out
    assert "index repair" in str(damaged(root / "segments" / "x" / "tokens.bin", "bad"))
