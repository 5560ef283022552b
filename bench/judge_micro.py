"""The judging half of a query's CPU (issue 14, item 5): score.judge, score.accepted,
explain.explain and matchtype.classify of another checkout (--before TREE, its three
modules read from their files as bench/match_types.py does) against this tree's, on the
very inputs these functions receive while the scale benchmark's query set is answered.

The queries are answered once (this tree) with the four functions wrapped to keep their
arguments; then, in one process, round after round, each version is called on every kept
input (which version goes first alternates by round, so the machine's load weighs on both
alike). Every answer is compared: a Judgement field by field (floats exactly), accepted's
bool, classify's type, explain's match object. Each call is timed in CPU
(time.process_time_ns). Figures, per function and per version: p50/p99 per call pooled
over rounds, the total per round (median); per query, the CPU of all its judging calls
(judge + accepted + explain) p50/p99; after/before ratios of each; the load before/after.

    .venv/bin/python bench/judge_micro.py --before /work/B-old --index /work/scale1m/idx-1 \\
        [--rounds 7] [--out bench/results/query_tail_judge.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
QUERIES = Path.home() / ".cache" / "attribution-bench" / "scale" / "latency-queries-v2-s1.jsonl"
OUT = ROOT / "bench" / "results" / "query_tail_judge.json"
FUNCTIONS = ("judge", "accepted", "explain", "classify")


def load_version(tree: Path) -> dict[str, Callable[..., Any]]:
    """The four functions of a checkout's score.py, matchtype.py and explain.py."""

    def module(name: str) -> ModuleType:
        path = tree / "attribution" / "core" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"judged_{name}_{id(tree)}", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
        return mod

    score, matchtype, explain = module("score"), module("matchtype"), module("explain")
    explain.classify = matchtype.classify  # its own classifier, not this tree's
    return {
        "judge": score.judge,
        "accepted": score.accepted,
        "explain": explain.explain,
        "classify": matchtype.classify,
    }


def record(index_dir: str, queries: list[Any]) -> dict[str, list[tuple[int, tuple[Any, ...]]]]:
    """The arguments of every call of the four functions while the queries are answered,
    each with its query's number (accepted keeps the value its name_bits gave, if asked)."""
    import attribution.core.explain as explain_module
    from attribution.core import search
    from attribution.index.store import Index, warm_up

    kept: dict[str, list[tuple[int, tuple[Any, ...]]]] = {f: [] for f in FUNCTIONS}
    now = [0]
    plain = {
        "judge": search.judge,
        "accepted": search.accepted,
        "explain": search.explain,
        "classify": explain_module.classify,
    }

    def wrap(name: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            if name == "accepted":
                j, share, cfg, bits = args
                asked: list[float] = []
                args = (j, share, cfg, lambda: asked[0] if asked else 0.0)
                out = plain[name](j, share, cfg, lambda: asked.append(bits()) or asked[-1])
            else:
                out = plain[name](*args)
            kept[name].append((now[0], args))
            return out

        return call

    search.judge, search.accepted = wrap("judge"), wrap("accepted")
    search.explain, explain_module.classify = wrap("explain"), wrap("classify")
    try:
        with Index(index_dir) as index:
            warm_up(index)
            for i, q in enumerate(queries):
                now[0] = i
                search.attribute(q.code, index, language=q.language, filename=q.filename)
    finally:
        search.judge, search.accepted = plain["judge"], plain["accepted"]
        search.explain, explain_module.classify = plain["explain"], plain["classify"]
    return kept


def comparable(value: Any) -> Any:
    """A Judgement as nested tuples (the two versions' classes differ), else the value."""
    return dataclasses.astuple(value) if dataclasses.is_dataclass(value) else value


def timed(fn: Callable[..., Any], calls: list[tuple[int, tuple[Any, ...]]]) -> list[int]:
    taken = []
    clock = time.process_time_ns
    for _, args in calls:
        t = clock()
        fn(*args)
        taken.append(clock() - t)
    return taken


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def figures(times: dict[str, list[list[int]]], calls: dict[str, list[Any]]) -> dict[str, Any]:
    """Per function: p50/p99 per call (us, pooled over rounds), total per round (ms,
    median); per query: its judging CPU (judge + accepted + explain) p50/p99 (us)."""
    out: dict[str, Any] = {}
    for name, rounds in times.items():
        pooled = [t / 1000 for r in rounds for t in r]
        totals = [sum(r) / 1e6 for r in rounds]
        out[name] = {
            "calls": len(calls[name]),
            "p50_us": round(pct(pooled, 0.5), 2),
            "p99_us": round(pct(pooled, 0.99), 2),
            "total_ms": round(pct(totals, 0.5), 3),
        }
    per_query: list[float] = []
    for r in range(len(times["judge"])):
        sums: dict[int, float] = {}
        for name in ("judge", "accepted", "explain"):
            for (query, _), t in zip(calls[name], times[name][r], strict=True):
                sums[query] = sums.get(query, 0.0) + t / 1000
        per_query += sums.values()
    out["per_query"] = {
        "queries": len(per_query) // max(len(times["judge"]), 1),
        "p50_us": round(pct(per_query, 0.5), 2),
        "p99_us": round(pct(per_query, 0.99), 2),
        "max_us": round(max(per_query, default=0.0), 2),
    }
    return out


def differing(
    versions: dict[str, dict[str, Callable[..., Any]]], calls: dict[str, list[Any]]
) -> dict[str, int]:
    """How many calls of each function the two versions answer differently."""
    old, new = versions["before"], versions["after"]
    return {
        name: sum(comparable(old[name](*args)) != comparable(new[name](*args)) for _, args in kept)
        for name, kept in calls.items()
    }


def git(tree: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--index", required=True, help="index directory")
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from attrbench.generate import load

    queries = load(args.queries)
    calls = record(args.index, queries)
    versions = {"before": load_version(args.before), "after": load_version(ROOT)}
    load_before = os.getloadavg()
    diff = differing(versions, calls)
    times: dict[str, dict[str, list[list[int]]]] = {v: {f: [] for f in FUNCTIONS} for v in versions}
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for r in range(args.rounds):
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for version in order:
            gc.collect()
            for name in FUNCTIONS:
                times[version][name].append(timed(versions[version][name], calls[name]))
    result = {
        "what": "judge/accepted/explain/classify, before vs after, on recorded real inputs",
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "started": started,
        "index": args.index,
        "queries": str(args.queries),
        "before_commit": git(args.before, "rev-parse", "HEAD"),
        "after_commit": git(ROOT, "rev-parse", "HEAD"),
        "after_tree_dirty": git(ROOT, "status", "--short", "attribution/core"),
        "rounds": args.rounds,
        "load_1_5_15": {"before": list(load_before), "after": list(os.getloadavg())},
        "differing_answers": diff,
        "before": figures(times["before"], calls),
        "after": figures(times["after"], calls),
    }
    result["after_over_before"] = {
        name: {
            k: round(result["after"][name][k] / result["before"][name][k], 3)
            for k in result["after"][name]
            if k.endswith(("_us", "_ms")) and result["before"][name][k]
        }
        for name in result["after"]
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("differing_answers", "after_over_before")}))
    return 1 if any(diff.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
