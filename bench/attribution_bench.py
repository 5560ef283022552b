"""The attribution benchmark: accuracy against peers, performance, and the published report.

    python bench/attribution_bench.py all        # setup peers, accuracy, scale, report
    python bench/attribution_bench.py accuracy   # queries, engine and peers, scores
    python bench/attribution_bench.py rescore [--rerun-ours]   # score saved answers again
    python bench/attribution_bench.py tuning [--build-variants]   # settings, one at a time
    python bench/attribution_bench.py scale [--max-files N]   # latency vs index size
    python bench/attribution_bench.py report     # docs/benchmarks.md and its charts

Everything built (split index, queries, peers, synthetic corpora) lives in $BENCH_CACHE
(default ~/.cache/attribution-bench); results go to bench/out/ and docs/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"


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
        from attrbench import tuning

        tuning.run(seed=args.seed, builds=args.build_variants, out=OUT / "tuning.json")
    if args.stage in ("all", "scale"):
        from attrbench import scale

        scale.run(seed=args.seed, max_files=args.max_files, out=OUT / "scale.json")
    if args.stage in ("all", "report"):
        from attrbench import report

        report.write(OUT, HERE.parent / "docs")


if __name__ == "__main__":
    main()
