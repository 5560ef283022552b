"""Peak memory of every process of a build, for growing inputs, before and after the
external-memory segment writer (index/spill.py).

    python bench/build_memory.py grow --tree before=/work/oldtree --tree after=/work/main
    RAY_ADDRESS=local python bench/build_memory.py grow --sizes 0 --set ray-1 \
        --tree before=/work/oldtree --tree after=/work/main -- --engine ray --shards 4
    python bench/build_memory.py one --tree after=/work/main --engine ray --shards 4 \\
        --index /work/scale1m/a-ray4 --tables-from /work/scale1m/corpus.READY

Each build runs in a child process (`attribution index build`, the given tree first on
PYTHONPATH); a sampler reads /proc/<pid>/status of the child and of every descendant
(pool workers; with Ray the raylet, GCS and workers) once a second: each process's
VmHWM (the kernel's own peak of its resident set, file-backed pages included) and the
largest RssAnon seen. `grow` runs the trees one after the other for each input, so load
from other jobs on the shared machine weighs on both alike; the load average is recorded
with every run. Inputs: the shared corpus, then the corpus with the first 100k and 300k
files of scale.py's synthetic enlargement (the chunks of /work/scale1m/corpus when they
exist, made with synth_tables otherwise). `grow` adds its runs, labelled `--set`, to the
results file; build arguments after `--` replace the default `--jobs 2` (RAY_ADDRESS=local:
a Ray build starts its own cluster, never joins one already running on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attrbench.corpus import CORPUS, cache_dir, read_rows
from attrbench.scale import SYNTH_CHUNK, synth_tables

RESULTS = Path(__file__).resolve().parent / "results"
SCALE1M = Path("/work/scale1m/corpus")
SIZES = (0, 100_000, 300_000)
CLI = "import sys; from attribution.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _status(pid: int) -> dict[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) // 1024  # MB
    return out


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _name(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    return " ".join(raw.split()[:3])[:90]


class Sampler:
    """Peak memory of a process and all its descendants, sampled every `every` s."""

    def __init__(self, root: int, every: float = 1.0) -> None:
        self.root, self.every = root, every
        self.procs: dict[int, dict[str, Any]] = {}
        self.tree_peak_mb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        kids, todo, total = _children(), [self.root], 0
        while todo:
            pid = todo.pop()
            todo += kids.get(pid, [])
            st = _status(pid)
            if not st:
                continue
            p = self.procs.setdefault(pid, {"name": _name(pid), "hwm_mb": 0, "anon_mb": 0})
            p["hwm_mb"] = max(p["hwm_mb"], st.get("VmHWM", 0))
            p["anon_mb"] = max(p["anon_mb"], st.get("RssAnon", 0))
            total += st.get("VmRSS", 0)
        self.tree_peak_mb = max(self.tree_peak_mb, total)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join()
        procs = sorted(self.procs.items(), key=lambda kv: -kv[1]["hwm_mb"])
        main = self.procs.get(self.root, {"hwm_mb": 0, "anon_mb": 0})
        others = [p for pid, p in procs if pid != self.root]
        return {
            "peak_rss_mb_main": main["hwm_mb"],
            "peak_anon_mb_main": main["anon_mb"],
            "peak_rss_mb_other_max": max((p["hwm_mb"] for p in others), default=0),
            "peak_rss_mb_tree_sum": self.tree_peak_mb,
            "processes": [{"pid": pid, **p} for pid, p in procs[:40]],
        }


def run_build(tree: Path, tables: list[str], index: Path, extra: list[str]) -> dict[str, Any]:
    """One build; run again (up to 3 times) when Ray's node timed out while starting, as
    it does at load ~10 (a fixed 30 s wait in Ray)."""
    for attempt in range(3):
        try:
            return {**_run_build(tree, tables, index, extra), "ray_start_retries": attempt}
        except RuntimeError as err:
            if "timed out during startup" not in str(err) or attempt == 2:
                raise
            print(f"Ray's node timed out starting; again ({attempt + 1})", flush=True)
    raise AssertionError("unreachable")


def _run_build(tree: Path, tables: list[str], index: Path, extra: list[str]) -> dict[str, Any]:
    """One build in a child process under the sampler; wall time, MB/s and memory."""
    shutil.rmtree(index, ignore_errors=True)
    tables = [str(Path(t).resolve()) for t in tables]
    index = index.resolve()
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, "-c", CLI, "index", "build", *tables]
    cmd += ["--index", str(index), *extra]
    load0, t0 = os.getloadavg(), time.perf_counter()
    proc = subprocess.Popen(  # cwd: `python -c` puts it first on sys.path, before PYTHONPATH
        cmd, env=env, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = Sampler(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    mem = sampler.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"build failed ({proc.returncode}): {err.decode()[-800:]}")
    info = json.loads(subprocess.run(
        [sys.executable, "-c", CLI, "index", "stats", "--index", str(index), "--format",
         "json"], env=env, cwd=tree, capture_output=True, check=True).stdout)  # fmt: skip
    mb = info["source_bytes"] / 1e6
    return {
        "tree": str(tree),
        "args": extra,
        "seconds": round(seconds, 1),
        "files": info["sources"],
        "blobs": info["blobs"],
        "source_mb": round(mb, 1),
        "mb_per_s": round(mb / seconds, 3),
        "load_before": [round(x, 2) for x in load0],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        **mem,
        "stdout_tail": out.decode()[-300:],
    }


def inputs(sizes: list[int]) -> list[tuple[str, list[str]]]:
    """(name, tables) of each input: the corpus, then the corpus and n synthetic files."""
    out = []
    for n in sizes:
        tables = [str(CORPUS)]
        if n:
            chunks = (n + SYNTH_CHUNK - 1) // SYNTH_CHUNK
            made = [SCALE1M / f"synth-s1-{i:04d}.parquet" for i in range(chunks)]
            if not all(p.exists() for p in made):
                made = synth_tables(read_rows(CORPUS), n, 1, cache_dir() / "synth")
            tables += [str(p) for p in made]
        out.append((f"corpus+{n // 1000}k" if n else "corpus", tables))
    return out


def grow(
    trees: dict[str, Path], sizes: list[int], work: Path, out: Path, args: list[str], label: str
) -> None:
    """Every input built by every tree in turn (build arguments `args`, default --jobs 2);
    the runs, labelled with the set `label`, added to the results file after each."""
    results: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    results.setdefault("what", "builds of growing inputs: peak RSS of every process (VmHWM), "
                       "wall time, MB/s, load average before/after")  # fmt: skip
    results.setdefault("machine", {"cpus": os.cpu_count(), "shared": True})
    results.setdefault("runs", [])
    for name, tables in inputs(sizes):
        for code, tree in trees.items():
            run = run_build(tree, tables, work / f"{name}-{code}", args or ["--jobs", "2"])
            results["runs"].append({"set": label, "input": name, "code": code, **run})
            print(json.dumps({k: v for k, v in run.items() if k != "processes"}), flush=True)
            shutil.rmtree(work / f"{name}-{code}", ignore_errors=True)
            out.write_text(json.dumps(results, indent=2) + "\n")


def one(tree: Path, tables: list[str], index: Path, extra: list[str], out: Path) -> None:
    """One build (kept at `index`), added to the results file under its engine."""
    results = json.loads(out.read_text()) if out.exists() else {"runs": []}
    run = run_build(tree, tables, index, extra)
    results["runs"].append({"index": str(index), **run})
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in run.items() if k != "processes"}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("grow", "one"))
    ap.add_argument("--tree", action="append", default=[], metavar="LABEL=DIR")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--work", type=Path, default=Path("/work/build_memory"))
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--tables-from", type=Path, default=None, help="a READY file")
    ap.add_argument("--set", default="", help="grow: the label of this set of runs")
    args, extra = ap.parse_known_args()  # the rest (after --): arguments of the build
    extra = [a for a in extra if a != "--"]
    trees = {t.split("=", 1)[0]: Path(t.split("=", 1)[1]) for t in args.tree}
    if args.mode == "grow":
        sizes = [int(x) for x in args.sizes.split(",")]
        out = args.out or RESULTS / "build_memory.json"
        grow(trees, sizes, args.work, out, extra, args.set)
        return
    lines = args.tables_from.read_text().split("\n") if args.tables_from else []
    tables = [t for t in lines if t and not t.startswith("files ")]
    (tree,) = trees.values()
    one(tree, tables, args.index, extra, args.out or RESULTS / "build_1m.json")


if __name__ == "__main__":
    main()
