"""`attribution serve --engine ray`: a sharded index on Ray Serve.

A router deployment runs the very Flask app of `attribution serve` (the same API, errors
and page). Its replicas each hold the whole index, as a `serve` worker does, re-opened
when the root manifest changes; how its queries are answered depends on how many shards
a replica holds (`shards_per_replica`; by default as many as it takes to fit a replica
per group of shards in the cluster's CPUs, less one for the router: on 2 CPUs, all of
them):

- **one group** (a replica holds every shard): the router answers each query itself,
  in one process, exactly as `serve` does on a sharded index. No shard deployment is
  made; replicas of the router add capacity. A Ray Serve call costs milliseconds
  whatever it carries (bench/ray_serve_rounds.py): this spares the hop and the process.
- **several groups**: one deployment per group (`shard-NNN`, or `shards-NNN-MMM`; each
  replica holds `Index(root, shard=s)` of its shards, re-opened as the router's index
  is), and the router's queries run on a FannedIndex whose rounds of calls go to them,
  one call per group asked: a look-up, the candidates' tokens and sources, and the
  found blobs' texts when a match has copies to order.

Adding replicas adds capacity; Ray Serve spreads replicas over the cluster's machines.
Every process needs the index directory on a file system they share. A shard missing or
damaged (or, with several groups, whose server fails or does not answer in time) makes
the answer a 503 naming it, never a partial answer.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path
from typing import Any

from attribution.index.fanout import FannedIndex, Request
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

    def round(self, requests: list[Request]) -> list[tuple[bool, Any]]:
        """Each request's (True, answer), or (False, why) when its shard failed."""
        out: list[tuple[bool, Any]] = []
        for shard, method, args in requests:
            try:
                out.append((True, getattr(self.refs[shard].get(), method)(*args)))
            except Exception as err:  # named by the router: "shard s of n did not answer"
                out.append((False, f"{type(err).__name__}: {err}"))
        return out


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
        """One call per group asked."""
        by_group: dict[int, list[int]] = {}
        for i, (shard, _, _) in enumerate(requests):
            by_group.setdefault(self.group_of[shard], []).append(i)
        out: list[_Answer] = [None] * len(requests)  # type: ignore[list-item]
        for g, asked in by_group.items():
            response = _Group(self.handles[g].round.remote([requests[i] for i in asked]))
            for j, i in enumerate(asked):
                out[i] = _Answer(response, j)
        return out


class _Group:
    def __init__(self, response: Any) -> None:
        self.response = response
        self.value: list[tuple[bool, Any]] | None = None

    def result(self) -> list[tuple[bool, Any]]:
        if self.value is None:
            self.value = self.response.result(timeout_s=SHARD_TIMEOUT_S)
        return self.value


class _Answer:
    def __init__(self, group: _Group, j: int) -> None:
        self.group, self.j = group, j

    def result(self) -> Any:
        ok, value = self.group.result()[self.j]
        if not ok:
            raise RuntimeError(value)
        return value


class Router:
    """The HTTP API of SPEC.md. Its queries run on its own index (no `handles`: a replica
    holds every shard) or fan out to the shard deployments, one handle per group."""

    def __init__(
        self, root: str, handles: list[Any], groups: list[list[int]], settings: dict[str, Any]
    ) -> None:
        from attribution.web.app import create_app

        self.app = create_app(root, **settings)  # the whole index, opened and warmed up
        if handles:
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
    """Deploy the router, and the groups of shards when a replica holds only some; returns
    the service's URL. shards_per_replica: how many shards a replica holds (None: as many
    as fit the cluster's CPUs; all of them: the router answers in process)."""
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
    groups = grouped(n, per)
    actor = {"num_cpus": cpus_per_replica}
    shard = serve.deployment()(ShardServer)
    router = serve.deployment()(Router)
    shards = [
        shard.options(name=group_name(g), num_replicas=replicas, ray_actor_options=actor).bind(
            str(root), g
        )
        for g in groups
    ]
    if len(groups) == 1:  # a replica holds every shard: the router's own, no shard deployment
        shards = []
    app = router.options(name="router", num_replicas=replicas, ray_actor_options=actor).bind(
        str(root), shards, groups, settings
    )
    serve.start(http_options={"host": host, "port": port})
    serve.run(app, name="attribution", route_prefix="/")
    return f"http://{host}:{port}/"


def grouped(shards: int, per: int) -> list[list[int]]:
    """The shards in groups of `per` (one group: the router holds them all)."""
    return [list(range(a, min(a + per, shards))) for a in range(0, shards, per)]


def fitting(shards: int, cpus: int) -> int:
    """Shards per replica so that the shard replicas fit the CPUs left by the router (all
    of them when one CPU or none is left: the router holds them)."""
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
