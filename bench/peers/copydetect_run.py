"""copydetect as a peer, pairwise as it works: every corpus file is fingerprinted once
(CodeFingerprint, k = 25, window 1: its defaults), then each query is compared with every
corpus file of its language (compare_files), ranked by the share of the query covered.
Runs in the peers' venv.

    python copydetect_run.py MANIFEST.json OUT.json
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from copydetect import CodeFingerprint, compare_files
from copydetect.defaults import GUARANTEE_THRESHOLD, NOISE_THRESHOLD

K = NOISE_THRESHOLD
WIN = GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1


def fingerprint(path: str) -> CodeFingerprint | None:
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return CodeFingerprint(path, K, WIN)
    except Exception:  # an unreadable or untokenizable file is skipped, as copydetect does
        return None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, offset)) + 1


def main() -> None:
    manifest = json.loads(Path(sys.argv[1]).read_text())
    started = time.perf_counter()
    corpus: dict[str, list[tuple[int, CodeFingerprint]]] = defaultdict(list)
    for f in manifest["corpus"]:
        fp = fingerprint(f["file"])
        if fp is not None:
            corpus[f["language"]].append((f["id"], fp))
    build_s = time.perf_counter() - started
    answers, times = {}, {}
    for q in manifest["queries"]:
        t0 = time.perf_counter()
        qfp = fingerprint(q["file"])
        scored = []
        for cid, fp in corpus.get(q["language"], []) if qfp is not None else []:
            overlap, (sim_q, _sim_s), (sl_q, sl_s) = compare_files(qfp, fp)
            if overlap > 0:
                scored.append((float(sim_q), cid, sl_q, sl_s, fp))
        scored.sort(key=lambda s: (-s[0], s[1]))
        out = []
        for sim, cid, sl_q, sl_s, fp in scored[:5]:
            out.append(
                {
                    "cid": cid,
                    "score": sim,
                    "query_lines": [
                        line_of(qfp.raw_code, int(sl_q[0].min())),
                        line_of(qfp.raw_code, int(sl_q[1].max()) - 1),
                    ],
                    "source_lines": [
                        line_of(fp.raw_code, int(sl_s[0].min())),
                        line_of(fp.raw_code, int(sl_s[1].max()) - 1),
                    ],
                }
            )
        times[q["id"]] = (time.perf_counter() - t0) * 1000
        answers[q["id"]] = out
    Path(sys.argv[2]).write_text(
        json.dumps({"build_s": build_s, "ms": times, "answers": answers, "k": K, "window": WIN})
    )


if __name__ == "__main__":
    main()
