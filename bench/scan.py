"""Scan benchmark: throughput (files/s, MB/s) and peak memory of `attribution scan` on 2 cores.

    python bench/scan.py [--registry npm] [--jobs 2] [--work /tmp/attribution-bench-scan]

Scans every package archive of one registry of the shared corpus (npm: ~4,000 source files)
three ways, each in a fresh process (so peak memory is the scan's own):
  * `indexed`: against an index of the whole corpus, where every scanned file is indexed
    (whole-file copies: the fast path);
  * `unindexed`: against an index of the rest of the corpus (the code is not in it: every
    file goes through the engine's snippet search, windows for long files);
  * `rescan`: the `unindexed` scan again with its result cache (an unchanged tree).
Indexes are built once into --work and reused. Prints JSON; writes bench/out/scan.json.
CPU seconds (the process and its workers) are reported beside wall time, and
`files_per_s_per_2_cpu_s` (files per CPU second, times 2) is what two idle cores would give:
on a shared machine the wall-clock rate varies with the load of others.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "packages"


def _peak_self_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ensure_index(out: Path, archives: list[Path], jobs: int) -> None:
    """Build an index of the archives into `out` unless one is there."""
    if (out / "MANIFEST.json").exists():
        return
    from attribution.index.build import build

    started = time.perf_counter()
    report = build([str(a) for a in archives], out, jobs=jobs)
    print(
        f"built {out} ({report.files:,} files) in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


def run_once(index: str, paths: list[str], jobs: int, cache: str | None) -> dict[str, Any]:
    """One scan in this process; its figures."""
    from attribution.index.store import Index
    from attribution.scan import ScanSettings, scan

    settings = ScanSettings(jobs=jobs, cache_dir=cache, progress=False)
    started = time.perf_counter()
    with Index(index, top=50) as opened:
        result = scan(paths, opened, settings)
    seconds = time.perf_counter() - started
    cpu = sum(
        r.ru_utime + r.ru_stime
        for r in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    s = result.summary
    return {
        "files": s.files,
        "mb": round(s.bytes / 1e6, 2),
        "seconds": round(seconds, 2),
        "files_per_s": round(s.files / seconds, 1),
        "mb_per_s": round(s.bytes / 1e6 / seconds, 3),
        "cpu_seconds": round(cpu, 1),
        # what 2 uncontended cores would do: the machine is shared, so wall time varies
        "files_per_s_per_2_cpu_s": round(2 * s.files / cpu, 1),
        "findings": s.findings,
        "files_with_findings": s.files_with_findings,
        "cached": s.cached,
        "errors": s.errors,
        "error_examples": [f"{p.path}: {p.detail}" for p in s.problems[:5]],
        "peak_rss_mb": {
            "parent": round(_peak_self_mb(), 1),
            "largest_worker": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
            ),
        },
    }


def measure(index: Path, paths: list[str], jobs: int, cache: Path | None) -> dict[str, Any]:
    """run_once in a fresh interpreter."""
    command = [sys.executable, __file__, "--run", str(index), "--jobs", str(jobs)]
    command += ["--cache", str(cache)] if cache else []
    done = subprocess.run(
        [*command, "--", *paths], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", default="npm")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/attribution-bench-scan"))
    parser.add_argument("--run", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run_once(args.run, args.paths, args.jobs, args.cache)))
        return
    archives = sorted(CORPUS.glob("*.tar.gz"))
    scanned = [a for a in archives if a.name.startswith(args.registry + "__")]
    rest = [a for a in archives if a not in scanned]
    all_index, rest_index = args.work / "index-all", args.work / f"index-without-{args.registry}"
    ensure_index(all_index, archives, args.jobs)
    ensure_index(rest_index, rest, args.jobs)
    cache = args.work / "cache"
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    paths = [str(a) for a in scanned]
    out = {
        "scanned": f"{len(scanned)} {args.registry} packages of the shared corpus",
        "jobs": args.jobs,
        "indexed": measure(all_index, paths, args.jobs, None),
        "unindexed": measure(rest_index, paths, args.jobs, cache),
        "rescan": measure(rest_index, paths, args.jobs, cache),
    }
    text = json.dumps(out, indent=2)
    print(text)
    (ROOT / "bench" / "out").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "out" / "scan.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
