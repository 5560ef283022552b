"""Sharded indexes: the same corpus built unsharded, as 1 shard and as 4 shards gives the
same answers (full results), and stays so through add, remove and merge; a missing shard
or one of another config is one line naming it (503 in the service)."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_e2e import PACKAGES, edited, functions, renamed

from attribution.cli.main import main
from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.fanout import FannedIndex, ShardUnavailable
from attribution.index.format import IndexFormatError, read_manifest, write_manifest
from attribution.index.lookup import lookup
from attribution.index.maintain import merge, remove
from attribution.index.stats import stats
from attribution.index.store import Index

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "files.parquet"
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"shared corpus not found at {CORPUS}")


def corpus_slice(out: Path) -> tuple[Path, Path, list[dict[str, Any]]]:
    """Two parquet tables of real rows: every 80th row, and rows whose content is also
    elsewhere (copies, for opt-outs that follow them)."""
    table = pq.read_table(CORPUS)
    blob = table.column("blob_id").to_pylist()
    seen: dict[str, int] = {}
    for b in blob:
        seen[b] = seen.get(b, 0) + 1
    picked = sorted(
        {*range(0, table.num_rows, 80), *[i for i, b in enumerate(blob) if seen[b] > 1][:120]}
    )
    rows = table.take(pa.array(picked))
    half = rows.num_rows // 2
    a, b = out / "a.parquet", out / "b.parquet"
    pq.write_table(rows.slice(0, half), a)
    pq.write_table(rows.slice(half), b)
    return a, b, rows.to_pylist()


def windows(rows: list[dict[str, Any]], count: int, seed: int = 7) -> list[tuple[str, str]]:
    """(code, file name) queries: windows of indexed files, some with names changed."""
    rng = random.Random(seed)
    out = []
    for row in rng.sample(rows, len(rows)):
        lines = row["content"].splitlines()
        if len(lines) < 15:
            continue
        start = rng.randrange(0, max(1, len(lines) - 40))
        code = "\n".join(lines[start : start + rng.randrange(12, 45)])
        if row["path"].endswith(".py") and rng.random() < 0.5:
            code = renamed(code)
        out.append((code, row["path"]))
        if len(out) == count:
            break
    return out


def answers(index: Any, queries: list[tuple[str, str]]) -> list[str]:
    out = []
    for code, name in queries:
        result = attribute(code, index, filename=name)
        result.pop("elapsed_ms")
        out.append(json.dumps(result, sort_keys=True))
    return out


def same_stats(a: Path, b: Path) -> None:
    drop = ("index", "created", "updated", "shards", "segments", "disk_bytes")
    sa, sb = stats(a), stats(b)
    assert {k: v for k, v in sa.items() if k not in drop} == {
        k: v for k, v in sb.items() if k not in drop
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("shards")
    a, b, rows = corpus_slice(work)
    built = {}
    for name, shards in (("plain", None), ("one", 1), ("four", 4)):
        built[name] = work / name
        build([str(a), str(b)], built[name], jobs=2, shards=shards)
    return {"work": work, "a": a, "b": b, "rows": rows, **built}


def test_one_and_four_shards_answer_as_the_unsharded_index(corpus: dict[str, Any]) -> None:
    queries = windows(corpus["rows"], 60)
    with Index(corpus["plain"]) as plain:
        expected = answers(plain, queries)
    assert sum('"verdict": "match"' in a for a in expected) >= 40  # the comparison has teeth
    for name in ("one", "four"):
        with Index(corpus[name]) as index:
            assert index.n_shards == {"one": 1, "four": 4}[name]
            got = answers(index, queries)
        assert got == expected, (
            f"{name}: {sum(g != e for g, e in zip(got, expected, strict=True))} differ"
        )
        same_stats(corpus["plain"], corpus[name])
    manifest = read_manifest(corpus["four"])
    assert manifest["shards"] == 4 and len(manifest["segments"]) == 4
    with Index(corpus["plain"]) as plain, Index(corpus["four"]) as four:
        repo = corpus["rows"][0]["repo_name"]
        assert lookup(plain, "repo", repo) == lookup(four, "repo", repo)


def test_a_fanned_index_answers_as_the_index_and_names_a_failing_shard(
    corpus: dict[str, Any],
) -> None:
    class Now:
        def __init__(self, call: Any) -> None:
            self.call = call

        def result(self) -> Any:
            return self.call()

    shards = [Index(corpus["four"], shard=s) for s in range(4)]
    down: set[int] = set()

    def call(shard: int, method: str, *args: Any) -> Now:
        def run() -> Any:
            if shard in down:
                raise ConnectionError("replica unreachable")
            return getattr(shards[shard], method)(*args)

        return Now(run)

    fanned = FannedIndex(corpus["four"], call)
    queries = windows(corpus["rows"], 20, seed=3)
    with Index(corpus["four"]) as index:
        assert answers(fanned, queries) == answers(index, queries)
    down.add(2)
    with pytest.raises(ShardUnavailable, match=r"shard 2 of 4 .*replica unreachable"):
        answers(fanned, queries)


def test_add_remove_and_merge_keep_sharded_answers_identical(
    corpus: dict[str, Any], tmp_path: Path
) -> None:
    a, b = str(corpus["a"]), str(corpus["b"])
    plain, four = tmp_path / "plain", tmp_path / "four"
    build([a], plain, jobs=2)
    build([a], four, jobs=2, shards=4)
    build([b], plain, jobs=2, replace=False)
    build([b], four, jobs=2, replace=False)  # routed to the index's own shards
    assert len(read_manifest(four)["segments"]) == 8
    queries = windows(corpus["rows"], 40, seed=11)

    def same() -> None:
        with Index(plain) as p, Index(four) as f:
            assert answers(f, queries) == answers(p, queries)

    same()
    repo = max(corpus["rows"], key=lambda r: len(r["content"]))["repo_name"]
    removed = remove(four, [("repo", repo)])
    assert removed == remove(plain, [("repo", repo)])
    assert removed[0].sources > 0
    log = (four / "removals.jsonl").read_text().splitlines()
    assert len(log) == 1 and json.loads(log[0])["rule"] == f"repo:{repo}"
    same()
    merge(plain)
    manifest = merge(four)
    assert len(manifest["segments"]) == 4 and manifest["deletions"] is None
    same()
    same_stats(plain, four)


def test_a_missing_shard_or_one_of_another_config_is_one_line(
    corpus: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "missing"
    shutil.copytree(corpus["four"], broken)
    shutil.rmtree(broken / "shards" / "002")
    with pytest.raises(IndexFormatError, match=r"shard 2 of 4 \(.*\) is missing"):
        Index(broken)
    assert main(["index", "stats", "--index", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shard 2 of 4" in err

    other = tmp_path / "other"
    source = tmp_path / "src" / "pkg"
    source.mkdir(parents=True)
    (source / "m.py").write_text(corpus["rows"][0]["content"])
    build([str(source.parent)], other, jobs=1, shards=4, config=None)
    foreign = tmp_path / "foreign"
    shutil.copytree(corpus["four"], foreign)
    info = json.loads((foreign / "shards" / "001" / "SHARD.json").read_text())
    info["config"]["k"] = 13
    (foreign / "shards" / "001" / "SHARD.json").write_text(json.dumps(info))
    with pytest.raises(
        IndexFormatError, match=r"shard 1 of 4 .* another config: k=13 \(index: 12\)"
    ):
        Index(foreign)
    shutil.rmtree(foreign / "shards" / "003")
    shutil.copytree(other / "shards" / "003", foreign / "shards" / "003")
    with pytest.raises(IndexFormatError, match="shard 1 of 4"):
        Index(foreign, shard=1)
    with pytest.raises(IndexFormatError, match=r"shard 3 of 4 .* its segment .* is missing"):
        Index(foreign, shard=3)


def test_the_service_answers_503_naming_a_shard_that_went_missing(
    corpus: dict[str, Any], tmp_path: Path
) -> None:
    from attribution.web.app import create_app

    root = tmp_path / "served"
    shutil.copytree(corpus["four"], root)
    client = create_app(root, env={}).test_client()
    code, name = windows(corpus["rows"], 1)[0]
    ok = client.post("/v1/attribute", json={"code": code, "filename": name})
    assert ok.status_code == 200
    shutil.rmtree(root / "shards" / "002")
    write_manifest(root, read_manifest(root))  # an index change: the service re-opens it
    bad = client.post("/v1/attribute", json={"code": code, "filename": name})
    assert bad.status_code == 503
    error = bad.get_json()["error"]
    assert error["code"] == "index_unavailable" and "shard 2 of 4" in error["message"]
    assert str(tmp_path) not in error["message"]


def test_e2e_queries_answer_the_same_on_four_shards(tmp_path: Path) -> None:
    spec = f"installed:{','.join(PACKAGES)}"
    build([spec], tmp_path / "plain", jobs=2)
    build([spec], tmp_path / "four", jobs=2, shards=4)
    queries = []
    for code, path, _, _ in functions(25):
        queries += [(code, path), (renamed(code), path), (edited(code), path)]
    with Index(tmp_path / "plain") as plain, Index(tmp_path / "four") as four:
        expected = answers(plain, queries)
        assert sum('"verdict": "match"' in a for a in expected) >= 60
        assert answers(four, queries) == expected
