"""Whole-file copies: a file whose git blob id is an indexed blob is judged without alignment.

The alignment of a long file against itself is the engine's slowest case and its answer is
known: one exact span over every token. The same evidence rule as `attribute` still
decides (boilerplate k-grams are no evidence; `min_tokens` must be reached), and files that
fail it, or whose language differs from the indexed blob's, go through `attribute` instead.
Other indexed files that hold only part of this one are not reported for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from attribution.core.align import Span
from attribution.core.explain import MAX_ORIGINS, license_counts, summary
from attribution.core.fingerprint import kgram_hashes
from attribution.core.score import judge
from attribution.core.search import Source, rare_tokens
from attribution.core.tokenize import TokenStream
from attribution.index.store import Index


def find_blob(index: Index, blob_id: str) -> int | None:
    """The handle of a live indexed blob by its git blob id (None when absent or removed).

    Reads the segments' tables; belongs in index/store.py as `Index.find_blob`."""
    for i, seg in enumerate(index.segments):
        row = seg.db.execute("SELECT local FROM blobs WHERE blob_id = ?", (blob_id,)).fetchone()
        if row is not None and not bool(index.dead[i][int(row[0])]):
            return int(index.bases[i]) + int(row[0])
    return None


def _rare(stream: TokenStream, index: Index) -> tuple[np.ndarray, np.ndarray]:
    cfg = index.config
    out = []
    for view, tokens in (("exact", stream.text_hash), ("abstract", stream.abstract)):
        hashes = kgram_hashes(tokens, cfg.k)
        qidx, _, df = index.lookup(view, hashes)
        common = np.zeros(hashes.shape[0], dtype=bool)
        common[qidx[df > cfg.max_df]] = True
        out.append(rare_tokens(common, cfg.k, len(stream)))
    return out[0], out[1]


def whole_file_result(
    data: bytes, blob_id: str, language: str, index: Index
) -> dict[str, Any] | None:
    """The SPEC result of a file identical to an indexed blob, or None to use `attribute`."""
    handle = find_blob(index, blob_id)
    if handle is None:
        return None
    stream = index.tokens(handle)
    cfg = index.config
    n = len(stream)
    if stream.language != language or n < cfg.min_tokens:
        return None
    rare_exact, rare_abstract = _rare(stream, index)
    if int((rare_exact | rare_abstract).sum()) < cfg.min_tokens:
        return None
    verdict = judge(stream, stream, [Span(0, n, 0, n)], rare_exact, rare_abstract)
    sources = index.sources(handle)
    if verdict.evidence < cfg.min_tokens or not sources:
        return None
    total_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return {
        "query": {"language": language, "lines": total_lines, "tokens": n},
        "verdict": "match",
        "matches": [_match(stream, verdict.score, sources)],
    }


def _match(stream: TokenStream, score: float, sources: list[Source]) -> dict[str, Any]:
    """The SPEC match of a whole file against an identical blob."""
    n = len(stream)
    lines = [int(stream.line[0]), int(stream.end_line[n - 1])]
    primary, *others = sources
    spans = [{"query_lines": lines, "source_lines": lines, "tokens": n, "match_type": "exact"}]
    return {
        "source": primary.to_json(),
        "match_type": "exact",
        "query_lines": lines,
        "source_lines": lines,
        "spans": spans,
        "tokens": n,
        "coverage": 1.0,
        "score": round(score, 4),
        "copies": len(sources),
        "licenses": license_counts(sources),
        "origins": [
            {**summary(o), "source_lines": lines, "spans": spans} for o in others[:MAX_ORIGINS]
        ],
        "origins_offset": 0,
        "whole_file": True,
    }
