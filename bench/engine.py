"""Engine benchmark: build throughput, index size, peak memory, query latency.

    python bench/engine.py [--corpus ../shared/corpus/files.parquet] [--jobs 2]

Builds an index of the corpus in a temporary directory, then (in a fresh process, so its
peak memory is the serving memory alone) times in-process queries of 10, 30 and 100 lines
cut from indexed files. Baselines measured in the same run give ratios that do not depend
on how busy the machine is: tokenizing alone (the floor of any build) for the build, and a
plain substring scan of every stored file for queries. Prints JSON; writes it to
bench/results/engine.json (committed: the README's engine figures are copied from it), with
the run's record: when, which command, the commit, and the load average at the start, before
the queries and at the end (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"
DEFAULT_OUT = ROOT / "bench" / "results" / "engine.json"
LENGTHS = (10, 30, 100)


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory (MB) of this process (VmHWM: not inherited across exec) or of
    the largest child process waited for."""
    if who == resource.RUSAGE_SELF:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(who).ru_maxrss / 1024


def measure_build(corpus: Path, index_dir: Path, jobs: int) -> dict[str, Any]:
    from attribution.index.build import build
    from attribution.index.stats import stats

    started = time.perf_counter()
    report = build([str(corpus)], index_dir, jobs=jobs)
    seconds = time.perf_counter() - started
    info = stats(index_dir)
    mb = report.source_bytes / 1e6
    disk = info["disk_bytes"]
    return {
        "files": report.files,
        "source_mb": round(mb, 2),
        "seconds": round(seconds, 2),
        "mb_per_s": round(mb / seconds, 2),
        "bytes_per_source_byte": {k: round(v / report.source_bytes, 3) for k, v in disk.items()},
        "peak_rss_mb": {
            "main": round(peak_mb(), 1),
            "largest_worker": round(peak_mb(resource.RUSAGE_CHILDREN), 1),
        },
    }


def tokenize_baseline(corpus: Path, sample_mb: float = 8.0) -> dict[str, Any]:
    """Tree-sitter tokenizing alone, one core: the floor under any build."""
    import pyarrow.parquet as pq

    from attribution.core.languages import language_for_path
    from attribution.core.tokenize import tokenize

    table = pq.read_table(corpus, columns=["path", "content"]).to_pylist()
    random.Random(1).shuffle(table)
    done, started = 0, time.perf_counter()
    for row in table:
        lang = language_for_path(row["path"])
        if lang:
            data = row["content"].encode()
            tokenize(data, lang)
            done += len(data)
        if done > sample_mb * 1e6:
            break
    return {"tokenize_mb_per_s_one_core": round(done / 1e6 / (time.perf_counter() - started), 2)}


def snippets(index: Any, n: int, lines: int, rng: random.Random) -> list[tuple[str, str]]:
    """n snippets of `lines` lines cut from random indexed files (long enough ones)."""
    out: list[tuple[str, str]] = []
    handles = list(range(int(index.bases[-1])))
    while len(out) < n:
        blob = rng.choice(handles)
        text = index.content(blob).decode("utf-8", "replace").splitlines()
        if len(text) < lines + 5:
            continue
        start = rng.randrange(0, len(text) - lines)
        chunk = "\n".join(text[start : start + lines])
        if len(chunk.split()) >= lines:  # skip windows of blank lines and comments only
            seg, local = index._locate(blob)
            out.append((chunk, seg.languages[local]))
    return out


def measure_queries(index_dir: Path, per_length: int) -> dict[str, Any]:
    from attribution.core.search import attribute
    from attribution.index.store import Index

    rng = random.Random(7)
    index = Index(index_dir)
    attribute("def warm_up(x):\n    return x + 1\n" * 3, index)
    result: dict[str, Any] = {"peak_rss_mb_after_open": round(peak_mb(), 1)}
    contents = [index.content(b) for b in range(int(index.bases[-1]))]
    for lines in LENGTHS:
        queries = snippets(index, per_length, lines, rng)
        times, found = [], 0
        for code, lang in queries:
            t0 = time.perf_counter()
            answer = attribute(code, index, language=lang)
            times.append((time.perf_counter() - t0) * 1000)
            found += answer["verdict"] == "match"
        scan = []
        for code, _ in queries[:20]:
            needle = max(code.splitlines(), key=len).encode()
            t0 = time.perf_counter()
            any(needle in c for c in contents)
            scan.append((time.perf_counter() - t0) * 1000)
        p50 = statistics.median(times)
        result[f"{lines}_lines"] = {
            "queries": len(times),
            "found": found,
            "p50_ms": round(p50, 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2),
            "baseline_scan_p50_ms": round(statistics.median(scan), 2),
            "speedup_vs_scan": round(statistics.median(scan) / p50, 1),
        }
    del contents
    result["peak_rss_mb_serving"] = round(peak_mb(), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300, help="queries per snippet length")
    parser.add_argument("--index", type=Path, help="reuse (or keep) the index here")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the JSON goes")
    parser.add_argument("--serve-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_only:
        print(json.dumps(measure_queries(args.index, args.queries)))
        return
    report = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build (unless --index holds one), the tokenizing floor, then queries in a child."""
    from attrbench import runs

    record = runs.start("engine: build, index size, query latency")
    report: dict[str, Any] = {"run": record["id"], "runs": {record["id"]: record}}
    report.update({"corpus": str(args.corpus), "jobs": args.jobs})
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index or Path(tmp) / "index"
        if not (index_dir / "MANIFEST.json").exists():
            report["build"] = measure_build(args.corpus, index_dir, args.jobs)
        report["baseline"] = tokenize_baseline(args.corpus)
        if "build" in report:
            floor = report["baseline"]["tokenize_mb_per_s_one_core"] * args.jobs
            report["build"]["ratio_to_tokenize_floor"] = round(
                report["build"]["mb_per_s"] / floor, 2
            )
        record["load_avg_before_queries"] = [round(x, 2) for x in os.getloadavg()]
        report["queries"] = serve(index_dir, args.queries)
    runs.finish(record)
    return report


def serve(index_dir: Path, queries: int) -> dict[str, Any]:
    """measure_queries in a fresh process, so its peak memory is the serving memory."""
    child = [sys.executable, __file__, "--serve-only", "--index", str(index_dir)]
    proc = subprocess.run(
        [*child, "--queries", str(queries)], check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


if __name__ == "__main__":
    main()
