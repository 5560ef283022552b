"""Near-copy candidates: faiss binary index of 1-bit sketches vs datasketch's MinHashLSH.

    python bench/sketch_compare.py [--corpus ../shared/corpus/files.parquet] [--functions 20000]

Sketches every function (40+ tokens) of a sample of the corpus, then asks each search
structure for the source of edited copies (30% of statement lines deleted or replaced) and
reports recall@8, query time and build time. The result is recorded in attribution/DESIGN.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from attribution.core import sketch
from attribution.core.config import Config
from attribution.core.languages import has_grammar, language_for_path
from attribution.core.tokenize import tokenize

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "files.parquet"


def functions(corpus: Path, limit: int, rng: random.Random) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(corpus, columns=["path", "content"]).to_pylist()
    rng.shuffle(rows)
    out: list[tuple[str, str]] = []
    for row in rows:
        lang = language_for_path(row["path"])
        if not lang or not has_grammar(lang):
            continue
        data = row["content"].encode()
        ts = tokenize(data, lang)
        for a, b in ts.units.tolist():
            if b - a >= 40:
                out.append(
                    (data[int(ts.start[a]) : int(ts.end[b - 1])].decode("utf-8", "replace"), lang)
                )
        if len(out) >= limit:
            break
    return out[:limit]


def edit(code: str, rng: random.Random, share: float = 0.3) -> str:
    lines = code.splitlines()
    out = [lines[0]]
    for line in lines[1:-1]:
        r = rng.random()
        if r < share / 2:
            continue
        out.append(
            line if r < 1 - share / 2 else line[: len(line) - len(line.lstrip())] + "x = x + 1;"
        )
    return "\n".join([*out, lines[-1]] if len(lines) > 1 else out)


def signatures(items: list[tuple[str, str]], cfg: Config) -> np.ndarray:
    sigs = np.zeros((len(items), cfg.sketch_perm), dtype=np.uint32)
    for i, (code, lang) in enumerate(items):
        ts = tokenize(code, lang)
        sigs[i] = sketch.minhash(sketch.shingles(ts.abstract, cfg.sketch_shingle), cfg.sketch_perm)
    return sigs


def run_faiss(base: np.ndarray, queries: np.ndarray, cfg: Config) -> dict[str, float]:
    import faiss

    faiss.omp_set_num_threads(1)
    packed = np.stack([sketch.pack_bits(s) for s in base])
    t0 = time.perf_counter()
    index = faiss.IndexBinaryFlat(cfg.sketch_perm)
    index.add(packed)
    build_s = time.perf_counter() - t0
    times, hits = [], 0
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        dist, ids = index.search(sketch.pack_bits(q)[None, :], 8)
        sims = sketch.estimate_jaccard(dist[0], cfg.sketch_perm)
        found = {int(j) for j, s in zip(ids[0], sims, strict=True) if s >= cfg.near_threshold}
        times.append((time.perf_counter() - t0) * 1000)
        hits += i in found
    return {
        "recall": hits / len(queries),
        "p50_ms": statistics.median(times),
        "build_s": build_s,
        "bytes_per_function": cfg.sketch_perm / 8,
    }


def run_lsh(base: np.ndarray, queries: np.ndarray, cfg: Config) -> dict[str, float]:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    def lean(sig: np.ndarray) -> LeanMinHash:
        return LeanMinHash(seed=1, hashvalues=sig, scheme="affine32")

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=cfg.near_threshold, num_perm=cfg.sketch_perm)
    with lsh.insertion_session() as session:
        for i, sig in enumerate(base):
            session.insert(i, lean(sig))
    build_s = time.perf_counter() - t0
    times, hits = [], 0
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        found = set(lsh.query(lean(q)))
        times.append((time.perf_counter() - t0) * 1000)
        hits += i in found
    del MinHash
    return {
        "recall": hits / len(queries),
        "p50_ms": statistics.median(times),
        "build_s": build_s,
        "bytes_per_function": cfg.sketch_perm * 4,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--functions", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(3)
    cfg = Config()
    items = functions(args.corpus, args.functions, rng)
    base = signatures(items, cfg)
    picked = rng.sample(range(len(items)), args.queries)
    # queries are numbered 0..n-1 and their sources are moved to the same positions
    order = picked + [i for i in range(len(items)) if i not in set(picked)]
    base = base[order]
    queries = signatures([(edit(items[i][0], rng), items[i][1]) for i in picked], cfg)
    report = {
        "functions": len(items),
        "queries": len(picked),
        "faiss_binary_flat": run_faiss(base, queries, cfg),
        "datasketch_lsh": run_lsh(base, queries, cfg),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
