"""The Ray Serve layouts without Ray (web/ray_serve.py): a router holding every shard
answers in process; with several groups, shard servers answer a FannedIndex's rounds,
one call per group per round. Both answer as the in-process index, and a damaged shard
is a 503 naming it. Every answer and request to a shard server goes through pickle, as
through Ray."""

from __future__ import annotations

import asyncio
import json
import pickle
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_shards import CORPUS, answers, corpus_slice, windows

from attribution.cli.main import main
from attribution.index.build import build
from attribution.index.fanout import FannedIndex, ShardUnavailable
from attribution.index.format import read_manifest, write_manifest
from attribution.index.store import Index
from attribution.web.ray_serve import (
    Router,
    ShardCalls,
    ShardServer,
    fitting,
    group_name,
    grouped,
)

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason=f"no shared corpus at {CORPUS}")
LAYOUTS = ([[0, 1], [2, 3]], [[0], [1], [2], [3]])  # several groups: rounds


@pytest.fixture(scope="module")
def four(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("ray_serve")
    a, b, rows = corpus_slice(work)
    root = work / "four"
    build([str(a), str(b)], root, jobs=2, shards=4)
    return {"root": root, "rows": rows}


class Replica:
    """A deployment's handle, answering here: `.round.remote(...)` -> `.result()`."""

    def __init__(self, server: ShardServer, log: list[list[str]]) -> None:
        self.server, self.log = server, log
        self.round = self

    def remote(self, requests: list[Any]) -> Any:
        self.log.append([method for _, method, _ in requests])
        answer = self.server.round(pickle.loads(pickle.dumps(requests)))
        return Done(pickle.loads(pickle.dumps(answer)))


class Done:
    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self, timeout_s: float) -> Any:
        return self.value


def served(root: Path, groups: list[list[int]]) -> tuple[FannedIndex, list[list[str]]]:
    log: list[list[str]] = []
    handles = [Replica(ShardServer(str(root), g), log) for g in groups]
    return FannedIndex(root, ShardCalls(handles, groups)), log


def test_groups_answer_as_the_index_in_rounds_of_one_call_per_group(
    four: dict[str, Any],
) -> None:
    queries = windows(four["rows"], 30, seed=21)
    with Index(four["root"]) as index:
        expected = answers(index, queries)
    assert sum('"verdict": "match"' in a for a in expected) >= 15  # the comparison has teeth
    for groups in LAYOUTS:
        fanned, log = served(four["root"], groups)
        texts = 0
        for query, want in zip(queries, expected, strict=True):
            log.clear()
            assert answers(fanned, [query]) == [want], f"{groups}: {query[1]} differs"
            calls = Counter(frozenset(methods) for methods in log)
            # a round is one call per group asked: the look-up asks every group, then
            # the candidates' tokens and sources, then the found blobs' texts (a query
            # too short to look up asks nothing)
            assert calls[frozenset({"look_up_round"})] == len(groups) or not calls
            assert sum(calls.values()) <= 3 * len(groups)
            texts += calls[frozenset({"content"})] > 0
        assert texts > 0  # some match had copies to order: their texts came in one round


def test_a_failing_shard_of_a_group_is_named(four: dict[str, Any], tmp_path: Path) -> None:
    root = tmp_path / "four"
    shutil.copytree(four["root"], root)
    fanned, _ = served(root, [[0, 1], [2, 3]])
    queries = windows(four["rows"], 3, seed=2)
    answers(fanned, queries)
    shutil.rmtree(root / "shards" / "003")
    write_manifest(root, read_manifest(root))  # the servers re-open the index, and fail
    with pytest.raises(ShardUnavailable, match=r"shard 3 of 4 .* did not answer: .*missing"):
        answers(fanned, queries)


def test_replicas_fit_the_cpus_left_by_the_router() -> None:
    assert [fitting(4, cpus) for cpus in (1, 2, 3, 5, 64)] == [4, 4, 2, 1, 1]
    assert fitting(16, 5) == 4
    assert group_name([2]) == "shard-002" and group_name([0, 1, 2, 3]) == "shards-000-003"
    assert grouped(4, fitting(4, 2)) == [[0, 1, 2, 3]]  # one group: the router holds them
    assert grouped(5, 2) == [[0, 1], [2, 3], [4]]


