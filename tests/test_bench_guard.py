"""Accuracy guard: a small, fast slice of the attribution benchmark (bench/attrbench).

An index of a fixed-seed sample of the shared corpus's packages is built here (10% of
them held out), queries are cut from it and transformed as the full benchmark does, and
recall and precision must stay at or above floors set just under today's figures, so a
change that hurts accuracy fails. The full benchmark: `make bench` (docs/benchmarks.md).
The slice takes about 20 s on the 2-core machine (index build included).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PACKAGES = 30  # sampled packages (seeded): ~13 MB of source
PER_LANGUAGE = 10  # functions per language, each in 7 variants

# Floors: today's figures on this slice (verbatim, type1 and embed 100%, type2 98.3%,
# type3 94.2%, all positives 97.8%, precision 100%, no false positive on 38 negatives)
# less two to four queries' worth, so a real loss of accuracy fails.
FLOORS = {
    "verbatim": 0.97,
    "type1": 0.97,
    "type2": 0.95,
    "type3": 0.92,
    "embed": 0.97,
    "positives": 0.96,
}
PRECISION_FLOOR = 0.99
NEGATIVE_FP_CEILING = 0.03  # at most one of the held-out and boilerplate negatives

pytestmark = pytest.mark.skipif(
    not (CORPUS / "files.parquet").exists(),
    reason=f"shared corpus not found at {CORPUS} (the benchmark guard needs files.parquet)",
)


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "bench"))
    from attrbench import generate, metrics, ours
    from attrbench.prepare import prepare

    started = time.perf_counter()
    work = tmp_path_factory.mktemp("bench-guard")
    prep = prepare(seed=3, corpus=CORPUS / "files.parquet", workdir=work, jobs=2, packages=PACKAGES)
    plan = generate.Plan(
        seed=3, per_language=PER_LANGUAGE, heldout_per_language=6, boilerplate_per_kind=6
    )
    queries = generate.generate(prep.indexed, prep.heldout, plan)
    answers = ours.run(prep.index_dir, queries)
    result = metrics.evaluate(queries, answers)
    result["seconds"] = time.perf_counter() - started
    print(f"bench guard: {len(queries)} queries, {result['seconds']:.1f} s")
    return result


def _recall(ev: dict[str, Any], prefix: str) -> float:
    groups = [g for k, g in ev["by_transform"].items() if k.startswith(prefix)]
    tp = sum(g["tp"] for g in groups)
    n = sum(g["n"] for g in groups)
    assert n >= 20, f"too few {prefix} queries ({n}) for a meaningful floor"
    return tp / n


@pytest.mark.parametrize("transform", ["verbatim", "type1", "type2", "type3", "embed"])
def test_recall_floor_by_transformation(evaluation: dict[str, Any], transform: str) -> None:
    recall = _recall(evaluation, transform)
    assert recall >= FLOORS[transform], f"{transform} recall {recall:.3f} < {FLOORS[transform]}"


def test_overall_recall_and_precision(evaluation: dict[str, Any]) -> None:
    pos, overall = evaluation["positives"], evaluation["overall"]
    assert pos["n"] >= 200
    assert pos["recall"] >= FLOORS["positives"], pos
    assert overall["precision"] >= PRECISION_FLOOR, overall


def test_negatives_stay_quiet(evaluation: dict[str, Any]) -> None:
    groups = [evaluation["by_transform"][k] for k in ("heldout", "boilerplate")]
    n = sum(g["n"] for g in groups)
    fp = sum(g["fp"] for g in groups)
    assert n >= 30
    assert fp / n <= NEGATIVE_FP_CEILING, f"{fp} false positives on {n} negatives"
