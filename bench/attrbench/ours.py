"""Run the engine on the queries, in process, and keep what scoring needs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from attrbench.generate import Query

TOP = 5


def compact(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The first TOP matches of a SPEC answer, reduced to what is scored."""
    return [
        {
            "blob_id": m["source"]["blob_id"],
            "repo_name": m["source"]["repo_name"],
            "path": m["source"]["path"],
            "score": m["score"],
            "coverage": m["coverage"],
            "match_type": m["match_type"],
            "query_lines": m["query_lines"],
            "source_lines": m["source_lines"],
        }
        for m in answer["matches"][:TOP]
    ]


def run(index_dir: Path, queries: list[Query], **overrides: Any) -> dict[str, dict[str, Any]]:
    """id -> {"ms": wall time of attribute(), "matches": [...]}; the index is opened once."""
    from attribution.core.search import attribute
    from attribution.index.store import Index

    index = Index(index_dir, **overrides)
    for q in queries[:5]:  # warm the caches and the sketch index once
        attribute(q.code, index, language=q.language, filename=q.filename)
    out: dict[str, dict[str, Any]] = {}
    for q in queries:
        started = time.perf_counter()
        answer = attribute(q.code, index, language=q.language, filename=q.filename)
        ms = (time.perf_counter() - started) * 1000.0
        out[q.id] = {"ms": ms, "matches": compact(answer)}
    index.close()
    return out
