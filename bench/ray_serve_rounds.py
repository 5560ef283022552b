"""Where a Ray Serve query's time goes, round by round (docs/scale.md, serving).

Deploys a sharded index on Ray Serve (Ray's local mode, 2 CPUs) as `attribution serve
--engine ray` does, then asks the same queries, interleaved: over HTTP (proxy, router,
and the shards' deployments if any), and in process (`Index`). When the router fans its
queries out to groups of shards (`--shards-per-replica` below the shard count), also
from this process through the groups' handles (a FannedIndex here, each of its rounds
timed): for every round of calls the wall time, the shards' own work (the same calls
replayed on in-process shards), the time to pickle and unpickle what goes each way and
its size; the rest of a round is Ray Serve's: handle call, scheduling, queueing. A
no-op round measures the bare cost of a call. A GET of /v1/stats over HTTP, interleaved
too, times a request without a body. The load average is recorded: the machine is
shared.

    .venv/bin/python bench/ray_serve_rounds.py --index DIR [--queries 100] [--out FILE]
        [--shards-per-replica N] [--ab SETTING] [--before TREE [--delegation]]

`--before TREE` compares versions: the old code (TREE, a checkout: `git worktree add`)
and this tree each deploy the service in a Ray instance of their own (a child process,
2 CPUs each), both up for the whole run; the same queries go over HTTP to each in turn
(which goes first rotates), with each answer's own time (`elapsed_ms`, the router's)
and whether they answer alike. `--delegation` adds the layout not chosen: this tree's
router sending each whole query in one call to a replica of its own that holds every
shard (`Delegating` below; bench only).

`--ab SETTING` measures one of Ray Serve's own settings instead (SETTINGS): the service
deployed twice in one Ray instance, as is (app `a`) and with the setting (app `b`, its
environment variables set on its replicas only), the same queries over HTTP alternating
between the two (which goes first alternates too), and whether they answer alike. With
"direct ingress", b is asked on its router's own port instead of through the proxy.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scale_shards import ROOT, _free_port, _http, _load, _wait, queries

# Ray Serve's settings tried by --ab: (deployment options, replicas' environment)
SETTINGS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "access log off": ({"logging_config": {"enable_access_log": False}}, {}),
    "user code on the replica's event loop": (
        {}, {"RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0"}),
    "gRPC between deployments": ({}, {"RAY_SERVE_USE_GRPC_BY_DEFAULT": "1"}),
    # the router's own loop kept: the router asks its shards from a thread (no loop there)
    "throughput optimized": ({}, {"RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
                                  "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "1"}),
    "max_ongoing_requests 100": ({"max_ongoing_requests": 100}, {}),
    # the router serves HTTP itself on a port of its own (no proxy, no call back to it
    # for the body); b is asked there, at DIRECT_PORT
    "direct ingress": ({}, {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "1"}),
    "none (A/A)": ({}, {}),
}  # fmt: skip
# not a setting: app a's router asks the proxy for every request's body, as before e553ed2
EVERY_BODY = "router asking for every body (before e553ed2)"
DIRECT_PORT = 30000  # the first of Ray Serve's direct-ingress ports: b's only router
HOOKS = ("gather", "prefetch_tokens", "prefetch_sources", "content", "tokens", "sources",
         "name_df")  # fmt: skip


class Tracer:
    """Wraps a FannedIndex's shard calls: what each round asked, answered and cost."""

    def __init__(self, shards: list[Any]) -> None:
        self.shards = shards  # in-process shard indexes, to replay each call on
        self.calls: list[dict[str, Any]] = []

    def wrap(self, call: Any) -> Any:
        tracer = self

        class Traced:
            def __call__(self, shard: int, method: str, *args: Any) -> Any:
                return _Traced(tracer, call(shard, method, *args), shard, method, args)

        if hasattr(call, "round"):  # a round is one call per group of shards

            def round_(requests: list[tuple[int, str, tuple[Any, ...]]]) -> list[Any]:
                sent = call.round(requests)
                return [_Traced(tracer, p, *r) for p, r in zip(sent, requests, strict=True)]

            Traced.round = staticmethod(round_)  # type: ignore[attr-defined]
        return Traced()


