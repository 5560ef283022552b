"""Performance against index size: builds of 10 %, 30 % and 100 % of the corpus (whole
packages) and of a synthetic enlargement (real files cut and mutated: identifiers
renamed, lines dropped and repeated) up to max_files files; for each, build throughput,
index bytes per source byte, peak memory, and query latency (p50/p99) of the same queries
in a fresh process. Everything is built once into the cache and reused."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from attrbench import generate, runs
from attrbench.corpus import CORPUS, cache_dir, read_rows, write_table

FRACTIONS = (0.10, 0.30, 1.0)
SYNTH_CHUNK = 50_000
_WORDS = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")
_KEEP = frozenset(
    [
        "self",
        "this",
        "return",
        "import",
        "from",
        "class",
        "def",
        "function",
        "const",
        "static",
        "void",
        "public",
        "private",
        "struct",
        "while",
        "else",
        "true",
        "false",
        "null",
        "None",
        "True",
        "False",
        "elif",
        "yield",
        "async",
        "await",
    ]
)


def _packages(rows: list[dict[str, Any]], fraction: float, seed: int) -> set[str]:
    names = sorted({r["repo_name"] for r in rows})
    random.Random(seed).shuffle(names)
    return set(names[: max(1, round(fraction * len(names)))])


def mutate(text: str, rng: random.Random) -> str:
    """A window of 15-80 lines with a few names renamed and some lines dropped or doubled."""
    lines = text.split("\n")
    n = rng.randint(15, 80)
    start = rng.randrange(max(1, len(lines) - n))
    chunk = lines[start : start + n]
    out = []
    for line in chunk:
        r = rng.random()
        if r < 0.05:
            continue
        out.append(line)
        if r > 0.97:
            out.append(line)
    body = "\n".join(out)
    words = sorted({w for w in _WORDS.findall(body) if w not in _KEEP})
    if words:
        chosen = rng.sample(words, min(4, len(words)))
        new = {w: f"{w}_{rng.randrange(1 << 24):x}" for w in chosen}
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, chosen)) + r")\b")
        body = pattern.sub(lambda m: new[m.group(0)], body)
    return body + "\n"


def synth_tables(rows: list[dict[str, Any]], n_files: int, seed: int, root: Path) -> list[Path]:
    """n_files mutated files as parquet tables of SYNTH_CHUNK rows (made once)."""
    from attribution.core.languages import language_for_path

    pool = [r for r in rows if language_for_path(r["path"]) and r["content"].count("\n") >= 10]
    paths = []
    for part in range((n_files + SYNTH_CHUNK - 1) // SYNTH_CHUNK):
        path = root / f"synth-s{seed}-{part:04d}.parquet"
        paths.append(path)
        if path.exists():
            continue
        rng = random.Random(seed * 1_000_003 + part)  # one stream per chunk: chunks cache
        out = []
        for i in range(part * SYNTH_CHUNK, min(n_files, (part + 1) * SYNTH_CHUNK)):
            src = pool[rng.randrange(len(pool))]
            out.append(
                {
                    **src,
                    "repo_name": f"synth/p{i // 1000:05d}",
                    "path": f"f{i}/{src['path'].rsplit('/', 1)[-1]}",
                    "content": mutate(src["content"], rng),
                    "blob_id": None,
                }
            )
        write_table(out, path)
    return paths


BUILD_CHILD = """
import json, resource, sys, time
from attribution.index.build import build
from attribution.index.stats import stats
specs, out = json.loads(sys.argv[1]), sys.argv[2]
t = time.perf_counter()
rep = build(specs, out, jobs=2)
sec = time.perf_counter() - t
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
print(json.dumps({"seconds": sec, "files": rep.files, "blobs": rep.blobs,
    "source_bytes": rep.source_bytes, "disk_bytes": stats(out)["disk_bytes"],
    "peak_rss_mb_main": hwm(),
    "peak_rss_mb_worker": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""

SERVE_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from attrbench.generate import load
from attrbench import ours, metrics
qs = load(__import__('pathlib').Path(sys.argv[2]))
t = time.perf_counter()
from attribution.index.store import Index
Index(sys.argv[1]).close()
open_s = time.perf_counter() - t
ans = ours.run(sys.argv[1], qs)
def hwm():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
ev = metrics.evaluate(qs, ans)
print(json.dumps({"recall": ev["positives"]["recall"], "open_s": open_s,
    "peak_rss_mb_serving": hwm()}))
"""

# Every query against every index in turn, so that load from other jobs on a shared
# machine weighs on all index sizes alike.
LATENCY_CHILD = """
import json, statistics, sys, time
sys.path.insert(0, sys.argv[3])
from attrbench.generate import load
from attrbench.metrics import bucket
from attribution.core.search import attribute
from attribution.index.store import Index
qs = load(__import__('pathlib').Path(sys.argv[2]))
dirs = json.loads(sys.argv[1])
idx = [Index(d) for d in dirs]
for i in idx:
    for q in qs[:5]:
        attribute(q.code, i, language=q.language, filename=q.filename)
times = [[] for _ in dirs]
for q in qs:
    for k, i in enumerate(idx):
        t = time.perf_counter()
        attribute(q.code, i, language=q.language, filename=q.filename)
        times[k].append(((time.perf_counter() - t) * 1000, bucket(q.lines)))
def stats(ms):
    ms = sorted(ms)
    return {"n": len(ms), "p50": statistics.median(ms), "p99": ms[round(0.99 * (len(ms) - 1))],
            "mean": statistics.fmean(ms)}
out = []
for ts in times:
    by = {}
    for ms, b in ts:
        by.setdefault(b, []).append(ms)
    lengths = {b: stats(v) for b, v in by.items()}
    out.append({"all": stats([m for m, _ in ts]), "by_length": lengths})
print(json.dumps(out))
"""


def _child(code: str, *args: str, timeout: float = 7200) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        ["nice", "-n", "5", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {proc.stderr.strip().splitlines()[-3:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def build_once(specs: list[str], index_dir: Path, run: dict[str, Any]) -> dict[str, Any]:
    """Build an index once; a cached build keeps the record of the run that built it."""
    info = index_dir.parent / f"{index_dir.name}.build.json"
    if info.exists() and (index_dir / "MANIFEST.json").exists():
        cached: dict[str, Any] = json.loads(info.read_text())
        return cached
    load_before = os.getloadavg()[0]
    result = _child(BUILD_CHILD, json.dumps(specs), str(index_dir))
    result["load_avg_before"] = load_before
    result["load_avg"] = os.getloadavg()[0]
    result["run"] = run["id"]
    result["run_record"] = dict(run)
    info.write_text(json.dumps(result))
    return result


def latency_queries(rows: list[dict[str, Any]], index_dir: Path, seed: int) -> list[Any]:
    """Queries cut from the files of the smallest index (so every index holds their
    source): verbatim, type2 and type3-20 variants, all lengths."""
    from attrbench.corpus import indexed_sources

    content = {(r["repo_name"], r["path"]): r["content"] for r in rows}
    files = [
        generate.FileRow(s.repo_name, s.path, s.blob_id, s.language, content[key])
        for s in indexed_sources(index_dir)
        if s.language in LANGS and (key := (s.repo_name, s.path)) in content
    ]
    files.sort(key=lambda f: (f.repo_name, f.path))
    rng = random.Random(seed)
    out = []
    for row, cut in generate.pick_cuts(files, 30, rng):
        for name, code, (qa, qb) in generate.variants(cut, rng):
            if name in ("verbatim", "type2", "type3-20"):
                out.append(
                    generate.Query(
                        id=f"L{len(out):04d}-{name}",
                        kind="positive",
                        transform=name,
                        language=cut.language,
                        code=code,
                        lines=cut.r1 - cut.r0 + 1,
                        truth={
                            "blob_id": row.blob_id,
                            "source_lines": [cut.r0 + 1, cut.r1 + 1],
                            "query_lines": [qa, qb],
                            "match_type": generate.EXPECTED[name],
                        },
                    )
                )
    return out


LANGS = generate.LANGUAGES


def run(seed: int = 1, max_files: int = 1_000_000, out: Path | None = None) -> dict[str, Any]:
    root = cache_dir() / "scale"
    root.mkdir(parents=True, exist_ok=True)
    rows = read_rows(CORPUS)
    subsets = {f: _packages(rows, f, seed) for f in FRACTIONS}
    qfile = root / f"latency-queries-v2-s{seed}.jsonl"
    steps: list[tuple[str, list[str], Path]] = []
    for f in FRACTIONS:
        table = root / f"corpus-{int(f * 100)}.parquet"
        if not table.exists():
            write_table([r for r in rows if r["repo_name"] in subsets[f]], table)
        steps.append((f"{int(f * 100)}% corpus", [str(table)], root / f"idx-{int(f * 100)}"))
    record = runs.start("scale: builds (cached ones keep their run), serving, latency")
    result: dict[str, Any] = {"run": record["id"], "runs": {record["id"]: record}}
    result.update({"sizes": [], "max_files_asked": max_files})
    if max_files > len(rows):
        n_synth = max_files - len(rows)
        started = time.perf_counter()
        parts = synth_tables(rows, n_synth, seed, root / "synth")
        result["synth_generation_s"] = time.perf_counter() - started
        specs = [str(root / "corpus-100.parquet"), *map(str, parts)]
        steps.append((f"corpus + {n_synth:,} synthetic", specs, root / f"idx-synth-{max_files}"))
    for label, specs, index_dir in steps:
        build = build_once(specs, index_dir, record)
        if build.get("run_record"):
            result["runs"].setdefault(build["run"], build["run_record"])
        if not qfile.exists():  # cut from the smallest index: every index holds the sources
            generate.save(latency_queries(rows, index_dir, seed), qfile)
        result["sizes"].append(_size(label, build, index_dir, qfile))
        _save(result, out)
    here = str(Path(__file__).parents[1])
    dirs = json.dumps([str(d) for _, _, d in steps])
    result["load_avg_latency"] = os.getloadavg()[0]
    for size, lat in zip(
        result["sizes"], _child(LATENCY_CHILD, dirs, str(qfile), here), strict=True
    ):
        size["query"].update(
            {
                "queries": lat["all"]["n"],
                "p50_ms": lat["all"]["p50"],
                "p99_ms": lat["all"]["p99"],
                "mean_ms": lat["all"]["mean"],
                "by_length": lat["by_length"],
            }
        )
    runs.finish(record)
    _save(result, out)
    return result


def _size(label: str, build: dict[str, Any], index_dir: Path, qfile: Path) -> dict[str, Any]:
    serve = _child(SERVE_CHILD, str(index_dir), str(qfile), str(Path(__file__).parents[1]))
    disk = build["disk_bytes"]
    total = disk.get("total", sum(disk.values())) if isinstance(disk, dict) else disk
    return {
        "label": label,
        "files": build["files"],
        "blobs": build["blobs"],
        "source_mb": build["source_bytes"] / 1e6,
        "build_s": build["seconds"],
        "build_mb_per_s": build["source_bytes"] / 1e6 / build["seconds"],
        "build_files_per_s": build["files"] / build["seconds"],
        "index_mb": total / 1e6,
        "bytes_per_source_byte": total / max(1, build["source_bytes"]),
        "disk_bytes": disk,
        "build_peak_rss_mb": {
            "main": build["peak_rss_mb_main"],
            "worker": build["peak_rss_mb_worker"],
        },
        "load_avg_build": build.get("load_avg"),
        "build_run": runs.of(build),
        "query": serve,
    }


def _save(result: dict[str, Any], out: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
