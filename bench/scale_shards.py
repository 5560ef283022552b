"""Sharded index and Ray: build and query figures, in one run (docs/scale.md).

Builds the shared corpus (files.parquet) three ways, each in a fresh process: the local
build unsharded, the local build as 4 shards, and the Ray build as 4 shards (Ray's local
mode, 2 CPUs). For each: wall time, MB/s, peak RSS of the main process and of every
worker process, index bytes by part. Then the same queries, interleaved, against the
unsharded index in process, the 4-shard index in process, the 4-shard index through
`attribution serve` (gunicorn, HTTP) and through Ray Serve (HTTP): p50/p99 per
configuration, and whether the answers are identical. The load average is recorded
before and after each step: the machine is shared.

    .venv/bin/python bench/scale_shards.py [--out bench/results/scale_shards.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
WORK = Path(os.environ.get("ATTRIBUTION_BENCH_WORK", "/tmp/attribution-scale-shards"))

BUILD_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from attribution.index.stats import stats
engine, spec, out, shards = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
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
    rep = build_on_ray([spec], out, shards=shards or None, unit_rows=2000)
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
    rep = build([spec], out, jobs=2, shards=shards or None)
    workers.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
sec = time.perf_counter() - started
print(json.dumps({"seconds": sec, "seconds_with_startup": time.perf_counter() - t,
    "files": rep.files, "blobs": rep.blobs, "source_bytes": rep.source_bytes,
    "disk_bytes": stats(out)["disk_bytes"], "peak_rss_mb_main": hwm(),
    "peak_rss_mb_workers": sorted(w for w in workers if w is not None)}))
"""


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def build_child(engine: str, out: Path, shards: int) -> dict[str, Any]:
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
        [sys.executable, "-c", BUILD_CHILD, engine, str(CORPUS), str(out), str(shards)],
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
        with urllib.request.urlopen(request, timeout=120) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

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


def latency(plain: Path, four: Path, n: int) -> dict[str, Any]:
    """Every query against every configuration in turn (load weighs on all alike)."""
    import ray

    from attribution.core.search import attribute
    from attribution.index.store import Index
    from attribution.web.ray_serve import deploy

    port = _free_port()
    gunicorn = subprocess.Popen(
        [str(Path(sys.executable).parent / "attribution"), "serve", "--index", str(four),
         "--port", str(port), "--workers", "2"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{port}/")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray_url = deploy(four, port=_free_port(), cpus_per_replica=0.25, settings={"env": {}})
        _wait(ray_url)
        with Index(plain) as p, Index(four) as f:
            configs = {
                "unsharded, in process": lambda c, m: attribute(c, p, filename=m),
                "4 shards, in process": lambda c, m: attribute(c, f, filename=m),
                "4 shards, attribution serve (HTTP, 2 workers)": _http(
                    f"http://127.0.0.1:{port}/v1/attribute"
                ),
                "4 shards, Ray Serve (HTTP, 1 replica per shard)": _http(ray_url + "v1/attribute"),
            }
            return _measure(configs, queries(n))
    finally:
        gunicorn.terminate()
        gunicorn.wait()
        from ray import serve

        serve.shutdown()
        ray.shutdown()


def _measure(configs: dict[str, Any], qs: list[tuple[str, str]]) -> dict[str, Any]:
    for ask in configs.values():
        for code, name in qs[:5]:
            ask(code, name)  # warm up: caches, connections
    times: dict[str, list[float]] = {k: [] for k in configs}
    differ = 0
    before = _load()
    for code, name in qs:
        answers = []
        for label, ask in configs.items():
            t = time.perf_counter()
            result = ask(code, name)
            times[label].append((time.perf_counter() - t) * 1000)
            result.pop("elapsed_ms", None)
            answers.append(json.dumps(result, sort_keys=True))
        differ += len(set(answers)) > 1
    out: dict[str, Any] = {"queries": len(qs), "answers_differing": differ}
    out["load_avg_before"], out["load_avg_after"] = before, _load()
    for label, ms in times.items():
        ms.sort()
        out[label] = {
            "p50_ms": round(statistics.median(ms), 2),
            "p99_ms": round(ms[round(0.99 * (len(ms) - 1))], 2),
            "mean_ms": round(statistics.fmean(ms), 2),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "scale_shards.json"))
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    run: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "corpus": str(CORPUS.name),
        "builds": [],
    }
    for engine, shards, name in (("local", 0, "plain"), ("local", 4, "four"), ("ray", 4, "ray4")):
        run["builds"].append(build_child(engine, WORK / name, shards))
        print(json.dumps(run["builds"][-1]), flush=True)
    run["latency"] = latency(WORK / "plain", WORK / "four", args.queries)
    run["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    Path(args.out).write_text(json.dumps(run, indent=2) + "\n")
    print(json.dumps(run["latency"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
