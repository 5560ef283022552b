"""What reading authors from git history costs a build of a git SOURCE.

Makes a repository with `--commits` commits by 40 authors over `--files` Python files (git
fast-import, so making it is quick), then reads it as a SOURCE with the history bound at its
default and at one commit (history nearly off), several times each; prints and writes the
medians and their ratio. Usage: python bench/git_authors.py [--commits N] [--files N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from attribution.index.ingest import IngestLimits, SourceFile, read_sources
from attribution.index.ingest.gitrepo import history_authors

OUT = Path(__file__).resolve().parent / "results" / "git_authors.json"


def make_repo(root: Path, commits: int, files: int) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    stream = []
    for c in range(commits):
        who = f"Author {c % 40}"
        text = f"def f{c}(x):\n    return x + {c}\n".encode()
        when = 1_600_000_000 + c
        stream.append(
            f"commit refs/heads/main\ncommitter {who} <a{c % 40}@example.org> {when} +0000\n"
            "data 1\nx\n"
        )
        for k in range(3):  # each commit touches three files
            stream.append(f"M 100644 inline src/m{(c * 7 + k) % files}.py\ndata {len(text)}\n")
            stream.append(text.decode() + "\n")
    data = "".join(stream).encode()
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=data, check=True)
    subprocess.run(["git", "-C", str(root), "symbolic-ref", "HEAD", "refs/heads/main"], check=True)


def read_seconds(repo: Path, limits: IngestLimits) -> tuple[float, int]:
    started = time.perf_counter()
    items = [i for i in read_sources(str(repo), limits) if isinstance(i, SourceFile)]
    with_authors = sum(1 for i in items if i.git_authors)
    return time.perf_counter() - started, with_authors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--files", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        make_repo(repo, args.commits, args.files)
        full, off = IngestLimits(), IngestLimits(max_history_commits=1)
        runs = {"history": [], "one_commit": [], "log_only": []}
        for _ in range(args.repeat):
            runs["history"].append(read_seconds(repo, full)[0])
            runs["one_commit"].append(read_seconds(repo, off)[0])
            started = time.perf_counter()
            history_authors(str(repo), full.max_history_commits)
            runs["log_only"].append(time.perf_counter() - started)
        _, covered = read_seconds(repo, full)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    result = {
        "commits": args.commits,
        "files": args.files,
        "max_history_commits": IngestLimits().max_history_commits,
        "files_with_history_authors": covered,
        "median_seconds": medians,
        "ratio_history_vs_one_commit": medians["history"] / medians["one_commit"],
        "runs": runs,
        "load_average": os.getloadavg(),
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
