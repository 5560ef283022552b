"""The query tail (issue 14): latency of the scale benchmark's query set before and after
a change, in ONE run, and whether the answers are identical.

Each code version runs in its own process (`--before` is a checkout of the old commit,
e.g. `git worktree add /work/oldtree-g <commit>`; "after" is this tree or `--after`),
on every index given. In each pass a fresh process of each version opens the index and
warms up, then the two answer the queries in turn, query by query (before then after,
after then before on the next), so that a shared machine's load weighs on both alike
even as it changes. Each query is timed once per pass, wall clock and process CPU
time; the figures pool the passes: p50, p99 and p99.9 overall and by query length
(lines), and after/before ratios of each. The answers (without elapsed_ms) of the two
versions are compared query by query. Each version's process first calls its own
`store.warm_up` when it has one (what its services do once the index is open). The
slowest 1% of each version's answers are listed with what their time was: CPU, waiting
(wall - CPU), page faults, context switches and time in the garbage collector (from
gc.callbacks), with the same totals over all answers. With `--profile N`, the N slowest
queries of each version (by CPU time) are profiled (cProfile timing CPU, in a separate
process) and the functions taking most of their time listed.

    .venv/bin/python bench/query_tail.py --before /work/oldtree-g \\
        --index 1m=/work/scale1m/idx-1 --index corpus=DIR [--passes 2] [--profile 4] \\
        [--windows 300] [--run "what this run is"]

`--windows N` answers bench/scale_shards.py's N corpus windows instead of the scale
benchmark's latency queries (those whose language the query file format knows).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from attrbench.child import QueryChild

ROOT = Path(__file__).resolve().parents[1]
QUERIES = Path.home() / ".cache" / "attribution-bench" / "scale" / "latency-queries-v2-s1.jsonl"

CHILD = r"""  # the profile of some queries (their ids: mode)
import cProfile, io, json, pstats, sys, time
sys.path.insert(0, sys.argv[4])
from attrbench.generate import load
from attribution.core.search import attribute
from attribution.index.store import Index
index_dir, qfile, mode = sys.argv[1], sys.argv[2], sys.argv[3]
qs = load(__import__("pathlib").Path(qfile))
with Index(index_dir) as index:
    ask = lambda q: attribute(q.code, index, language=q.language, filename=q.filename)
    for q in qs[:5]:
        ask(q)  # warm up: the sketch index, caches
    wanted = set(json.loads(mode))
    prof = cProfile.Profile(time.process_time)  # CPU time: the machine may be shared
    for q in qs:
        if q.id in wanted:
            prof.runcall(ask, q)
    stats = pstats.Stats(prof)
    total = max(stats.total_tt, 1e-9)
    rows = []
    for (file, line, name), (cc, nc, tt, ct, _) in stats.stats.items():
        where = file.split("/attribution/")[-1] if "/attribution/" in file else file
        rows.append({"function": f"{where}:{line}({name})", "calls": nc,
                     "own_share": round(tt / total, 3),
                     "cumulative_share": round(ct / total, 3)})
    rows.sort(key=lambda r: -r["cumulative_share"])
    out = {"profiled": sorted(wanted), "seconds": round(total, 3), "top": rows[:60]}
print(json.dumps(out))
"""


SERVER = r"""
import gc, json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from attrbench.generate import load
from attribution.core.search import attribute
from attribution.index import store
from attribution.index.store import Index
qs = load(Path(sys.argv[2]))
with Index(sys.argv[1]) as index:
    if hasattr(store, "warm_up"):  # what the version's services do once the index is open
        store.warm_up(index)
    ask = lambda q: attribute(q.code, index, language=q.language, filename=q.filename)
    for q in qs[:5]:
        ask(q)  # warm up: the sketch index, caches
    gc_ms = [0.0, 0.0]  # total, and the start of the collection under way
    def on_gc(phase, info):
        if phase == "start":
            gc_ms[1] = time.perf_counter()
        else:
            gc_ms[0] += (time.perf_counter() - gc_ms[1]) * 1000
    gc.callbacks.append(on_gc)
    print("@@ready", flush=True)
    for line in sys.stdin:
        q = qs[int(line)]
        r0, g0 = resource.getrusage(resource.RUSAGE_SELF), gc_ms[0]
        t, c = time.perf_counter(), time.process_time()
        result = ask(q)
        ms, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        result.pop("elapsed_ms", None)
        answer = json.dumps(result, sort_keys=True)
        detail = {k: getattr(r1, "ru_" + k) - getattr(r0, "ru_" + k)
                  for k in ("minflt", "majflt", "nvcsw", "nivcsw")}
        detail["gc_ms"] = round(gc_ms[0] - g0, 3)
        print("@@" + json.dumps({"ms": ms, "cpu_ms": cpu, "detail": detail, "answer": answer}),
              flush=True)
