"""Confusion matrix of reported match types on the attribution benchmark's queries.

For every positive query of a saved query file (bench/attrbench, e.g. queries-s1.jsonl) whose
source is found, the type the answer reports (core/matchtype.py, judged over the whole copy)
against the transformation's expected type; beside it, in the same run and on the same
matches, the type an earlier classifier gives (--before TREE: its core/matchtype.py, read
from a checkout such as `git worktree add /work/oldtree HEAD` made before the change) and
the type the evidence spans alone give (score.judge's match_type). Writes
bench/results/match_types.json (or --out), with the queries whose type changed and those
still wrong.
Usage: python bench/match_types.py INDEX QUERIES.jsonl [--before TREE] [--out PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attribution.core.explain as explain_module
import attribution.core.search as search
from attribution.index.store import Index

OUT = Path(__file__).resolve().parent / "results" / "match_types.json"
ROOT = Path(__file__).resolve().parent.parent
Classify = Callable[..., str]


class Recorder:
    """Wraps the classifier and the explain stage: per reported match, in order, the type
    of each classifier and of the evidence spans."""

    def __init__(self, before: Classify | None) -> None:
        self.before = before
        self.rows: list[dict[str, str]] = []
        self.classify, self.explain = explain_module.classify, search.explain

    def install(self) -> None:
        explain_module.classify = self._classify
        search.explain = self._explain  # type: ignore[assignment]

    def _classify(self, q: Any, s: Any, chain: Any) -> str:
        now = self.classify(q, s, chain)
        self.rows.append({"now": now, "before": self.before(q, s, chain) if self.before else now})
        return now

    def _explain(self, f: Any, query: Any, *args: Any) -> dict[str, Any]:
        out = self.explain(f, query, *args)
        self.rows[-1]["evidence"] = f.judgement.match_type
        return out


def load_before(tree: Path) -> tuple[Classify, str]:
    """The classify function of another checkout's core/matchtype.py, and its commit."""
    path = tree / "attribution" / "core" / "matchtype.py"
    if not path.is_file():
        sys.exit(f"--before: no attribution/core/matchtype.py under {tree}")
    spec = importlib.util.spec_from_file_location("matchtype_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.classify, _commit(tree)


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True)
    return done.stdout.decode().strip() or "unknown"


def measure(
    index: Index, queries: Path, rec: Recorder
) -> tuple[dict[str, Counter[str]], list[dict[str, str]]]:
    """Counts of transform|expected|got per classifier, and the queries whose type changed
    or is wrong now."""
    counts: dict[str, Counter[str]] = {"now": Counter(), "before": Counter(), "evidence": Counter()}
    listed: list[dict[str, str]] = []
    for line in queries.read_text().splitlines():
        q = json.loads(line)
        if q["kind"] != "positive":
            continue
        rec.rows.clear()
        result = search.attribute(q["code"], index, language=q["language"])
        if len(rec.rows) != len(result["matches"]):
            sys.exit("the search no longer classifies each reported match once, in order")
        accept = set(q["truth"].get("accept_blobs") or [q["truth"]["blob_id"]])
        for row, m in zip(rec.rows, result["matches"], strict=True):
            if {m["source"]["blob_id"], *(o.get("blob_id") for o in m["origins"])} & accept:
                want = q["truth"]["match_type"]
                for name, got in row.items():
                    counts[name][f"{q['transform']}|{want}|{got}"] += 1
                if row["before"] != row["now"] or row["now"] != want:
                    listed.append({"id": q["id"], "expected": want, **row})
                break
    return counts, listed


def summary(c: Counter[str]) -> dict[str, Any]:
    right = sum(n for k, n in c.items() if k.split("|")[1] == k.split("|")[2])
    total = sum(c.values())
    matrix: dict[str, dict[str, int]] = {}
    for k, n in sorted(c.items()):
        transform, _, got = k.split("|")
        matrix.setdefault(transform, {})[got] = n
    return {"right": right, "found": total, "share": round(right / total, 4), "matrix": matrix}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("index", type=Path)
    parser.add_argument("queries", type=Path)
    parser.add_argument("--before", type=Path, help="a checkout with the classifier to compare")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    before, before_commit = load_before(args.before) if args.before else (None, None)
    rec = Recorder(before)
    rec.install()
    started, load = time.time(), os.getloadavg()
    counts, listed = measure(Index(args.index), args.queries, rec)
    report: dict[str, Any] = {
        "queries": str(args.queries),
        "started": started,
        "load_average": load,
        "commit": _commit(ROOT),
        "before_commit": before_commit,
        **{name: summary(c) for name, c in counts.items()},
        "changed": [c for c in listed if c["before"] != c["now"]],
        "wrong": [c for c in listed if c["now"] != c["expected"]],
    }
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    for name in ("evidence", "before", "now"):
        print(name, report[name]["share"], json.dumps(report[name]["matrix"]))


if __name__ == "__main__":
    main()
