"""SCANOSS winnowing as a peer: character-level WFP (gram 30, window 64, hashes with
line numbers, from the scanoss-winnowing package) of every corpus file into an inverted
index (hash -> files and lines), then each query's WFP looked up in it. Ranked by the
share of the query's hashes found in a file (its coverage). Runs in the peers' venv.

    python scanoss_run.py MANIFEST.json OUT.json
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from scanoss_winnowing.winnowing import Winnowing


def wfp_lines(w: Winnowing, name: str, data: bytes) -> list[tuple[int, int]]:
    """(line, hash) of a file's snippet fingerprints."""
    out = []
    for row in w.wfp_for_contents(name, False, data).splitlines():
        head, _, rest = row.partition("=")
        if head.isdigit():
            line = int(head)
            out += [(line, int(h, 16)) for h in rest.split(",") if h]
    return out


def main() -> None:
    manifest = json.loads(Path(sys.argv[1]).read_text())
    w = Winnowing(all_extensions=True)
    started = time.perf_counter()
    index: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for f in manifest["corpus"]:
        data = Path(f["file"]).read_bytes()
        for line, h in wfp_lines(w, f["file"], data):
            index[h].append((f["id"], line))
    build_s = time.perf_counter() - started
    answers, times = {}, {}
    for q in manifest["queries"]:
        t0 = time.perf_counter()
        data = Path(q["file"]).read_bytes()
        hashes = wfp_lines(w, q["file"], data)
        hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for qline, h in hashes:
            for cid, sline in index.get(h, ()):
                hits[cid].append((qline, sline))
        ranked = sorted(hits.items(), key=lambda kv: (-len({q for q, _ in kv[1]}), kv[0]))[:5]
        out = []
        for cid, pairs in ranked:
            qlines = [p[0] for p in pairs]
            slines = [p[1] for p in pairs]
            out.append(
                {
                    "cid": cid,
                    "score": len(set(qlines)) / max(1, len({ln for ln, _ in hashes})),
                    "query_lines": [min(qlines), max(qlines)],
                    "source_lines": [min(slines), max(slines)],
                }
            )
        times[q["id"]] = (time.perf_counter() - t0) * 1000
        answers[q["id"]] = out
    Path(sys.argv[2]).write_text(
        json.dumps(
            {
                "build_s": build_s,
                "hashes": len(index),
                "ms": times,
                "answers": answers,
                "note": "queries under 256 bytes get no snippet fingerprints (MIN_FILE_SIZE)",
            }
        )
    )


if __name__ == "__main__":
    main()
