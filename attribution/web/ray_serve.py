"""`attribution serve --engine ray`: a sharded index on Ray Serve.

One deployment per shard (`shard-NNN`, each replica holding `Index(root, shard=s)`,
re-opened when the root manifest changes) and a router deployment that runs the very
Flask app of `attribution serve` (the same API, errors and page) with its queries on a
FannedIndex whose calls go to the shard deployments. Adding replicas adds capacity;
Ray Serve spreads replicas over the cluster's machines. Every process needs the index
directory on a file system they share. A shard that fails or does not answer within
the query budget makes the answer a 503 naming it.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from attribution.index.fanout import FannedIndex
from attribution.index.format import read_manifest
from attribution.index.ray_build import connect
from attribution.index.shards import check
from attribution.index.store import Index
from attribution.web.indexref import IndexRef
from attribution.web.settings import Settings

SHARD_TIMEOUT_S = 30.0  # a shard call slower than this is a shard down


class ShardServer:
    """One shard of the index, answering the FannedIndex's calls."""

    def __init__(self, root: str, shard: int) -> None:
        self.shard = shard
        self.ref = IndexRef(root, opener=lambda r: Index(r, shard=shard))

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.ref.get(), method)(*args)


class Router:
    """The HTTP API of SPEC.md, its queries fanned out to the shard deployments."""

    def __init__(self, root: str, handles: list[Any], settings: dict[str, Any]) -> None:
        from attribution.web.app import create_app

        self.handles = handles
        self.app = create_app(root, **settings)
        svc = self.app.extensions["attribution"]
        fanned = IndexRef(root, opener=lambda r: FannedIndex(r, self._call))
        svc.query_index = fanned.get

    def _call(self, shard: int, method: str, *args: Any) -> Any:
        response = self.handles[shard].call.remote(method, *args)
        return _Pending(response)

    async def __call__(self, request: Any) -> Any:
        from starlette.responses import Response

        body = await request.body()
        status, headers, content = await asyncio.to_thread(self._wsgi, request, body)
        return Response(content=content, status_code=status, headers=headers)

    def _wsgi(self, request: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        from werkzeug.test import EnvironBuilder, run_wsgi_app

        environ = EnvironBuilder(
            path=request.url.path,
            method=request.method,
            headers=list(request.headers.items()),
            data=body,
            query_string=request.url.query,
        ).get_environ()
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        content = b"".join(app_iter)
        kept = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return int(status.split()[0]), kept, content


class _Pending:
    def __init__(self, response: Any) -> None:
        self.response = response

    def result(self) -> Any:
        return self.response.result(timeout_s=SHARD_TIMEOUT_S)


def deploy(
    root: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    replicas: int = 1,
    address: str | None = None,
    cpus_per_replica: float = 1.0,
    settings: dict[str, Any] | None = None,
) -> str:
    """Deploy the shards and the router; returns the service's URL."""
    root = Path(root).resolve()
    n = check(root, read_manifest(root))
    if not n:
        raise ValueError(f"index {root} is not sharded: serve it without --engine ray")
    if settings is None:  # the router's replicas take this process's ATTRIBUTION_* settings
        settings = {"env": {k: v for k, v in os.environ.items() if k.startswith("ATTRIBUTION_")}}
    Settings.load(root, **settings)  # bad settings: one line here, not in a replica's log
    connect(address)
    from ray import serve

    actor = {"num_cpus": cpus_per_replica}
    shard = serve.deployment()(ShardServer)
    router = serve.deployment()(Router)
    shards = [
        shard.options(name=f"shard-{s:03d}", num_replicas=replicas, ray_actor_options=actor).bind(
            str(root), s
        )
        for s in range(n)
    ]
    app = router.options(name="router", num_replicas=replicas, ray_actor_options=actor).bind(
        str(root), shards, settings
    )
    serve.start(http_options={"host": host, "port": port})
    serve.run(app, name="attribution", route_prefix="/")
    return f"http://{host}:{port}/"


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
