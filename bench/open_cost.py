"""The cost of the integrity checks when an index is opened: before and after a change,
in one run (median of N opens each).

Usage: python bench/open_cost.py SOURCE --before-tree DIR [--after-tree DIR]
           [--n 41] [--json bench/results/faults_open.json]

`--before-tree` is a checkout of the code before the change (`git worktree add DIR REV`),
`--after-tree` that after it (default: this repository). Each tree builds SOURCE into its
own index (kept in --work), then four worker processes, each importing one tree's code,
open an index N times, one open each in turn (who goes first rotates), so they share
the machine's load:

- `before`: the old code opening its own index;
- `after`: the new code opening its own index;
- `after_old_index`: the new code opening the old code's index (what an index written
  before the change costs now);
- `after_unchecked`: the new code with the checks at open switched off (the floor).

The load average is recorded at the start and the end (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def worker(index: str, unchecked: bool) -> None:
    """Open the index once per line read on stdin; write the milliseconds it took."""
    from attribution.index import integrity, segment
    from attribution.index.store import Index

    if unchecked:
        integrity.check_table = lambda *a: None  # type: ignore[assignment]
        segment.Segment._check_shapes = lambda self: None  # type: ignore[method-assign]
    Index(index).close()  # imports and first page-ins are not what is measured
    for _ in sys.stdin:
        t = time.perf_counter()
        Index(index).close()
        print(f"{(time.perf_counter() - t) * 1e3:.4f}", flush=True)


def _python(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def build_index(tree: Path, source: str, index: Path) -> None:
    if (index / "MANIFEST.json").exists():
        return
    code = (
        "import sys; from attribution.index.build import build; build([sys.argv[1]], sys.argv[2])"
    )
    subprocess.run(  # in the tree: `-c` puts the working directory first on sys.path
        [sys.executable, "-c", code, source, str(index)], env=_env(tree), cwd=tree, check=True
    )


def code_of(tree: Path) -> str:
    """Where a worker run with this tree imports attribution from (checked, not assumed)."""
    code = "import attribution; print(attribution.__file__)"
    out = subprocess.run([sys.executable, "-c", code], env=_env(tree), cwd=tree,
                         capture_output=True, text=True, check=True)  # fmt: skip
    return str(Path(out.stdout.strip()).parent.parent)


def describe(index: Path) -> dict[str, Any]:
    manifest = json.loads((index / "MANIFEST.json").read_text())
    segs = [index / "segments" / name for name in manifest["segments"]]
    infos = [json.loads((s / "SEGMENT.json").read_text()) for s in segs]
    algorithms = sorted({a for i in infos for e in i["files"].values() for a in e if a != "size"})
    return {
        "segments": len(segs),
        "blobs": sum(i["blobs"] for i in infos),
        "meta_sqlite_bytes": sum((s / "meta.sqlite").stat().st_size for s in segs),
        "checksums_recorded": algorithms,
    }


def measure(runs: dict[str, tuple[Path, Path, bool]], n: int) -> dict[str, list[float]]:
    """N opens per run, the runs taking turns (the first of a round rotates)."""
    procs = {
        name: subprocess.Popen(
            _python("--worker", str(index), *(["--unchecked"] if off else [])),
            env=_env(tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, (tree, index, off) in runs.items()
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    try:
        names = list(procs)
        for i in range(n):
            for name in names[i % len(names) :] + names[: i % len(names)]:  # each goes first
                proc = procs[name]
                assert proc.stdin and proc.stdout
                proc.stdin.write("open\n")
                proc.stdin.flush()
                times[name].append(float(proc.stdout.readline()))
    finally:
        for proc in procs.values():
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=60)
    return times


def _commit(tree: Path) -> str:
    out = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True)  # fmt: skip
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "attribution"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def main(args: argparse.Namespace) -> None:
    before, after = Path(args.before_tree).resolve(), Path(args.after_tree).resolve()
    work = Path(args.work)
    old, new = work / "before-index", work / "after-index"
    build_index(before, args.source, old)
    build_index(after, args.source, new)
    load = os.getloadavg()
    runs = {
        "before": (before, old, False),
        "after": (after, new, False),
        "after_old_index": (after, old, False),
        "after_unchecked": (after, new, True),
    }
    times = measure(runs, args.n)
    med = {name: statistics.median(t) for name, t in times.items()}
    report = {
        "command": " ".join(["python", "bench/open_cost.py", *sys.argv[1:]]),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "trees": {"before": _commit(before), "after": _commit(after)},
        "code_imported": {"before": code_of(before), "after": code_of(after)},
        "indexes": {"before": describe(old), "after": describe(new)},
        "opens_each": args.n,
        "open_ms_median": {name: round(m, 2) for name, m in med.items()},
        "open_ms_p90": {n: round(statistics.quantiles(t, n=10)[-1], 2) for n, t in times.items()},
        "checks_ms": {
            "before": round(med["before"] - med["after_unchecked"], 2),
            "after": round(med["after"] - med["after_unchecked"], 2),
        },
        "ratio_after_to_before": round(med["after"] / med["before"], 3),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": "the machine is shared with other engineers' jobs (see the load averages); "
        "the runs take turns open by open, so they share its load",
    }
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("source", nargs="?")
    ap.add_argument("--before-tree")
    ap.add_argument("--after-tree", default=str(REPO))
    ap.add_argument("--work", default="/tmp/attribution-open-cost-ab")
    ap.add_argument("--n", type=int, default=41)
    ap.add_argument("--json", default=str(REPO / "bench/results/faults_open.json"))
    ap.add_argument("--worker", metavar="INDEX")
    ap.add_argument("--unchecked", action="store_true")
    ARGS = ap.parse_args()
    if ARGS.worker:
        worker(ARGS.worker, ARGS.unchecked)
    elif not ARGS.source or not ARGS.before_tree:
        ap.error("SOURCE and --before-tree are needed")
    else:
        main(ARGS)