class _Traced:
    def __init__(self, tracer: Tracer, pending: Any, shard: int, method: str, args: Any) -> None:
        self.tracer, self.pending, self.shard, self.method, self.args = (
            tracer, pending, shard, method, args
        )  # fmt: skip

    def result(self) -> Any:
        value = self.pending.result()
        self.tracer.calls.append(_cost(self.tracer.shards, self.shard, self.method, self.args,
                                       value))  # fmt: skip
        return value


def _cost(shards: list[Any], shard: int, method: str, args: Any, value: Any) -> dict[str, Any]:
    t = time.perf_counter()
    getattr(shards[shard], method)(*args)
    work = time.perf_counter() - t
    t = time.perf_counter()
    sent, got = pickle.dumps(args, protocol=5), pickle.dumps(value, protocol=5)
    pickle.loads(sent), pickle.loads(got)
    ser = time.perf_counter() - t
    return {"method": method, "work_ms": work * 1e3, "pickle_ms": ser * 1e3,
            "bytes_sent": len(sent), "bytes_back": len(got)}  # fmt: skip


def timed_hooks(fanned: Any, log: list[tuple[str, float, int]], tracer: Tracer) -> None:
    """Time each of the FannedIndex's hooks that makes calls: one entry per round."""
    for name in HOOKS:
        plain = getattr(fanned, name, None)
        if plain is None:
            continue

        def hook(*args: Any, _plain: Any = plain, _name: str = name) -> Any:
            before = len(tracer.calls)
            t = time.perf_counter()
            value = _plain(*args)
            if len(tracer.calls) > before:
                log.append((_name, (time.perf_counter() - t) * 1e3, len(tracer.calls) - before))
            return value

        setattr(fanned, name, hook)


def ping(call: Any, shards: int, rounds: int = 50) -> dict[str, float]:
    """A round of no-op requests, one per shard, as FannedIndex sends them."""
    out = []
    requests = [(s, "is_deleted", (0,)) for s in range(shards)]
    for _ in range(rounds):
        t = time.perf_counter()
        if hasattr(call, "round"):
            sent = call.round(requests)
        else:
            sent = [call(s, m, *a) for s, m, a in requests]
        for p in sent:
            p.result()
        out.append((time.perf_counter() - t) * 1e3)
    return _stats(out)


def _stats(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 3),
            "p99_ms": round(ms[round(0.99 * (len(ms) - 1))], 3),
            "mean_ms": round(statistics.fmean(ms), 3)}  # fmt: skip


