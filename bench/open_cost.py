"""The cost of the integrity checks when an index is opened (median of N opens).

Usage: python bench/open_cost.py SOURCE [--index DIR] [--json bench/results/faults_open.json]

Builds SOURCE once (unless --index exists), then opens it N times alternately with the
checks (sizes, headers, shapes, meta.sqlite hashed) and with them switched off in the
same process, and reports both medians and their ratio, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from attribution.index import integrity, segment
from attribution.index.build import build
from attribution.index.store import Index


def open_once() -> float:
    t = time.perf_counter()
    Index(ARGS.index).close()
    return time.perf_counter() - t


def main() -> None:
    if not (Path(ARGS.index) / "MANIFEST.json").exists():
        build([ARGS.source], ARGS.index)
    checked, unchecked = [], []
    real_table, real_shapes = integrity.check_table, segment.Segment._check_shapes
    load = os.getloadavg()
    for _ in range(ARGS.n):
        checked.append(open_once())
        segment.integrity.check_table = lambda *a: None  # type: ignore[assignment]
        segment.Segment._check_shapes = lambda self: None  # type: ignore[method-assign]
        unchecked.append(open_once())
        segment.integrity.check_table = real_table  # type: ignore[assignment]
        segment.Segment._check_shapes = real_shapes  # type: ignore[method-assign]
    with Index(ARGS.index) as idx:
        meta = sum((s.path / "meta.sqlite").stat().st_size for s in idx.segments)
        blobs = sum(s.n_blobs for s in idx.segments)
    report = {
        "index": {"segments": len(idx.segments), "blobs": blobs, "meta_sqlite_bytes": meta},
        "opens": ARGS.n,
        "open_ms_median_checked": round(statistics.median(checked) * 1e3, 2),
        "open_ms_median_unchecked": round(statistics.median(unchecked) * 1e3, 2),
        "ratio": round(statistics.median(checked) / statistics.median(unchecked), 3),
        "load_average_at_start": [round(x, 2) for x in load],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }
    Path(ARGS.json).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--index", default="/tmp/attribution-open-cost")
    ap.add_argument("--n", type=int, default=41)
    ap.add_argument("--json", default="bench/results/faults_open.json")
    ARGS = ap.parse_args()
    main()
