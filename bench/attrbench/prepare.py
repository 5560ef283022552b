"""Split the corpus, build the benchmark's index (without the held-out packages), and
list the indexed and held-out files the queries are cut from."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from attrbench.corpus import (
    CORPUS,
    HOLDOUT_SHARE,
    cache_dir,
    indexed_sources,
    read_rows,
    split_packages,
    write_table,
)
from attrbench.generate import LANGUAGES, FileRow


@dataclass
class Prepared:
    index_dir: Path
    table: Path
    indexed: list[FileRow]  # indexed files in a tree-sitter language (queries come from these)
    heldout: list[FileRow]  # files of held-out packages in a tree-sitter language
    corpus_files: list[FileRow]  # every indexed source (what peers compare against)
    held_packages: list[str]
    build: dict[str, float]


def prepare(
    seed: int = 1,
    corpus: Path = CORPUS,
    workdir: Path | None = None,
    jobs: int = 2,
    share: float = HOLDOUT_SHARE,
    packages: int | None = None,
) -> Prepared:
    """packages: keep only this many packages (a fixed-seed sample) for a small run."""
    from attribution.core.languages import language_for_path
    from attribution.index.build import build

    suffix = "" if packages is None else f"-p{packages}"
    work = Path(workdir or cache_dir() / f"split-s{seed}{suffix}")
    rows = read_rows(corpus)
    repos = sorted({r["repo_name"] for r in rows})
    if packages is not None:
        import random

        repos = sorted(random.Random(seed).sample(repos, packages))
        wanted = set(repos)
        rows = [r for r in rows if r["repo_name"] in wanted]
    keep, held = split_packages(repos, seed, share)
    table = work / "index.parquet"
    if not table.exists():
        write_table([r for r in rows if r["repo_name"] in keep], table)
    index_dir = work / "index"
    build_file = work / "build.json"
    if not (index_dir / "MANIFEST.json").exists():
        started = time.perf_counter()
        report = build([str(table)], index_dir, jobs=jobs)
        seconds = time.perf_counter() - started
        build_file.write_text(
            json.dumps(
                {"seconds": seconds, "files": report.files, "source_bytes": report.source_bytes}
            )
        )
    content = {(r["repo_name"], r["path"]): r["content"] for r in rows}
    corpus_files, indexed = [], []
    for src in indexed_sources(index_dir):
        text = content.get((src.repo_name, src.path))
        if text is None:
            continue
        row = FileRow(src.repo_name, src.path, src.blob_id, src.language, text)
        corpus_files.append(row)
        if src.language in LANGUAGES:
            indexed.append(row)
    heldout = []
    for r in rows:
        lang = language_for_path(r["path"])
        if r["repo_name"] in held and lang in LANGUAGES:
            heldout.append(FileRow(r["repo_name"], r["path"], r["blob_id"], lang, r["content"]))
    corpus_files.sort(key=lambda f: (f.repo_name, f.path))
    indexed.sort(key=lambda f: (f.repo_name, f.path))
    heldout.sort(key=lambda f: (f.repo_name, f.path))
    info = json.loads(build_file.read_text()) if build_file.exists() else {}
    return Prepared(index_dir, table, indexed, heldout, corpus_files, sorted(held), info)
