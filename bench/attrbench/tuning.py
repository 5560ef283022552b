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
    {"min_tokens": 20},
    {"min_tokens": 25},
    {"min_tokens": 40},
    {"min_span": 6},
    {"max_df": 100},
    {"max_df": 400},
    {"max_candidates": 24},
    {"near_threshold": 0.4},
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
    """Defaults against the simulated rules on another seed (other held-out packages,
    other queries), so that a suggestion is not tuned to one query set."""
    from attrbench.prepare import prepare

    prep = prepare(seed=seed)
    queries = generate.generate(prep.indexed, prep.heldout, generate.Plan(seed, 40, 40, 24))
    answers = ours.run(prep.index_dir, queries)
    rows = [{"change": "defaults", **summarise(queries, answers)}]
    rows += split_floor(queries, prep.index_dir)
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
        from attribution.config import Config
        from index.build import build

        table = cache / f"split-s{seed}" / "index.parquet"
        for variant in BUILD_VARIANTS:
            name = "-".join(f"{k}{v}" for k, v in variant.items())
            vdir = cache / f"split-s{seed}" / f"index-{name}"
            if not (vdir / "MANIFEST.json").exists():
                build([str(table)], vdir, config=Config(**variant), jobs=2)
            answers = ours.run(vdir, queries)
            size = sum(p.stat().st_size for p in vdir.rglob("*") if p.is_file())
            rows.append({"change": variant, "index_mb": size / 1e6, **summarise(queries, answers)})
    rows += split_floor(queries, index_dir)
    result: dict[str, Any] = {"rows": rows}
    if validate_seed is not None:
        result["validation"] = validate(validate_seed)
    if out:
        out.write_text(json.dumps(result, indent=1))
    return result


RULE_FLOOR = 20  # min_tokens for the simulated rule
RULES = ((0.30, 0.0), (0.34, 0.0), (0.30, 0.2))  # (score, coverage) floors of non-exact matches


def split_floor(queries: list[generate.Query], index_dir: Path) -> list[dict[str, Any]]:
    """Simulate a rule the engine does not have yet: exact matches need RULE_FLOOR tokens
    of evidence, renamed and near matches a score (and coverage) of at least the floors
    (the engine run with min_tokens=RULE_FLOOR, its matches filtered after)."""
    from attribution.search import attribute
    from index.store import Index

    index = Index(index_dir, min_tokens=RULE_FLOOR)
    full = {
        q.id: attribute(q.code, index, language=q.language, filename=q.filename)["matches"]
        for q in queries
    }
    index.close()
    rows = []
    for score, cover in RULES:

        def keep(m: dict[str, Any], score: float = score, cover: float = cover) -> bool:
            return bool(
                m["match_type"] == "exact" or (m["score"] >= score and m["coverage"] >= cover)
            )

        answers = {
            qid: {"matches": ours.compact({"matches": [m for m in ms if keep(m)]})}
            for qid, ms in full.items()
        }
        change: dict[str, Any] = {"min_tokens": RULE_FLOOR, "non-exact score >=": score}
        if cover:
            change["and coverage >="] = cover
        rows.append({"change": change, **summarise(queries, answers)})
    return rows
