"""`attribution serve --engine ray`: a sharded index on Ray Serve.

One deployment per group of shards (`shard-NNN`, or `shards-NNN-MMM` when a replica
holds several: `shards_per_replica`; each replica holds `Index(root, shard=s)` of its
shards, re-opened when the root manifest changes) and a router deployment that runs the
very Flask app of `attribution serve` (the same API, errors and page) with its queries
on a FannedIndex whose rounds of calls go to the shard deployments, one call per group
asked. Adding replicas adds capacity; Ray Serve spreads replicas over the cluster's
machines. Every process needs the index directory on a file system they share. A shard
that fails or does not answer within the query budget makes the answer a 503 naming it.

A Ray Serve call costs milliseconds whatever it carries (bench/ray_serve_rounds.py), so
by default a replica holds as many shards as it takes to fit the shard replicas in the
cluster's CPUs, less one for the router: on 2 CPUs, all 4 shards of an index in one
replica, a round of a search one call. A replica holding every shard also sends the
likely candidates' tokens and sources with the look-up (fanout.likely_candidates: the
search's own candidates then), so a search costs one round, two when a match has copies
whose texts order them; with several groups, the candidates' tokens take a round too.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

from attribution.index.fanout import FannedIndex, Request, likely_candidates
from attribution.index.format import read_manifest
from attribution.index.ray_build import connect
from attribution.index.shards import check
from attribution.index.store import settle
from attribution.web.indexref import IndexRef, warm_index
from attribution.web.settings import Settings

SHARD_TIMEOUT_S = 30.0  # a shard call slower than this is a shard down


class ShardServer:
    """Some shards of the index, answering rounds of the FannedIndex's calls."""

    def __init__(self, root: str, shards: list[int]) -> None:
        self.refs = {s: IndexRef(root, opener=_shard_opener(s)) for s in shards}

    def round(self, requests: list[Request], ahead: bool = False) -> tuple[list[Any], list[Any]]:
        """Each request's (True, answer), or (False, why) when its shard failed; and, for a
        round of look-ups with `ahead`, the likely candidates' tokens and sources."""
        out: list[tuple[bool, Any]] = []
        for shard, method, args in requests:
            try:
                out.append((True, getattr(self.refs[shard].get(), method)(*args)))
            except Exception as err:  # named by the router: "shard s of n did not answer"
                out.append((False, f"{type(err).__name__}: {err}"))
        if not ahead or not all(ok for ok, _ in out):
            return out, []
        return out, self._ahead(requests, [answer for _, answer in out])

    def _ahead(self, requests: list[Request], answers: list[Any]) -> list[Any]:
        """(shard, own blobs, their tokens, their sources) of likely_candidates."""
        config = self.refs[requests[0][0]].get().config
        sketches = requests[0][2][2]
        bits = sketches.shape[1] * 8 if len(sketches) else 0
        looked = {r[0]: a for r, a in zip(requests, answers, strict=True)}
        likely = likely_candidates(looked, config, bits, config.max_candidates)
        by_shard: dict[int, list[int]] = {}
        for shard, local in likely:
            by_shard.setdefault(shard, []).append(local)
        return [
            (
                s,
                local,
                self.refs[s].get().tokens_many(local),
                self.refs[s].get().sources_many(local),
            )
            for s, local in by_shard.items()
        ]


def _shard_opener(shard: int) -> Any:
    return lambda root: warm_index(root, shard)  # warmed up as `serve` warms its index


class ShardCalls:
    """FannedIndex's `call` over the shard deployments: a round is one call per group."""

    def __init__(self, handles: list[Any], groups: list[list[int]]) -> None:
        self.handles = handles
        self.group_of = {s: g for g, shards in enumerate(groups) for s in shards}

    def __call__(self, shard: int, method: str, *args: Any) -> _Answer:
        return self.round([(shard, method, args)])[0]

    def round(self, requests: list[Request]) -> list[_Answer]:
        """One call per group; a round of look-ups to a single group asks the likely
        candidates' tokens and sources to come with it (ShardServer._ahead)."""
        by_group: dict[int, list[int]] = {}
        for i, (shard, _, _) in enumerate(requests):
            by_group.setdefault(self.group_of[shard], []).append(i)
        # one server holding every shard guesses the candidates as the search will choose
        # them; several would each send their own guesses (many times the tokens needed)
        ahead = len(self.handles) == 1 and all(m == "look_up_round" for _, m, _ in requests)
        out: list[_Answer] = [None] * len(requests)  # type: ignore[list-item]
        for g, asked in by_group.items():
            sent = self.handles[g].round.remote([requests[i] for i in asked], ahead)
            response = _Group(sent)
            for j, i in enumerate(asked):
                out[i] = _Answer(response, j)
        return out


