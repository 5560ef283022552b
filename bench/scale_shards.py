"""Sharded index and Ray: build and query figures, in one run (docs/scale.md).

Builds the shared corpus (files.parquet) three ways, each in a fresh process: the local
build unsharded, the local build as 4 shards, and the Ray build as 4 shards (Ray's local
mode, 2 CPUs). For each: wall time, MB/s, peak RSS of the main process and of every
worker process, index bytes by part. Then the same queries, interleaved, against the
unsharded index in process and the 4-shard index in process (both in one query process
of their own, warmed up as the services warm up, each answer timed inside it), the
4-shard index through
`attribution serve` (gunicorn, HTTP) and through Ray Serve (HTTP): p50/p99 per
configuration, and whether the answers are identical; for the HTTP configurations also
the service's own time (the answers' elapsed_ms) and what the client saw beyond it.
The load average is recorded before and after each step: the machine is shared.

    .venv/bin/python bench/scale_shards.py [--out bench/results/scale_shards.json]

Options: `--source TABLE...` builds from other tables (queries are still cut from the
shared corpus, which they must include); `--reuse-index single=DIR sharded=DIR` skips
the builds and measures existing indexes; `--queries N`; `--before TREE` measures the
latency of the old code too (a checkout, e.g. `git worktree add`), in a child process
of the same run, before this tree's, and compares the two versions' answers; `--label`
names the run. An output file that exists keeps its earlier runs (under "earlier").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from attrbench.child import QueryChild

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
WORK = Path(os.environ.get("ATTRIBUTION_BENCH_WORK", "/tmp/attribution-scale-shards"))

BUILD_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from attribution.index.stats import stats
engine, specs, out, shards = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def hwm(pid="self"):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
workers = []
t = time.perf_counter()
if engine == "ray":
    import ray
    from attribution.index.ray_build import build_on_ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    started = time.perf_counter()
    rep = build_on_ray(specs, out, shards=shards or None, unit_rows=2000)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "default_worker.py" in cmd or cmd.startswith("ray::"):
                workers.append(hwm(pid))
    ray.shutdown()
else:
    from attribution.index.build import build
    started = time.perf_counter()
    rep = build(specs, out, jobs=2, shards=shards or None)
    workers.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sec = time.perf_counter() - started
print(json.dumps({"seconds": sec, "seconds_with_startup": time.perf_counter() - t,
    "files": rep.files, "blobs": rep.blobs, "source_bytes": rep.source_bytes,
    "disk_bytes": stats(out)["disk_bytes"], "peak_rss_mb_main": hwm(),
    "peak_rss_mb_workers": sorted(w for w in workers if w is not None)}))
"""


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def build_child(engine: str, out: Path, shards: int, source: list[str]) -> dict[str, Any]:
    """One build in a fresh process; kept beside the index, so a rerun of the benchmark
    reuses it (its record keeps the time and load average of the run that built it)."""
    record = out.parent / f"{out.name}.build.json"
    if record.exists() and (out / "MANIFEST.json").exists():
        cached: dict[str, Any] = json.loads(record.read_text())
        return cached
    if out.exists():
        shutil.rmtree(out)
    before = _load()
    proc = subprocess.run(
        [sys.executable, "-c", BUILD_CHILD, engine, json.dumps(source), str(out), str(shards)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["mb_per_s"] = result["source_bytes"] / 1e6 / result["seconds"]
    result.update(engine=engine, shards=shards, load_avg_before=before, load_avg_after=_load())
    result["built"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    record.write_text(json.dumps(result))
    return result


def queries(count: int, seed: int = 1) -> list[tuple[str, str]]:
    """Windows of 10-60 lines of indexed files (a third with names changed)."""
    import pyarrow.parquet as pq

    rows = pq.read_table(CORPUS, columns=["path", "content"]).to_pylist()
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        row = rows[rng.randrange(len(rows))]
        lines = row["content"].splitlines()
        if len(lines) < 15:
            continue
        a = rng.randrange(0, max(1, len(lines) - 60))
        code = "\n".join(lines[a : a + rng.randrange(10, 60)])
        if rng.random() < 0.33:
            code = code.replace("self", "this_").replace("value", "val")
        out.append((code, row["path"]))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http(url: str) -> Any:
    def ask(code: str, name: str) -> dict[str, Any]:
        body = json.dumps({"code": code, "filename": name}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:
                result: dict[str, Any] = json.loads(resp.read())
                return result
        except urllib.error.HTTPError as err:  # kept as the answer: it counts as differing
            return {"http_status": err.code, "error": err.read().decode(errors="replace")}

    return ask


def _wait(url: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "healthz", timeout=5).read()
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not start")


QUERY_CHILD = r"""
import json, sys, time
from attribution.core.search import attribute
from attribution.index import store
from attribution.index.store import Index
indexes = [Index(p) for p in sys.argv[1:]]
for index in indexes:
    if hasattr(store, "warm_up"):  # what the code's own services do once the index is open
        store.warm_up(index)
print("@@ready", flush=True)
for line in sys.stdin:
    which, code, name = json.loads(line)
    t = time.perf_counter()
    result = attribute(code, indexes[which], filename=name)
    result["_ms"] = (time.perf_counter() - t) * 1000
    print("@@" + json.dumps(result), flush=True)
"""


class _InProcess(QueryChild):
    """The in-process configurations, in a process of their own: not in this one, which
    is also Ray's driver (its threads would share the interpreter with the queries).
    Each answer is timed inside that process."""

    def __init__(self, *indexes: Path) -> None:
        super().__init__(QUERY_CHILD, [str(i) for i in indexes])

    def asker(self, which: int) -> Any:
        return lambda code, name: self.ask(json.dumps([which, code, name]))


def latency(plain: Path, four: Path, n: int, answers: Path | None = None) -> dict[str, Any]:
    """Every query against every configuration in turn (load weighs on all alike)."""
    import ray

    from attribution.index.store import Index
    from attribution.web.ray_serve import deploy

    port = _free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "attribution"), "serve", "--index", str(four),
         "--port", str(port), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    local = _InProcess(plain, four)
    try:
        _wait(f"http://127.0.0.1:{port}/")
        _start_ray()
        ray_url = deploy(four, port=_free_port(), cpus_per_replica=0.25, settings={"env": {}})
        _wait(ray_url)
        with Index(four) as f:
            configs = {
                "unsharded, in process": local.asker(0),
                "4 shards, in process": local.asker(1),
                "4 shards, attribution serve (HTTP, 2 workers)": _http(
                    f"http://127.0.0.1:{port}/v1/attribute"
                ),
                "4 shards, Ray Serve (HTTP, default layout)": _http(ray_url + "v1/attribute"),
            }
            return {**_measure(configs, queries(n), answers), "ray_serve_layout": _layout(f)}
    finally:
        local.close()
        gunicorn.terminate()
        gunicorn.wait()
        from ray import serve

        serve.shutdown()
        ray.shutdown()


def _layout(index: Any) -> str:
    """How the code under test lays the shards out on Ray Serve (this machine's CPUs)."""
    import ray

    from attribution.web import ray_serve

    if not hasattr(ray_serve, "fitting"):  # code before shards_per_replica
        return "a router and a replica per shard"
    per = ray_serve.fitting(index.n_shards, int(ray.cluster_resources()["CPU"]))
    groups = -(-index.n_shards // per)
    if groups == 1 and hasattr(ray_serve, "grouped"):  # since 79e4ded: no shard deployment
        return f"a router holding all {index.n_shards} shards, answering itself"
    return f"a router and {groups} replica(s) of {per} shards"


def _start_ray(tries: int = 3) -> None:
    """Ray's local mode; again when its node misses Ray's 30 s start-up wait (load)."""
    import ray

    for attempt in range(tries):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            return
        except Exception:
            ray.shutdown()
            if attempt == tries - 1:
                raise


def _measure(
    configs: dict[str, Any], qs: list[tuple[str, str]], keep: Path | None = None
) -> dict[str, Any]:
    for ask in configs.values():
        for code, name in qs[:5]:
            ask(code, name)  # warm up: caches, connections
    times: dict[str, list[float]] = {k: [] for k in configs}
    engine: dict[str, list[float]] = {k: [] for k in configs}  # the answers' elapsed_ms
    differ = 0
    kept = []
    errors = dict.fromkeys(configs, 0)
    before = _load()
    for code, name in qs:
        answers = []
        for label, ask in configs.items():
            t = time.perf_counter()
            result = ask(code, name)
            # in process: the time its own process took; through HTTP: as a client sees it
            times[label].append(result.pop("_ms", (time.perf_counter() - t) * 1000))
            engine[label].append(result.pop("elapsed_ms", math.nan))
            errors[label] += "http_status" in result
            answers.append(json.dumps(result, sort_keys=True))
        differ += len(set(answers)) > 1
        kept.append(answers[0])
    if keep:
        keep.write_text(json.dumps(kept))
    out: dict[str, Any] = {"queries": len(qs), "answers_identical": len(qs) - differ}
    out["answers_differing"] = differ
    out["load_avg_before"], out["load_avg_after"] = before, _load()
    for label, ms in times.items():
        # the service's own time (its answers' elapsed_ms) and what the client saw beyond it
        inside = [e for e in engine[label] if not math.isnan(e)]
        beyond = [m - e for m, e in zip(ms, engine[label], strict=True) if not math.isnan(e)]
        out[label] = {**_percentiles(ms), "http_errors": errors[label]}
        if inside and "HTTP" in label:
            out[label]["engine"] = _percentiles(inside)
            out[label]["beyond_engine"] = _percentiles(beyond)
    return out


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ms[round(0.99 * (len(ms) - 1))], 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale_shards.json"))
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--source", nargs="+", default=[str(CORPUS)], metavar="TABLE")
    parser.add_argument("--reuse-index", nargs=2, metavar=("single=DIR", "sharded=DIR"))
    parser.add_argument("--before", type=Path, help="checkout of the old code to measure too")
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout of the new code")
    parser.add_argument("--label", default="", help="what this run measures")
    parser.add_argument("--latency-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reuse_index:
        dirs = dict(spec.split("=", 1) for spec in args.reuse_index if "=" in spec)
        if set(dirs) != {"single", "sharded"}:
            parser.error("--reuse-index takes single=DIR sharded=DIR")
        for d in dirs.values():
            if not (Path(d) / "MANIFEST.json").exists():
                parser.error(f"--reuse-index: {d} is not an index")
        args.reuse_index = dirs
    if args.before and not (args.before / "attribution").is_dir():
        parser.error(f"--before {args.before}: not a checkout of this repository")
    return args


def _latency_in(tree: Path, plain: Path, four: Path, n: int, answers: Path) -> dict[str, Any]:
    """latency() in a child process running the code of another checkout."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, __file__, "--latency-child", str(plain), str(four), str(answers),
         "--queries", str(n)],
        capture_output=True, text=True, cwd=tree, env=env, check=False,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    args = _args()
    if args.latency_child:
        plain, four, answers = args.latency_child
        print(json.dumps(latency(Path(plain), Path(four), args.queries, Path(answers))))
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    run: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "label": args.label,
        "corpus": [Path(t).name for t in args.source],
        "builds": [],
    }
    if args.reuse_index:
        plain, four = Path(args.reuse_index["single"]), Path(args.reuse_index["sharded"])
        run["indexes"] = {"single": str(plain), "sharded": str(four)}
    else:
        for engine, shards, name in (("local", 0, "plain"), ("local", 4, "four"),
                                     ("ray", 4, "ray4")):  # fmt: skip
            run["builds"].append(build_child(engine, WORK / name, shards, args.source))
            print(json.dumps(run["builds"][-1]), flush=True)
        plain, four = WORK / "plain", WORK / "four"
    if args.before:
        _versions(run, args, plain, four)
    else:
        run["latency"] = latency(plain, four, args.queries)
    run["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write(Path(args.out), run)
    print(json.dumps(run.get("latency") or run["latency_before"], indent=2))
    return 0


def _write(out: Path, run: dict[str, Any]) -> None:
    """The run, its file's earlier runs kept under "earlier" (oldest first)."""
    earlier: list[Any] = []
    if out.exists():
        previous = json.loads(out.read_text())
        earlier = [*previous.pop("earlier", []), previous]
    out.write_text(json.dumps({**run, "earlier": earlier}, indent=2) + "\n")


def _versions(run: dict[str, Any], args: argparse.Namespace, plain: Path, four: Path) -> None:
    """The old code's latency, then this tree's, on the same queries; and whether the two
    versions answer alike (the unsharded in-process answers compared)."""
    kept = {v: WORK / f"answers-{v}.json" for v in ("before", "after")}
    run["before_tree"] = str(args.before)
    run["latency_before"] = _latency_in(args.before, plain, four, args.queries, kept["before"])
    run["after_tree"] = str(args.after)
    run["latency"] = _latency_in(args.after, plain, four, args.queries, kept["after"])
    old, new = (json.loads(kept[v].read_text()) for v in ("before", "after"))
    same = sum(a == b for a, b in zip(old, new, strict=True))
    run["before_vs_after"] = {"queries_compared": len(old), "queries_identical": same}


if __name__ == "__main__":
    raise SystemExit(main())
