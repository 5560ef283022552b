"""Confusion matrix of reported match types on the attribution benchmark's queries.

For every positive query of a saved query file (bench/attrbench, e.g. queries-s1.jsonl) whose
source is found, the type the answer reports (core/matchtype.py, judged over the whole copy)
and the type the evidence spans alone gave before it (score.judge's match_type), against
the transformation's expected type. Writes bench/results/match_types.json.
Usage: python bench/match_types.py INDEX QUERIES.jsonl
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import attribution.core.search as search
from attribution.index.store import Index

OUT = Path(__file__).resolve().parent / "results" / "match_types.json"
_evidence_type: list[str] = []
_explain = search.explain


def _recording_explain(f: Any, query: Any, *args: Any) -> dict[str, Any]:
    _evidence_type.append(f.judgement.match_type)
    return _explain(f, query, *args)


def main() -> None:
    index, queries = Index(sys.argv[1]), Path(sys.argv[2])
    search.explain = _recording_explain  # type: ignore[assignment]
    counts: dict[str, Counter[str]] = {"now": Counter(), "before": Counter()}
    started, load = time.time(), os.getloadavg()
    for line in queries.read_text().splitlines():
        q = json.loads(line)
        if q["kind"] != "positive":
            continue
        _evidence_type.clear()
        result = search.attribute(q["code"], index, language=q["language"])
        accept = set(q["truth"].get("accept_blobs") or [q["truth"]["blob_id"]])
        for i, m in enumerate(result["matches"]):
            blobs = {m["source"]["blob_id"], *(o.get("blob_id") for o in m["origins"])}
            if blobs & accept:
                want = q["truth"]["match_type"]
                counts["now"][f"{q['transform']}|{want}|{m['match_type']}"] += 1
                counts["before"][f"{q['transform']}|{want}|{_evidence_type[i]}"] += 1
                break
    report = {"queries": str(queries), "started": started, "load_average": load}
    for name, c in counts.items():
        right = sum(n for k, n in c.items() if k.split("|")[1] == k.split("|")[2])
        total = sum(c.values())
        matrix: dict[str, dict[str, int]] = {}
        for k, n in sorted(c.items()):
            transform, _, got = k.split("|")
            matrix.setdefault(transform, {})[got] = n
        report[name] = {
            "right": right,
            "found": total,
            "share": round(right / total, 4),
            "matrix": matrix,
        }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    for name in ("before", "now"):
        print(name, report[name]["share"], json.dumps(report[name]["matrix"]))


if __name__ == "__main__":
    main()
