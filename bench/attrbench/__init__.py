"""Attribution benchmark: queries cut from a corpus, transformed, run against the engine
and its peers, scored, and published (docs/benchmarks.md).

Stages (each a module): corpus (split, materialise), syntax + transform + boilerplate
(make queries), generate (queries JSONL), ours and peers (run), metrics (score),
scale (latency vs index size), report (markdown and charts).
"""
