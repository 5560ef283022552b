"""The tokenizer before and after a change, in one process (issue 14, the query tail).

The old attribution/core/tokenize.py is loaded from a checkout of the old commit
(`--before`, e.g. `git worktree add --detach /work/old <commit>`) as a module of its
own beside this tree's; both read this tree's languages.py, which must be the same file
in both trees (checked). Two sets of inputs: the scale benchmark's latency queries
(tokenize_snippet, the query path) and a fixed-seed sample of the shared corpus's files
(tokenize, the build path). Every TokenStream of the two versions is compared array by
array (values, dtype, shape, language); any difference fails the run. Timing is CPU
time of each call; in each round the two versions take every input in turn, the order
swapped from one input to the next and from one round to the next, so that a shared
machine's load weighs on both alike. Per input the fastest of the rounds counts; the
figures are the total, the median and the p99 over inputs, and after/before ratios.

    .venv/bin/python bench/tokenize_micro.py --before /work/old [--files 600] [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
QUERIES = Path.home() / ".cache" / "attribution-bench" / "scale" / "latency-queries-v2-s1.jsonl"
CORPUS = Path("/work/shared/corpus/files.parquet")
ARRAYS = ("text_hash", "kind", "start", "end", "line", "end_line", "units", "abstract")

Input = tuple[str, bytes, str]  # (name, text, language)


def load_before(tree: Path) -> ModuleType:
    """The old tokenize module, from the old tree, under a name of its own."""
    here = ROOT / "attribution" / "core" / "languages.py"
    there = tree / "attribution" / "core" / "languages.py"
    if here.read_bytes() != there.read_bytes():
        raise SystemExit(f"{there} differs from {here}: the old tokenizer would read new tables")
    spec = importlib.util.spec_from_file_location(
        "tokenize_before", tree / "attribution" / "core" / "tokenize.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def query_inputs() -> list[Input]:
    from attrbench.generate import load

    return [
        (f"q{q.id}", q.code.encode("utf-8", "surrogatepass"), q.language) for q in load(QUERIES)
    ]


def file_inputs(count: int, seed: int) -> list[Input]:
    import pyarrow.parquet as pq

    from attribution.core.languages import detect_language

    table = pq.read_table(CORPUS, columns=["path", "content"])
    paths, contents = table.column("path").to_pylist(), table.column("content").to_pylist()
    order = list(range(len(paths)))
    random.Random(seed).shuffle(order)
    out: list[Input] = []
    for i in order:
        data = contents[i].encode("utf-8", "surrogatepass")
        language = detect_language(paths[i], data[:256])
        if language is not None:
            out.append((paths[i], data, language))
        if len(out) == count:
            break
    return out


def differences(a: Any, b: Any) -> list[str]:
    """The arrays (or the language) in which two TokenStreams differ."""
    out = [] if a.language == b.language else ["language"]
    for name in ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        if x.dtype != y.dtype or x.shape != y.shape or not np.array_equal(x, y):
            out.append(name)
    return out


def compare(inputs: list[Input], old: Callable[..., Any], new: Callable[..., Any]) -> list[Any]:
    bad = []
    for name, data, language in inputs:
        diff = differences(old(data, language), new(data, language))
        if diff:
            bad.append({"input": name, "language": language, "arrays": diff})
    return bad


def cpu_ms(fn: Callable[..., Any], data: bytes, language: str) -> float:
    t = time.process_time()
    fn(data, language)
    return (time.process_time() - t) * 1000


def timed(
    inputs: list[Input], old: Callable[..., Any], new: Callable[..., Any], rounds: int
) -> dict[str, np.ndarray]:
    best = {"before": np.full(len(inputs), np.inf), "after": np.full(len(inputs), np.inf)}
    for r in range(rounds):
        for i, (_, data, language) in enumerate(inputs):
            order = (("before", old), ("after", new))
            for version, fn in order if (i + r) % 2 == 0 else order[::-1]:
                best[version][i] = min(best[version][i], cpu_ms(fn, data, language))
    return best


def figures(ms: np.ndarray) -> dict[str, float]:
    return {
        "total_ms": round(float(ms.sum()), 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def summary(inputs: list[Input], best: dict[str, np.ndarray]) -> dict[str, Any]:
    before, after = figures(best["before"]), figures(best["after"])
    out: dict[str, Any] = {
        "inputs": len(inputs),
        "bytes": sum(len(d) for _, d, _ in inputs),
        "before": before,
        "after": after,
        "ratio": {k: round(after[k] / before[k], 3) for k in before},
    }
    by_language: dict[str, Any] = {}
    for language in sorted({lang for _, _, lang in inputs}):
        pick = np.array([lang == language for _, _, lang in inputs])
        b, a = float(best["before"][pick].sum()), float(best["after"][pick].sum())
        by_language[language] = {
            "inputs": int(pick.sum()),
            "before_total_ms": round(b, 2),
            "after_total_ms": round(a, 2),
            "ratio": round(a / b, 3),
        }
    out["by_language"] = by_language
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout of the old commit")
    ap.add_argument("--files", type=int, default=600, help="corpus files sampled")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--run", default="", help="what this run is")
    args = ap.parse_args()

    from attribution.core import tokenize as after

    before = load_before(args.before)
    sets = {
        "queries": (query_inputs(), before.tokenize_snippet, after.tokenize_snippet),
        "files": (file_inputs(args.files, args.seed), before.tokenize, after.tokenize),
    }
    result: dict[str, Any] = {
        "run": args.run,
        "before_tree": str(args.before),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    for name, (inputs, old, new) in sets.items():
        bad = compare(inputs, old, new)
        if bad:
            print(json.dumps({"differing": bad[:20], "count": len(bad)}, indent=1))
            return 1
        result[name] = {
            "streams_compared": len(inputs),
            "streams_differing": 0,
            **summary(inputs, timed(inputs, old, new, args.rounds)),
        }
    result["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
