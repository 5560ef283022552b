"""The attribution benchmark: accuracy against peers, performance, and the published report.

    python bench/attribution_bench.py all        # setup peers, accuracy, scale, report
    python bench/attribution_bench.py accuracy   # queries, engine and peers, scores
    python bench/attribution_bench.py rescore [--rerun-ours]   # score saved answers again
    python bench/attribution_bench.py tuning [--build-variants]   # settings, one at a time
    python bench/attribution_bench.py scale [--max-files N]   # latency vs index size
    python bench/attribution_bench.py report     # docs/benchmarks.md and its charts

Everything built (split index, queries, peers, synthetic corpora) lives in $BENCH_CACHE
(default ~/.cache/attribution-bench); results go to bench/results/ (committed: the README's
and docs/benchmarks.md's figures are copied from them) and the report to docs/. Every
result records the run it was measured in (time, command, commit, load average), and the
report labels each tool and row with its run: `rescore --rerun-ours` measures our engine
in a new run while the peers keep the run they were measured in.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "results"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "stage", choices=["all", "setup", "accuracy", "rescore", "tuning", "scale", "report"]
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-language", type=int, default=40)
    parser.add_argument("--peers", default="dolos,copydetect,jscpd,scanoss")
    parser.add_argument("--max-files", type=int, default=1_000_000)
    parser.add_argument("--build-variants", action="store_true", help="tuning: rebuild k/window")
    parser.add_argument("--rerun-ours", action="store_true", help="rescore: run our engine again")
    args = parser.parse_args()
    if args.stage in ("all", "setup"):
        subprocess.run(["bash", str(HERE / "peers" / "setup.sh")], check=False)
    if args.stage in ("all", "accuracy"):
        from attrbench import accuracy

        accuracy.run(
            seed=args.seed,
            per_language=args.per_language,
            heldout_per_language=args.per_language,
            peer_names=tuple(p for p in args.peers.split(",") if p),
            out=OUT / "accuracy.json",
        )
    if args.stage == "rescore":
        from attrbench import accuracy

        accuracy.rescore(seed=args.seed, out=OUT / "accuracy.json", rerun_ours=args.rerun_ours)
    if args.stage in ("all", "tuning"):
        from attrbench import runs, tuning

        record = runs.start("tuning: our engine, one setting changed at a time")
        result = tuning.run(seed=args.seed, builds=args.build_variants)
        result = {"run": record["id"], "runs": {record["id"]: runs.finish(record)}, **result}
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "tuning.json").write_text(json.dumps(result, indent=1))
    if args.stage in ("all", "scale"):
        from attrbench import scale

        scale.run(seed=args.seed, max_files=args.max_files, out=OUT / "scale.json")
    if args.stage in ("all", "report"):
        from attrbench import report

        report.write(OUT, HERE.parent / "docs")


if __name__ == "__main__":
    main()
