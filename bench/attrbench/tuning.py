"""Tuning evidence: the same queries against the same index with query-time settings
changed one at a time (and, optionally, indexes rebuilt with other k / window)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from attrbench import generate, metrics, ours
from attrbench.corpus import cache_dir

QUERY_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"min_tokens": 16},
    {"min_tokens": 25},
    {"min_tokens": 30},
    {"min_score": 0.25},
    {"min_score": 0.35},
    {"min_rare_share": 0.0},
    {"min_rare_share": 0.3},
    {"rare_df": 1},
    {"rare_df": 8},
    {"max_df": 100},
    {"max_candidates": 24},
)
VALIDATION_VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"min_tokens": 30},
    {"min_rare_share": 0.0},
    {"rare_df": 8},
)
BUILD_VARIANTS: tuple[dict[str, int], ...] = ({"k": 10, "window": 10}, {"k": 8, "window": 8})


def summarise(queries: list[generate.Query], answers: dict[str, Any]) -> dict[str, Any]:
    ev = metrics.evaluate(queries, answers)
    bt = ev["by_transform"]
    return {
        "recall": ev["positives"]["recall"],
        "precision": ev["overall"]["precision"],
        "by_transform": {k: v["recall"] for k, v in bt.items() if k in generate.TRANSFORMS},
        "fp_heldout": bt.get("heldout", {}).get("fp_rate"),
        "fp_boilerplate": bt.get("boilerplate", {}).get("fp_rate"),
        "recall_5_9_lines": ev["by_length"].get("5-9", {}).get("recall"),
        "ms_mean": ev["positives"]["ms_mean"],
    }


def validate(seed: int) -> dict[str, Any]:
    """The defaults and the settings that matter most on another seed (other held-out
    packages, other queries), so that a choice is not tuned to one query set."""
    from attrbench.prepare import prepare

    prep = prepare(seed=seed)
    queries = generate.generate(prep.indexed, prep.heldout, generate.Plan(seed, 40, 40, 24))
    rows = [
        {"change": o or "defaults", **summarise(queries, ours.run(prep.index_dir, queries, **o))}
        for o in VALIDATION_VARIANTS
    ]
    return {"seed": seed, "held_packages": prep.held_packages, "rows": rows}


def run(
    seed: int = 1, builds: bool = False, out: Path | None = None, validate_seed: int | None = 2
) -> dict[str, Any]:
    cache = cache_dir()
    queries = generate.load(cache / f"queries-s{seed}.jsonl")
    index_dir = cache / f"split-s{seed}" / "index"
    rows: list[dict[str, Any]] = []
    for overrides in QUERY_VARIANTS:
        answers = ours.run(index_dir, queries, **overrides)
        rows.append({"change": overrides or "defaults", **summarise(queries, answers)})
    if builds:
        from attribution.core.config import Config
        from attribution.index.build import build

        table = cache / f"split-s{seed}" / "index.parquet"
        for variant in BUILD_VARIANTS:
            name = "-".join(f"{k}{v}" for k, v in variant.items())
            vdir = cache / f"split-s{seed}" / f"index-{name}"
            if not (vdir / "MANIFEST.json").exists():
                build([str(table)], vdir, config=Config(**variant), jobs=2)
            answers = ours.run(vdir, queries)
            size = sum(p.stat().st_size for p in vdir.rglob("*") if p.is_file())
            rows.append({"change": variant, "index_mb": size / 1e6, **summarise(queries, answers)})
    result: dict[str, Any] = {"rows": rows}
    if validate_seed is not None:
        result["validation"] = validate(validate_seed)
    if out:
        out.write_text(json.dumps(result, indent=1))
    return result