def _summary(rounds: list[tuple[str, float, int]], calls: list[dict[str, Any]], n: int,
             ) -> dict[str, Any]:  # fmt: skip
    by_hook: dict[str, list[float]] = defaultdict(list)
    per_call: dict[str, list[int]] = defaultdict(list)
    for name, ms, k in rounds:
        by_hook[name].append(ms)
        per_call[name].append(k)
    out: dict[str, Any] = {"rounds_per_query": round(len(rounds) / n, 2),
                           "calls_per_query": round(len(calls) / n, 2), "rounds": {}}  # fmt: skip
    for name, ms in by_hook.items():
        out["rounds"][name] = {**_stats(ms), "calls_per_round": statistics.fmean(per_call[name])}
    methods: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in calls:
        methods[c["method"]].append(c)
    out["calls"] = {
        m: {"n": len(cs), **{f"{key}_median": round(statistics.median(c[key] for c in cs), 3)
                             for key in ("work_ms", "pickle_ms", "bytes_sent", "bytes_back")}}
        for m, cs in methods.items()
    }  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--label", default="")
    parser.add_argument("--shards-per-replica", type=int)
    parser.add_argument("--ab", choices=[*SETTINGS, EVERY_BODY], help="one of Ray Serve's settings")
    parser.add_argument("--before", type=Path, help="checkout of the old code to compare with")
    parser.add_argument("--delegation", action="store_true", help="with --before: that layout too")
    parser.add_argument("--child", choices=["deploy", "delegation"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.index, args.shards_per_replica, args.child)
    if args.before:
        result = versions(args.index, args.queries, args.before, args.shards_per_replica,
                          args.delegation)  # fmt: skip
    elif args.ab:
        result = ab(args.index, args.queries, args.ab)
    else:
        result = measure(args.index, args.queries, args.shards_per_replica)
    result["label"] = args.label
    print(json.dumps(result, indent=1))
    if args.out:
        runs = json.loads(args.out.read_text()) if args.out.exists() else []
        args.out.write_text(json.dumps([*runs, result], indent=1) + "\n")
    return 0


def shard_calls(per: int | None, n: int) -> tuple[Any, list[list[int]]]:
    """The router's `call` over the deployed shards, made here (old code: one per shard;
    None when the router holds every shard)."""
    from ray import serve

    from attribution.web import ray_serve

    def handle(name: str) -> Any:
        return serve.get_deployment_handle(name, app_name="attribution")

    if not hasattr(ray_serve, "ShardCalls"):
        handles = [handle(f"shard-{s:03d}") for s in range(n)]

        def call(shard: int, method: str, *a: Any) -> Any:
            return ray_serve._Pending(handles[shard].call.remote(method, *a))  # type: ignore[attr-defined]

        return call, [[s] for s in range(n)]
    import ray

    per = per or ray_serve.fitting(n, int(ray.cluster_resources()["CPU"]))
    groups = [list(range(a, min(a + per, n))) for a in range(0, n, per)]
    if len(groups) == 1 and hasattr(ray_serve, "grouped"):  # no shard deployment
        return None, groups
    return ray_serve.ShardCalls([handle(ray_serve.group_name(g)) for g in groups], groups), groups


def measure(four: Path, n: int, per: int | None) -> dict[str, Any]:
    import ray
    from ray import serve

    from attribution.core.search import attribute
    from attribution.index.fanout import FannedIndex
    from attribution.index.store import Index
    from attribution.web import ray_serve

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        layout = {"shards_per_replica": per} if per else {}
        url = ray_serve.deploy(four, port=_free_port(), cpus_per_replica=0.25,
                               settings={"env": {}}, **layout)  # fmt: skip
        _wait(url)
        shards = [Index(four, shard=s) for s in range(4)]
        tracer = Tracer(shards)
        call, groups = shard_calls(per, 4)
        asks = [("HTTP (proxy, router, shards)", _http(url + "v1/attribute")),
                ("GET /v1/stats over HTTP", lambda c, m: _get(url + "v1/stats"))]  # fmt: skip
        log: list[tuple[str, float, int]] = []
        if call is not None:  # the router fans out: its rounds, asked from here
            fanned = FannedIndex(four, tracer.wrap(call))
            timed_hooks(fanned, log, tracer)
            asks.append(("handles from the driver", lambda c, m: attribute(c, fanned, filename=m)))
        qs = queries(n + 5)
        before = _load()
        with Index(four) as index:
            asks.append(("in process", lambda c, m: attribute(c, index, filename=m)))
            times: dict[str, list[float]] = defaultdict(list)
            for i, (code, name) in enumerate(qs):
                if i == 5:  # the first 5 warm up
                    log.clear(), tracer.calls.clear(), times.clear()
                for label, ask in asks:
                    t = time.perf_counter()
                    ask(code, name)
                    times[label].append((time.perf_counter() - t) * 1e3)
            rounds = {} if call is None else {"noop_round_of_4_shards": ping(call, 4),
                                              **_summary(log, tracer.calls, n)}  # fmt: skip
        return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "queries": n, "load_avg": [before, _load()], "index": str(four), "groups": groups,
                "query_ms": {k: _stats(v) for k, v in times.items()}, **rounds}  # fmt: skip
    finally:
        serve.shutdown()
        ray.shutdown()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=120) as resp:
        return json.loads(resp.read())


def versions(four: Path, n: int, tree: Path, per: int | None, delegation: bool) -> dict[str, Any]:
    """The old code's service and this tree's, each in a Ray instance of its own, the
    same queries over HTTP to each in turn (and to the delegation layout)."""
    children = [("before", tree, "deploy"), ("after", ROOT, "deploy")]
    if delegation:
        children.append(("after, delegation (not chosen)", ROOT, "delegation"))
    layout = ["--shards-per-replica", str(per)] if per else []
    procs: dict[str, tuple[subprocess.Popen[str], dict[str, Any]]] = {}
    try:
        for label, code, variant in children:
            proc = subprocess.Popen(
                [sys.executable, __file__, "--index", str(four), "--child", variant, *layout],
                env={**os.environ, "PYTHONPATH": str(code)}, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs[label] = (proc, _serving(proc))
        urls = {label: info["url"] for label, (_, info) in procs.items()}
        return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "queries": n,
                "index": str(four), "before_tree": str(tree),
                "services": {label: info for label, (_, info) in procs.items()},
                **_in_turn(urls, n)}  # fmt: skip
    finally:
        for proc, _ in procs.values():
            proc.communicate(timeout=300)  # its stdin closed: it shuts its Ray down