"""


def _pass(trees: dict[str, Path], index_dir: str, args: Any, n: int, flip: int) -> dict[str, Any]:
    """One pass: a fresh process per version, the queries answered in turn."""
    servers = {
        v: QueryChild(SERVER, [index_dir, str(args.queries), str(ROOT / "bench")], tree, str(tree))
        for v, tree in trees.items()
    }
    got: dict[str, dict[str, list[Any]]] = {
        v: {"ms": [], "cpu_ms": [], "detail": [], "answers": []} for v in trees
    }
    try:
        for i in range(n):
            order = list(servers) if (i + flip) % 2 == 0 else list(servers)[::-1]
            for version in order:
                one = servers[version].ask(str(i))
                for key in ("ms", "cpu_ms", "detail"):
                    got[version][key].append(one.get(key))
                got[version]["answers"].append(one["answer"])
    finally:
        for server in servers.values():
            server.close()
    return got


def _child(tree: Path, index_dir: str, qfile: Path, mode: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, index_dir, str(qfile), mode, str(ROOT / "bench")],
        capture_output=True, text=True, cwd=tree, env=env, check=False,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(f"{tree} on {index_dir}: {proc.stderr.strip()[-1500:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _pct(ms: list[float], p: float) -> float:
    ms = sorted(ms)
    return round(ms[min(len(ms) - 1, round(p * (len(ms) - 1)))], 2)


def _stats(ms: list[float]) -> dict[str, Any]:
    return {"n": len(ms), "p50_ms": _pct(ms, 0.5), "p99_ms": _pct(ms, 0.99),
            "p999_ms": _pct(ms, 0.999), "max_ms": round(max(ms), 2)}  # fmt: skip


def _summary(times: list[list[float]], lines: list[str]) -> dict[str, Any]:
    """Pooled over the passes: all queries, and by length bucket."""
    pooled = [m for one in times for m in one]
    by: dict[str, list[float]] = {}
    for one in times:
        for m, b in zip(one, lines, strict=True):
            by.setdefault(b, []).append(m)
    return {"all": _stats(pooled), "by_lines": {b: _stats(v) for b, v in sorted(by.items())}}


def measure(label: str, index_dir: str, trees: dict[str, Path], args: Any) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    from attrbench.generate import load
    from attrbench.metrics import bucket

    qs = load(args.queries)
    lines = [bucket(q.lines) for q in qs]
    times: dict[str, list[list[float]]] = {v: [] for v in trees}
    cpu: dict[str, list[list[float]]] = {v: [] for v in trees}
    detail: dict[str, list[list[dict[str, Any]]]] = {v: [] for v in trees}
    answers: dict[str, list[str]] = {}
    loads = [round(os.getloadavg()[0], 2)]
    for one_pass in range(args.passes):
        got = _pass(trees, index_dir, args, len(qs), one_pass)
        for version in trees:
            times[version].append(got[version]["ms"])
            cpu[version].append(got[version]["cpu_ms"])
            detail[version].append(got[version]["detail"])
            answers.setdefault(version, got[version]["answers"])
        loads.append(round(os.getloadavg()[0], 2))
    before, after = answers["before"], answers["after"]
    out: dict[str, Any] = {
        "index": index_dir,
        "queries": len(qs),
        "passes": args.passes,
        "answers_compared": len(before),
        "answers_differing": sum(a != b for a, b in zip(before, after, strict=True)),
        "load_avg": loads,
    }
    for version in trees:
        out[version] = _summary(times[version], lines)
        out[f"{version}_cpu"] = _summary(cpu[version], lines)
        out[f"{version}_slowest"] = _slowest(qs, times[version], cpu[version], detail[version])
    out["ratio_after_before"] = {
        "wall": _ratios(out["before"], out["after"]),
        "cpu": _ratios(out["before_cpu"], out["after_cpu"]),
    }
    if args.profile:
        out["profile"] = _profile(trees, index_dir, args, qs, cpu)
    print(label, json.dumps({k: v for k, v in out.items() if k != "profile"}), flush=True)
    return out


def _slowest(qs: list[Any], times: list[list[float]], cpu: list[list[float]],
             detail: list[list[dict[str, Any]]]) -> dict[str, Any]:  # fmt: skip
    """The slowest 1% of the pooled answers (by wall time), each with its CPU time, its
    wait (wall - CPU: the process not running), page faults, context switches and time
    in the garbage collector; and the same totals over all answers."""
    rows = [
        {"query": q.id, "lines": q.lines, "pass": p, "ms": round(ms, 2),
         "cpu_ms": round(c, 2), "wait_ms": round(ms - c, 2), **(d or {})}
        for p, (one_t, one_c, one_d) in enumerate(zip(times, cpu, detail, strict=True))
        for q, ms, c, d in zip(qs, one_t, one_c, one_d, strict=True)
    ]  # fmt: skip
    rows.sort(key=lambda r: -r["ms"])
    slow = rows[: max(1, len(rows) // 100)]

    def total(some: list[dict[str, Any]]) -> dict[str, Any]:
        keys = ("ms", "cpu_ms", "wait_ms", "gc_ms", "minflt", "majflt", "nvcsw", "nivcsw")
        return {k: round(sum(r.get(k) or 0 for r in some), 2) for k in keys} | {"n": len(some)}

    return {"rows": slow, "total_slowest": total(slow), "total_all": total(rows)}


def _ratios(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """after / before of p50, p99 and p99.9: overall and by length bucket."""

    def one(b: dict[str, Any], a: dict[str, Any]) -> dict[str, float]:
        return {k: round(a[k] / b[k], 3) for k in ("p50_ms", "p99_ms", "p999_ms") if b[k]}

    out = {"all": one(before["all"], after["all"])}
    for bucket_name, b in before["by_lines"].items():
        out[bucket_name] = one(b, after["by_lines"][bucket_name])
    return out


def _profile(trees: dict[str, Path], index_dir: str, args: Any, qs: list[Any],
             cpu: dict[str, list[list[float]]]) -> dict[str, Any]:  # fmt: skip
    """The slowest queries of each version (by their median CPU time over the passes: on
    a shared machine wall time ranks the queries that waited longest for a core),
    profiled by CPU time."""
    out = {}
    for version, tree in trees.items():
        per_query = [sorted(ms)[len(ms) // 2] for ms in zip(*cpu[version], strict=True)]
        slow = sorted(range(len(qs)), key=lambda i: -per_query[i])[: args.profile]
        out[version] = _child(tree, index_dir, args.queries, json.dumps([qs[i].id for i in slow]))
        out[version]["cpu_ms"] = [round(per_query[i], 2) for i in slow]
    return out


def write_windows(n: int) -> Path:
    """bench/scale_shards.py's n corpus windows (10-60 lines of indexed files, a third
    renamed) as query lines, those of a language the query file format knows."""
    from attrbench.generate import EXTENSIONS
    from scale_shards import queries

    from attribution.core.languages import language_for_path

    path = QUERIES.with_name(f"corpus-windows-{n}.jsonl")
    with path.open("w") as f:
        for i, (code, name) in enumerate(queries(n)):
            language = language_for_path(name)
            if language in EXTENSIONS:
                line = {"id": f"W{i:03d}", "kind": "window", "transform": "window"}
                line.update(language=language, code=code, lines=len(code.splitlines()))
                f.write(json.dumps({**line, "truth": {"path": name}}) + "\n")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--after", type=Path, default=ROOT, help="checkout of the new code")
    parser.add_argument("--index", action="append", required=True, help="LABEL=DIR")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument(
        "--windows", type=int, default=0, help="instead: N corpus windows (bench/scale_shards.py)"
    )
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--note", default="", help="what the two trees are, for the record")
    parser.add_argument("--profile", type=int, default=0, help="slowest queries to profile")
    parser.add_argument("--run", default="", help="what this run is (machine, load), recorded")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "query_tail.json")
    args = parser.parse_args()
    for spec in args.index:
        if "=" not in spec or not Path(spec.split("=", 1)[1], "MANIFEST.json").exists():
            parser.error(f"--index {spec!r}: expected LABEL=DIR of an index")
    if not (args.before / "attribution").is_dir():
        parser.error(f"--before {args.before}: not a checkout of this repository")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    if args.windows:
        args.queries = write_windows(args.windows)
    run: dict[str, Any] = {
        "run": {"label": args.run, "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "before_commit": _commit(args.before),
        "after_commit": _commit(args.after),
        "queries_file": args.queries.name,
        "trees": {"before": str(args.before), "after": str(args.after), "what": args.note},
        "note": "load average (1 min) recorded before and after each pass: the machine is "
        "shared; before and after answer each query in turn, so load weighs on both alike",
        "indexes": {},
    }
    for spec in args.index:
        label, index_dir = spec.split("=", 1)
        run["indexes"][label] = measure(label, index_dir, trees, args)
        args.out.write_text(json.dumps(run, indent=1) + "\n")
    run["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    run["run"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.write_text(json.dumps(run, indent=1) + "\n")
    return 0


def _commit(tree: Path) -> str:
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--", "attribution"],
                           capture_output=True, text=True, check=False)  # fmt: skip
    return head.stdout.strip() + (" (+ uncommitted changes)" if dirty.stdout.strip() else "")


if __name__ == "__main__":
    raise SystemExit(main())
