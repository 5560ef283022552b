"""The 1-million-file data set of the scale runs, made once outside the repository:
the shared corpus plus the synthetic enlargement of bench/attrbench/scale.py
(`synth_tables`, the same seed and chunks as `attribution_bench.py scale --max-files N`).

    python bench/scale1m_data.py /work/scale1m [--max-files 1000000] [--seed 1]

Writes DIR/corpus/corpus.parquet and DIR/corpus/synth-s<seed>-*.parquet, then
DIR/corpus.READY: the table paths, one a line, and a last line `files <count>`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from attrbench.corpus import CORPUS, read_rows
from attrbench.scale import synth_tables


def make(root: Path, max_files: int, seed: int) -> list[Path]:
    """The tables of max_files files under root/corpus (existing chunks are kept)."""
    rows = read_rows(CORPUS)
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    table = corpus / "corpus.parquet"
    if not table.exists():
        shutil.copyfile(CORPUS, table.with_suffix(".tmp"))
        table.with_suffix(".tmp").rename(table)
    parts = synth_tables(rows, max(0, max_files - len(rows)), seed, corpus)
    files = len(rows) + max(0, max_files - len(rows))
    ready = [str(table), *map(str, parts), f"files {files}"]
    (root / "corpus.READY").write_text("\n".join(ready) + "\n")
    return [table, *parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--max-files", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.perf_counter()
    tables = make(args.root, args.max_files, args.seed)
    print(f"{len(tables)} tables in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
