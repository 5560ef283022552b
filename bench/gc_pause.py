"""What a full pass of Python's garbage collector costs in a query process, before and
after store.warm_up freezes what the process holds (issue 14, the query tail).

A process opens the index, answers the first queries of the scale benchmark's set (the
caches fill as in a service), then times full collections (gc.collect(), median of 7)
with the objects tracked; then calls store.warm_up (one query, gc.freeze) and times
them again, after more queries.

    .venv/bin/python bench/gc_pause.py --index 1m=/work/scale1m/idx-1 [--queries 50]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
QUERIES = Path.home() / ".cache" / "attribution-bench" / "scale" / "latency-queries-v2-s1.jsonl"


def full_pass_ms(times: int = 7) -> float:
    taken = []
    for _ in range(times):
        t = time.perf_counter()
        gc.collect()
        taken.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(taken), 3)


def measure(index_dir: str, queries: list[Any]) -> dict[str, Any]:
    from attribution.core.search import attribute
    from attribution.index.store import Index, warm_up

    half = len(queries) // 2
    with Index(index_dir) as index:
        for q in queries[:half]:
            attribute(q.code, index, language=q.language, filename=q.filename)
        before = {"tracked_objects": len(gc.get_objects()), "full_pass_ms": full_pass_ms()}
        warm_up(index)
        for q in queries[half:]:
            attribute(q.code, index, language=q.language, filename=q.filename)
        after = {
            "tracked_objects": len(gc.get_objects()),
            "frozen_objects": gc.get_freeze_count(),
            "full_pass_ms": full_pass_ms(),
        }
    return {"index": index_dir, "queries_answered": len(queries), "before": before,
            "after_warm_up": after}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", action="append", required=True, help="LABEL=DIR")
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gc_pause.json")
    args = parser.parse_args()
    from attrbench.generate import load

    queries = load(QUERIES)[: args.queries]
    run: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "indexes": {},
    }
    if args.child:
        print(json.dumps(measure(args.index[0].split("=", 1)[1], queries)))
        return 0
    for spec in args.index:  # each in a process of its own: a freeze is the whole process's
        label = spec.split("=", 1)[0]
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--index", spec, "--queries", str(args.queries)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        run["indexes"][label] = json.loads(child.stdout.strip().splitlines()[-1])
        print(label, json.dumps(run["indexes"][label]), flush=True)
    args.out.write_text(json.dumps(run, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