def test_shards_per_replica_below_one_is_one_line(
    four: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["serve", "--index", str(four["root"]), "--engine", "ray", "--shards-per-replica"]
    assert main([*argv, "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shards per replica must be at least 1, not 0" in err


def request(
    method: str, path: str, body: bytes = b"", prefix: str = "", asked: list[str] | None = None
) -> Any:
    """A request as Ray Serve's proxy hands it to the router (`asked`: the paths whose
    body the router asked for)."""
    from starlette.requests import Request

    headers = [(b"host", b"test")]
    if body:
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())]  # fmt: skip

    async def receive() -> dict[str, Any]:
        if asked is not None:
            asked.append(path)
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": method, "path": prefix + path, "query_string": b"",
             "headers": headers, "scheme": "http", "server": ("test", 80),
             "root_path": prefix}  # fmt: skip
    return Request(scope, receive)


def attribute_through(router: Router, code: str, name: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"code": code, "filename": name}).encode()
    response = asyncio.run(router(request("POST", "/v1/attribute", body)))
    return response.status_code, json.loads(response.body)


@pytest.mark.parametrize("groups", [[[0, 1, 2, 3]], [[0, 1], [2, 3]]], ids=["one", "two"])
def test_the_router_answers_as_the_index_and_503_names_a_damaged_shard(
    four: dict[str, Any], tmp_path: Path, groups: list[list[int]]
) -> None:
    """One group: the router answers from its own index (no shard server is asked);
    several: through the shard servers. A shard removed (the manifest rewritten, as a
    change of the index does) makes the next answer a 503 naming it, never a partial
    answer."""
    root = tmp_path / "four"
    shutil.copytree(four["root"], root)
    log: list[list[str]] = []
    handles = [] if len(groups) == 1 else [Replica(ShardServer(str(root), g), log) for g in groups]
    router = Router(str(root), handles, groups, {"env": {}})
    queries = windows(four["rows"], 20, seed=8)
    with Index(root) as index:
        expected = answers(index, queries)
    assert sum('"verdict": "match"' in a for a in expected) >= 10
    for (code, name), want in zip(queries, expected, strict=True):
        status, got = attribute_through(router, code, name)
        assert status == 200
        got.pop("elapsed_ms")
        assert json.dumps(got, sort_keys=True) == want, name
    query_index = router.app.extensions["attribution"].query_index()
    if len(groups) == 1:  # the whole query in this process, on the index `serve` opens
        assert isinstance(query_index, Index) and log == []
    else:
        assert isinstance(query_index, FannedIndex) and len(log) >= len(queries)
    shutil.rmtree(root / "shards" / "003")
    write_manifest(root, read_manifest(root))
    status, got = attribute_through(router, *queries[0])
    assert status == 503 and got["error"]["code"] == "index_unavailable"
    assert "shard 3 of 4" in got["error"]["message"]
    assert str(root) not in got["error"]["message"]


def test_the_router_asks_the_proxy_for_a_body_only_when_there_is_one(
    four: dict[str, Any],
) -> None:
    """Ray Serve's proxy hands a body over only when asked (a call back to it): the
    router's GETs ask nothing, its POSTs read the body and answer as the index; under a
    route prefix, the app sees the path below it."""
    router = Router(str(four["root"]), [], [[0, 1, 2, 3]], {"env": {}})
    asked: list[str] = []
    health = asyncio.run(router(request("GET", "/healthz", asked=asked)))
    assert health.status_code == 200 and json.loads(health.body)["status"] == "ok"
    stats = asyncio.run(router(request("GET", "/v1/stats", asked=asked)))
    assert stats.status_code == 200 and json.loads(stats.body)["blobs"] > 0
    under = asyncio.run(router(request("GET", "/v1/stats", prefix="/attribution", asked=asked)))
    assert (under.status_code, under.body) == (200, stats.body)
    assert asked == []
    (code, name), *_ = windows(four["rows"], 1, seed=5)
    body = json.dumps({"code": code, "filename": name}).encode()
    got = json.loads(asyncio.run(router(request("POST", "/v1/attribute", body, asked=asked))).body)
    assert asked == ["/v1/attribute"]
    got.pop("elapsed_ms")
    with Index(four["root"]) as index:
        assert json.dumps(got, sort_keys=True) == answers(index, [(code, name)])[0]