def _serving(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SERVING "):
            info: dict[str, Any] = json.loads(line[len("SERVING ") :])
            return info
    raise RuntimeError(f"a service did not start (exit {proc.wait()})")


def child(four: Path, per: int | None, variant: str) -> int:
    """One service (the code on PYTHONPATH) in a Ray instance of its own: prints its URL,
    its code and deployments on a line starting SERVING, then serves until stdin closes."""
    import ray
    from ray import serve

    import attribution
    from attribution.web import ray_serve

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        port = _free_port()
        if variant == "delegation":
            url = _delegated(four, port)
        else:
            url = ray_serve.deploy(four, port=port, cpus_per_replica=0.25, settings={"env": {}},
                                   shards_per_replica=per)  # fmt: skip
        _wait(url)
        deployments = sorted(serve.status().applications["attribution"].deployments)
        info = {"url": url, "code": attribution.__file__, "deployments": deployments}
        print("SERVING " + json.dumps(info), flush=True)
        sys.stdin.read()
    finally:
        serve.shutdown()
        ray.shutdown()
    return 0


def _delegated(four: Path, port: int) -> str:
    """Delegation, the layout not chosen: a router (the whole index opened there too, for
    sources and statistics) sending each query whole, in one call, to a replica of its
    own holding every shard, which answers it as `serve` does."""
    from ray import serve

    from attribution.web.ray_serve import Router

    class Whole:
        def __init__(self, root: str) -> None:
            from attribution.web.app import create_app

            self.service = create_app(root, env={}).extensions["attribution"]

        def attribute(self, code: str, options: dict[str, Any]) -> Any:
            return self.service.attribute(code, **options)

    class Delegating(Router):
        def __init__(self, root: str, whole: Any) -> None:
            super().__init__(root, [], [[0, 1, 2, 3]], {"env": {}})
            service = self.app.extensions["attribution"]
            service.attribute = lambda code, **options: whole.attribute.remote(
                code, options
            ).result(timeout_s=30)

    actor = {"num_cpus": 0.25}
    whole = serve.deployment()(Whole).options(name="whole", ray_actor_options=actor)
    router = serve.deployment()(Delegating).options(name="router", ray_actor_options=actor)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(router.bind(str(four), whole.bind(str(four))), name="attribution", route_prefix="/")
    return f"http://127.0.0.1:{port}/"


def _in_turn(urls: dict[str, str], n: int) -> dict[str, Any]:
    """The same queries to each service in turn (the first of each turn rotates): p50 and
    p99 over HTTP and of each answer's own time, ratios to the first service."""
    labels = list(urls)
    asks = {label: _http(url + "v1/attribute") for label, url in urls.items()}
    times: dict[str, list[float]] = {label: [] for label in labels}
    own: dict[str, list[float]] = {label: [] for label in labels}
    errors, same = dict.fromkeys(labels, 0), 0
    before = _load()
    for i, (code, name) in enumerate(queries(n + 5)):
        got = {}
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            t = time.perf_counter()
            got[label] = asks[label](code, name)
            if i >= 5:  # the first 5 warm up
                times[label].append((time.perf_counter() - t) * 1e3)
                own[label].append(float(got[label].get("elapsed_ms", "nan")))
            errors[label] += "http_status" in got[label]
            got[label].pop("elapsed_ms", None)
        same += i >= 5 and all(got[label] == got[labels[0]] for label in labels)
    out: dict[str, Any] = {"load_avg": [before, _load()], "answers_identical": same}
    for label in labels:
        out[label] = {**_stats(times[label]), "http_errors": errors[label],
                      "own_time": _stats(own[label])}  # fmt: skip
    first = out[labels[0]]
    out["ratio_to_" + labels[0]] = {
        label: {q: round(out[label][q] / first[q], 3) for q in ("p50_ms", "p99_ms")}
        for label in labels[1:]
    }
    return out


def ab(four: Path, n: int, setting: str) -> dict[str, Any]:
    """The service as is (a) and with one of Ray Serve's settings (b), in one Ray
    instance, the same queries alternating between the two; and a GET of /v1/stats
    after each query."""
    import ray
    from ray import serve

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        port = _free_port()
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        _app("a", four, {}, {}, every_body=setting == EVERY_BODY)
        _app("b", four, *SETTINGS.get(setting, ({}, {})))
        base = {app: f"http://127.0.0.1:{port}/{app}/" for app in "ab"}
        if "RAY_SERVE_ENABLE_DIRECT_INGRESS" in SETTINGS.get(setting, ({}, {}))[1]:
            base["b"] = f"http://127.0.0.1:{DIRECT_PORT}/b/"
        for url in base.values():
            _wait(url)
        return {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "ab": setting,
                "setting": SETTINGS.get(setting), "queries": n, "index": str(four),
                **_alternate(base, n, setting)}  # fmt: skip
    finally:
        serve.shutdown()
        ray.shutdown()


def _alternate(base: dict[str, str], n: int, setting: str) -> dict[str, Any]:
    asks = {app: _http(url + "v1/attribute") for app, url in base.items()}
    times: dict[str, list[float]] = {f"{app} {what}": [] for app in base for what in "QG"}
    errors, same = dict.fromkeys(asks, 0), 0
    before = _load()
    for i, (code, name) in enumerate(queries(n + 5)):
        got = {}
        for app in "ab" if i % 2 else "ba":
            t = time.perf_counter()
            got[app] = asks[app](code, name)
            q = time.perf_counter()
            _get(base[app] + "v1/stats")
            if i >= 5:  # the first 5 warm up
                times[f"{app} Q"].append((q - t) * 1e3)
                times[f"{app} G"].append((time.perf_counter() - q) * 1e3)
            errors[app] += "http_status" in got[app]
            got[app].pop("elapsed_ms", None)
        same += i >= 5 and got["a"] == got["b"]
    out: dict[str, Any] = {"load_avg": [before, _load()], "answers_identical": same}
    labels = {"a": "as is", "b": setting} if setting != EVERY_BODY else {"a": setting, "b": "as is"}
    for app, label in labels.items():
        out[f"{app}: {label}"] = {**_stats(times[f"{app} Q"]), "http_errors": errors[app],
                                  "GET /v1/stats": _stats(times[f"{app} G"])}  # fmt: skip
    a, b = (out[f"{app}: {labels[app]}"] for app in "ab")
    out["b/a p50"] = round(b["p50_ms"] / a["p50_ms"], 3)
    out["b/a GET p50"] = round(b["GET /v1/stats"]["p50_ms"] / a["GET /v1/stats"]["p50_ms"], 3)
    return out


def _app(
    name: str, four: Path, options: dict[str, Any], env: dict[str, str], every_body: bool = False
) -> None:
    """The service as deploy() lays it out on 2 CPUs (a router holding every shard), as
    Serve application `name` under /name, with these deployment options and these
    environment variables on its replicas (every_body: its router asks the proxy for
    every request's body, as before e553ed2)."""
    from ray import serve

    from attribution.web.ray_serve import Router

    class EveryBody(Router):
        async def __call__(self, request: Any) -> Any:
            import asyncio

            from starlette.responses import Response

            body = await request.body()
            status, headers, content = await asyncio.to_thread(self._wsgi, request, body)
            return Response(content=content, status_code=status, headers=headers)

    actor: dict[str, Any] = {"num_cpus": 0.25}
    if env:
        actor["runtime_env"] = {"env_vars": env}
    router = serve.deployment(**options)(EveryBody if every_body else Router)
    app = router.options(name="router", ray_actor_options=actor)
    serve.run(app.bind(str(four), [], [[0, 1, 2, 3]], {"env": {}}), name=name,
              route_prefix=f"/{name}")  # fmt: skip


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    raise SystemExit(main())