class _Group:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.value: tuple[list[tuple[bool, Any]], list[Any]] | None = None

    def result(self) -> tuple[list[tuple[bool, Any]], list[Any]]:
        if self.value is None:
            self.value = self.response.result(timeout_s=SHARD_TIMEOUT_S)
        return self.value


class _Answer:
    def __init__(self, group: _Group, j: int) -> None:
        self.group, self.j = group, j

    def result(self) -> Any:
        ok, value = self.group.result()[0][self.j]
        if not ok:
            raise RuntimeError(value)
        return value

    def prefetched(self) -> list[Any]:
        """What the group's server sent ahead (with its first answer only)."""
        return self.group.result()[1] if self.j == 0 else []


class Router:
    """The HTTP API of SPEC.md, its queries fanned out to the shard deployments."""

    def __init__(
        self, root: str, handles: list[Any], groups: list[list[int]], settings: dict[str, Any]
    ) -> None:
        from attribution.web.app import create_app

        self.app = create_app(root, **settings)
        svc = self.app.extensions["attribution"]
        calls = ShardCalls(handles, groups)
        fanned = IndexRef(root, opener=lambda r: FannedIndex(r, calls))
        svc.query_index = fanned.get
        settle()

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import Response

        # Ray Serve's proxy hands the body over only when asked, by a call back to it: a
        # request that has none (no Content-Length, no Transfer-Encoding: RFC 9112 6.3,
        # every GET of the API) spares that call
        body = await request.body() if _has_body(request.headers) else b""
        status, headers, content = await asyncio.to_thread(self._wsgi, request, body)
        return Response(content=content, status_code=status, headers=headers)

    def _wsgi(self, request: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        prefix = request.scope.get("root_path", "")  # the app's route prefix, if not "/"
        path = request.url.path
        environ = EnvironBuilder(
            path=(path[len(prefix) :] or "/") if path.startswith(prefix) else path,
            method=request.method,
            headers=list(request.headers.items()),
            data=body,
            query_string=request.url.query,
        ).get_environ()
        environ["SCRIPT_NAME"] = prefix
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        content = b"".join(app_iter)
        kept = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return int(status.split()[0]), kept, content


def _has_body(headers: Any) -> bool:
    length = headers.get("content-length")
    return "transfer-encoding" in headers or (length is not None and length.strip() != "0")


def deploy(
    root: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    replicas: int = 1,
    address: str | None = None,
    cpus_per_replica: float = 1.0,
    shards_per_replica: int | None = None,
    settings: dict[str, Any] | None = None,
) -> str:
    """Deploy the shards and the router; returns the service's URL. shards_per_replica:
    how many shards a replica holds (None: as many as fit the cluster's CPUs)."""
    root = Path(root).resolve()
    n = check(root, read_manifest(root))
    if not n:
        raise ValueError(f"index {root} is not sharded: serve it without --engine ray")
    if settings is None:  # the router's replicas take this process's ATTRIBUTION_* settings
        settings = {"env": {k: v for k, v in os.environ.items() if k.startswith("ATTRIBUTION_")}}
    Settings.load(root, **settings)  # bad settings: one line here, not in a replica's log
    if shards_per_replica is not None and shards_per_replica < 1:
        raise ValueError(f"shards per replica must be at least 1, not {shards_per_replica}")
    connect(address)
    import ray
    from ray import serve

    per = shards_per_replica or fitting(n, int(ray.cluster_resources().get("CPU", 1)))
    groups = [list(range(a, min(a + per, n))) for a in range(0, n, per)]
    actor = {"num_cpus": cpus_per_replica}
    shard = serve.deployment()(ShardServer)
    router = serve.deployment()(Router)
    shards = [
        shard.options(name=group_name(g), num_replicas=replicas, ray_actor_options=actor).bind(
            str(root), g
        )
        for g in groups
    ]
    app = router.options(name="router", num_replicas=replicas, ray_actor_options=actor).bind(
        str(root), shards, groups, settings
    )
    serve.start(http_options={"host": host, "port": port})
    serve.run(app, name="attribution", route_prefix="/")
    return f"http://{host}:{port}/"


def fitting(shards: int, cpus: int) -> int:
    """Shards per replica so that the shard replicas fit the CPUs left by the router."""
    return math.ceil(shards / max(1, cpus - 1))


def group_name(shards: list[int]) -> str:
    """A shard deployment's name: `shard-002`, or `shards-000-003` for shards 0 to 3."""
    if len(shards) == 1:
        return f"shard-{shards[0]:03d}"
    return f"shards-{shards[0]:03d}-{shards[-1]:03d}"


def run(root: str | Path, **kwargs: Any) -> int:
    """Deploy, then serve until interrupted (Ctrl+C or SIGTERM)."""
    url = deploy(root, **kwargs)
    n = read_manifest(Path(root))["shards"]
    print(f"attribution: serving on {url} (Ray Serve: {n} shards)", flush=True)
    from ray import serve

    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()
    return 0
