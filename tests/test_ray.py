"""The Ray paths in Ray's local mode on 2 CPUs, over a slice of the shared corpus: the
build (with a worker lost mid-task and a resumed build) and Ray Serve, in both its
layouts, give the answers of the local sharded build; a damaged shard is a 503 naming
it; an unreachable cluster is one line. One Ray session for the module (Ray takes a
while to start)."""

from __future__ import annotations

import json
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_shards import CORPUS, answers, same_stats, windows

from attribution.cli.main import main
from attribution.core.config import Config
from attribution.core.search import attribute
from attribution.index.build import build
from attribution.index.format import read_manifest, write_manifest
from attribution.index.ingest import IngestLimits
from attribution.index.optout import OptOut
from attribution.index.store import Index

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'attribution[ray]'")
pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"no shared corpus at {CORPUS}")
UNIT_ROWS = 40


@pytest.fixture(scope="module")
def session() -> Any:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("ray")
    table = pq.read_table(CORPUS)
    rows = table.take(pa.array(range(0, table.num_rows, 100)))
    source = work / "slice.parquet"
    pq.write_table(rows, source)
    local = work / "local"
    build([str(source)], local, jobs=2, shards=4)
    return {"work": work, "source": source, "local": local, "rows": rows.to_pylist()}


def test_the_ray_build_gives_the_local_index_despite_a_lost_worker_and_a_resume(
    session: Any, data: dict[str, Any]
) -> None:
    from attribution.index.ray_build import BUILD_DIR, _unit_task, build_on_ray
    from attribution.index.units import plan, plan_key

    root = data["work"] / "on-ray"
    spec = [str(data["source"])]
    units = plan(spec, UNIT_ROWS)
    assert len(units) >= 3
    # an earlier build stopped after its first unit: its work is on disk
    key = plan_key(spec, units, {"config": Config().build_dict(), "shards": 4})
    work = root / BUILD_DIR / key
    work.mkdir(parents=True)
    _unit_task(units[0], str(work), Config(), 4, IngestLimits(), OptOut())
    report = build_on_ray(spec, root, shards=4, unit_rows=UNIT_ROWS, die_once=units[-1].number)
    assert report.resumed_units == 1
    assert (work.parent / key).exists() is False  # the work directory is gone once committed
    manifest = read_manifest(root)
    assert manifest["shards"] == 4 and len(manifest["segments"]) == 4
    queries = windows(data["rows"], 30)
    with Index(data["local"]) as local, Index(root) as on_ray:
        expected = answers(local, queries)
        assert sum('"verdict": "match"' in a for a in expected) >= 15
        assert answers(on_ray, queries) == expected
    same_stats(data["local"], root)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize(
    ("per", "deployments"),
    [(None, {"router"}), (2, {"router", "shards-000-001", "shards-002-003"})],
    ids=["router-holds-every-shard", "two-groups"],
)
def test_ray_serve_answers_as_the_index_and_503_names_a_damaged_shard(
    session: Any, data: dict[str, Any], per: int | None, deployments: set[str]
) -> None:
    """On 2 CPUs the router holds every shard and answers in process (no shard
    deployment); with 2 shards per replica its queries go to two groups in rounds."""
    from ray import serve

    from attribution.web.ray_serve import deploy

    root = data["work"] / f"served-{per}"
    shutil.copytree(data["local"], root)
    try:
        url = deploy(root, port=_free_port(), cpus_per_replica=0.1, settings={"env": {}},
                     shards_per_replica=per)  # fmt: skip
        assert set(serve.status().applications["attribution"].deployments) == deployments
        queries = windows(data["rows"], 12, seed=5)
        with Index(root) as index:
            for code, name in queries:
                expected = attribute(code, index, filename=name)
                status, got = _post(url + "v1/attribute", {"code": code, "filename": name})
                assert status == 200
                expected.pop("elapsed_ms"), got.pop("elapsed_ms")
                assert got == json.loads(json.dumps(expected))
        shutil.rmtree(root / "shards" / "002")
        write_manifest(root, read_manifest(root))
        code, name = queries[0]
        status, got = _post(url + "v1/attribute", {"code": code, "filename": name})
        assert status == 503
        assert got["error"]["code"] == "index_unavailable"
        message = got["error"]["message"]
        assert "shard 2 of 4" in message and str(root) not in message
    finally:
        serve.shutdown()  # the next layout starts its own Serve instance on its own port


def test_an_unreachable_ray_cluster_is_one_line_and_writes_nothing(
    data: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never"
    argv = ["index", "build", str(data["source"]), "--index", str(out), "--shards", "2"]
    assert main([*argv, "--engine", "ray", "--address", f"127.0.0.1:{_free_port()}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Ray cluster at 127.0.0.1:" in err
    assert not out.exists()
